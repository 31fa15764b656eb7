"""The review workflow of an alert as a transition table, not a long `match`.

new → triaged → escalated → resolved / dismissed; a reviewer may also resolve or dismiss straight from new or
triaged, and reopen a closed alert (to triaged) when new evidence arrives. Closing needs a resolution (why), and
every change, with who, when, from, to and why, goes to the audit log by the use case that applies it.
"""

from __future__ import annotations

from enum import StrEnum


class Status(StrEnum):
    NEW = "new"
    TRIAGED = "triaged"
    ESCALATED = "escalated"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Resolution(StrEnum):
    REMEDIATED = "remediated"  # resolved: the data was removed, the secret rotated, the person coached
    ACCEPTED_RISK = "accepted_risk"
    FALSE_POSITIVE = "false_positive"
    DUPLICATE = "duplicate"
    BENIGN = "benign"  # real, and allowed (a sanctioned use the rule could not know about)


CLOSED = frozenset({Status.RESOLVED, Status.DISMISSED})

TRANSITIONS: dict[Status, frozenset[Status]] = {
    Status.NEW: frozenset({Status.TRIAGED, Status.ESCALATED, Status.RESOLVED, Status.DISMISSED}),
    Status.TRIAGED: frozenset({Status.ESCALATED, Status.RESOLVED, Status.DISMISSED}),
    Status.ESCALATED: frozenset({Status.RESOLVED, Status.DISMISSED, Status.TRIAGED}),
    Status.RESOLVED: frozenset({Status.TRIAGED}),
    Status.DISMISSED: frozenset({Status.TRIAGED}),
}

# Which resolutions fit which closing status: a dismissal says the alert was wrong or not worth acting on.
RESOLUTIONS: dict[Status, frozenset[Resolution]] = {
    Status.RESOLVED: frozenset({Resolution.REMEDIATED, Resolution.ACCEPTED_RISK}),
    Status.DISMISSED: frozenset({Resolution.FALSE_POSITIVE, Resolution.DUPLICATE, Resolution.BENIGN}),
}


class InvalidTransition(ValueError):
    """The change is not in the table, or it lacks what it needs (a resolution, a reason); the message says which."""


def check_transition(
    current: Status, target: Status, *, resolution: Resolution | None = None, reason: str | None = None
) -> None:
    if target not in TRANSITIONS[current]:
        allowed = ", ".join(sorted(TRANSITIONS[current])) or "nothing"
        raise InvalidTransition(f"an alert that is {current} can go to {allowed}, not {target}")
    if target in CLOSED:
        if resolution is None:
            raise InvalidTransition(f"closing an alert as {target} needs a resolution")
        if resolution not in RESOLUTIONS[target]:
            fitting = ", ".join(sorted(RESOLUTIONS[target]))
            raise InvalidTransition(f"{resolution} does not fit {target}; use one of {fitting}")
    elif resolution is not None:
        raise InvalidTransition(f"only closing an alert takes a resolution, not moving it to {target}")
    if current in CLOSED and not (reason and reason.strip()):
        raise InvalidTransition("reopening a closed alert needs a reason")
