"""Scheduled evaluation of the windowed rules: whole windows from a watermark, each counted once."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.alerts.ruleset import alert_rules
from collector.alerts.windows import FIRST_RUN, LAG, _advance, evaluate_due_windows
from collector.models import DetectionWatermark
from collector.runtime import Runtime
from rules.detection_engine import run
from rules.detection_schema import CaseEvent, DetectionRule
from tests.collector.alerts.support import alerts, evidence, send, wire_event
from tests.conftest import Keys

UNSANCTIONED_USE = "80722c29-e736-43f4-9c3c-c15fc7302df5"  # three visits in an hour, suppression 7 days
VOLUME = "6caef78a-a54a-482a-8d36-9c8452be7548"  # a day's upload far above the host's week
T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def rule(rule_id: str) -> DetectionRule:
    return next(r for r in alert_rules().windowed if str(r.id) == rule_id)


def visits(*minutes: int) -> list[CaseEvent]:
    return [CaseEvent(at=T0 + timedelta(minutes=m), kind="visit") for m in minutes]


def watermarks(runtime: Runtime) -> dict[str, datetime]:
    with runtime.sessions() as session:
        return {mark.rule_id: mark.evaluated_until for mark in session.scalars(select(DetectionWatermark))}


def test_evaluating_hour_by_hour_records_what_one_run_does_and_what_the_engine_does(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    # Three visits in an hour fire; three more spread so that only the last completes a new hour of three: the
    # engine folds that one into the open alert (suppression 7 days), counting 4.
    cases = visits(0, 20, 40, 90, 110, 130)
    for case in cases:
        send(client, keys, wire_event(case))

    hour = T0.replace(minute=0) + LAG
    recorded = [evaluate_due_windows(runtime, hour + timedelta(hours=h)) for h in range(5)]
    again = evaluate_due_windows(runtime, hour + timedelta(hours=4))

    [alert] = alerts(runtime, UNSANCTIONED_USE)
    [expected] = run(rule(UNSANCTIONED_USE), cases)
    assert alert.event_count == expected.count == 4
    assert (alert.first_seen, alert.last_seen) == (expected.first_seen, expected.last_seen)
    assert sum(recorded) == 2
    assert again == 0
    assert len(evidence(runtime, alert.id)) == 4
    assert watermarks(runtime)[UNSANCTIONED_USE] == T0.replace(minute=0) + timedelta(hours=4)


def test_one_run_over_the_same_events_records_the_same_alert(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    cases = visits(0, 20, 40, 90, 110, 130)
    for case in cases:
        send(client, keys, wire_event(case))

    evaluate_due_windows(runtime, T0 + timedelta(hours=5))

    [alert] = alerts(runtime, UNSANCTIONED_USE)
    assert alert.event_count == 4


def test_a_watermark_moved_by_another_run_stops_this_one(runtime: Runtime) -> None:
    now = T0 + timedelta(days=1)
    evaluate_due_windows(runtime, now)
    moved_to = watermarks(runtime)[UNSANCTIONED_USE]

    with runtime.sessions.begin() as session:
        assert not _advance(session, UNSANCTIONED_USE, moved_to - timedelta(hours=1), moved_to + timedelta(hours=1))
        assert not _advance(session, UNSANCTIONED_USE, None, moved_to + timedelta(hours=1))
    assert watermarks(runtime)[UNSANCTIONED_USE] == moved_to


def test_the_first_run_reviews_the_last_week_not_all_history(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    old = visits(0, 10, 20)
    recent = [CaseEvent(at=c.at + FIRST_RUN + timedelta(days=1), kind="visit") for c in old]
    for case in old + recent:
        send(client, keys, wire_event(case))

    evaluate_due_windows(runtime, recent[-1].at + timedelta(hours=2))

    [alert] = alerts(runtime, UNSANCTIONED_USE)
    assert alert.first_seen == recent[-1].at


def test_a_volume_spike_is_one_alert_counting_the_windows_events_with_its_largest_uploads_as_evidence(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    host = "10.0.0.7"
    day = timedelta(days=1)
    week = [CaseEvent(at=T0 + k * day, kind="network_usage", client=host, bytes_up=2_000_000) for k in range(7)]
    spike = [
        CaseEvent(at=T0 + 7 * day + timedelta(minutes=m), kind="network_usage", client=host, bytes_up=size)
        for m, size in ((0, 30_000_000), (5, 1_000), (10, 30_000_000))
    ]
    sent = [wire_event(case) for case in week + spike]
    for body in sent:
        send(client, keys, body)

    evaluate_due_windows(runtime, T0 + 9 * day)

    [alert] = alerts(runtime, VOLUME)
    assert (alert.client, alert.event_count, alert.severity) == (host, 3, "medium")
    assert alert.group_key == '{"client":"10.0.0.7"}'
    assert alert.last_seen == spike[-1].at
    assert set(evidence(runtime, alert.id)) == {uuid.UUID(body["event_id"]) for body in sent[-3:]}
