"""The triage transition table: every allowed move, every refused one, and what closing and reopening need."""

from __future__ import annotations

import itertools

import pytest

from collector.triage import (
    CLOSED,
    RESOLUTIONS,
    TRANSITIONS,
    InvalidTransition,
    Resolution,
    Status,
    check_transition,
)


def _fitting(target: Status) -> Resolution | None:
    return min(RESOLUTIONS[target]) if target in CLOSED else None


@pytest.mark.parametrize(("current", "target"), [(c, t) for c in Status for t in TRANSITIONS[c]])
def test_when_a_move_is_in_the_table_then_it_is_allowed(current: Status, target: Status) -> None:
    check_transition(current, target, resolution=_fitting(target), reason="checked the evidence")


@pytest.mark.parametrize(
    ("current", "target"),
    [(c, t) for c, t in itertools.product(Status, Status) if t not in TRANSITIONS[c]],
)
def test_when_a_move_is_not_in_the_table_then_it_is_refused_saying_what_is_allowed(
    current: Status, target: Status
) -> None:
    with pytest.raises(InvalidTransition, match=f"can go to .*, not {target}"):
        check_transition(current, target, resolution=_fitting(target), reason="because")


def test_when_an_alert_is_closed_then_a_fitting_resolution_is_required() -> None:
    with pytest.raises(InvalidTransition, match="needs a resolution"):
        check_transition(Status.NEW, Status.DISMISSED)
    with pytest.raises(InvalidTransition, match="does not fit dismissed"):
        check_transition(Status.NEW, Status.DISMISSED, resolution=Resolution.REMEDIATED)
    with pytest.raises(InvalidTransition, match="only closing an alert takes a resolution"):
        check_transition(Status.NEW, Status.TRIAGED, resolution=Resolution.DUPLICATE)
    check_transition(Status.TRIAGED, Status.DISMISSED, resolution=Resolution.FALSE_POSITIVE)


def test_when_a_closed_alert_is_reopened_then_a_reason_is_required() -> None:
    with pytest.raises(InvalidTransition, match="needs a reason"):
        check_transition(Status.RESOLVED, Status.TRIAGED, reason="  ")
    check_transition(Status.RESOLVED, Status.TRIAGED, reason="the same person pasted the list again")


def test_every_status_can_be_left_and_every_closed_status_reached() -> None:
    assert all(TRANSITIONS[status] for status in Status)
    reachable = set().union(*TRANSITIONS.values())
    assert reachable >= CLOSED
    assert Status.NEW not in reachable  # nothing goes back to new: it means "not looked at yet"
