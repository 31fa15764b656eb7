"""Retention purge: per kind, in chunks, everything older than configured goes and nothing newer does."""

from __future__ import annotations

import uuid
from datetime import timedelta

from sqlalchemy import func, select

from collector.job_settings import RetentionSettings
from collector.models import (
    Alert,
    AlertComment,
    AlertDelivery,
    AlertEvent,
    AuditEntry,
    DailyUsage,
    EventExposure,
    EventSubject,
    IngestBatch,
    StoredEvent,
    User,
    UserSession,
)
from collector.runtime import Runtime
from collector.scheduling.retention import purge
from tests.collector.scheduling.conftest import NOW, RowsFactory

DAY = timedelta(days=1)
SETTINGS = RetentionSettings(
    events_days=30,
    closed_alerts_days=60,
    sessions_days=7,
    deliveries_days=20,
    audit_days=90,
    daily_usage_days=100,
    chunk_rows=10,
)


def count(runtime: Runtime, model: type) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def test_old_events_go_in_chunks_with_their_exposures_subjects_evidence_and_emptied_batches(
    runtime: Runtime, rows: RowsFactory
) -> None:
    with rows() as add:
        old_batch = add.batch(received_at=NOW - 40 * DAY)
        old = [add.event(NOW - (31 + n % 5) * DAY, batch=old_batch) for n in range(25)]  # 25 rows: three chunks
        recent = add.event(NOW - 29 * DAY)
        alert = add.alert()
        for event in (old[0], recent):
            add.session.add_all(
                [
                    EventExposure(event_id=event.event_id, category="pii", client="ana", occurred_at=event.occurred_at),
                    EventSubject(event_id=event.event_id, subject_hash=uuid.uuid4().hex),
                    AlertEvent(alert_id=alert.id, event_id=event.event_id),
                ]
            )

    deleted = purge(runtime.sessions, SETTINGS, NOW)

    assert deleted["events"] == 25
    assert deleted["ingest_batches"] == 1
    with runtime.sessions() as session:
        assert session.scalars(select(StoredEvent.event_id)).all() == [recent.event_id]
        for model in (EventExposure, EventSubject, AlertEvent):
            assert session.scalars(select(model.event_id)).all() == [recent.event_id]
        assert session.get(IngestBatch, old_batch.id) is None
        assert session.get(Alert, alert.id) is not None, "an open alert stays though its evidence aged out"


def test_closed_alerts_sessions_deliveries_audit_and_rollups_go_after_their_own_periods(
    runtime: Runtime, rows: RowsFactory
) -> None:
    with rows() as add:
        user = User(username="rev", role="reviewer", password_hash="x")
        add.session.add(user)
        add.session.flush()
        closed_old = add.alert(status="resolved", at=NOW - 61 * DAY)
        closed_recent = add.alert(status="dismissed", at=NOW - 59 * DAY)
        open_old = add.alert(status="new", at=NOW - 400 * DAY)
        add.session.add_all(
            [
                AlertComment(alert_id=closed_old.id, author_id=user.id, body="done", created_at=NOW - 61 * DAY),
                AlertDelivery(
                    alert_id=closed_old.id,
                    destination="soar",
                    status="delivered",
                    next_attempt_at=NOW - 61 * DAY,
                    created_at=NOW - 19 * DAY,
                ),
                AlertDelivery(
                    alert_id=open_old.id,
                    destination="soar",
                    status="failed",
                    next_attempt_at=NOW - 21 * DAY,
                    created_at=NOW - 21 * DAY,
                ),
                AlertDelivery(
                    alert_id=closed_recent.id,
                    destination="soar",
                    status="delivered",
                    next_attempt_at=NOW,
                    created_at=NOW - 19 * DAY,
                ),
                UserSession(
                    token_sha256="a" * 64, user_id=user.id, last_seen_at=NOW - 9 * DAY, expires_at=NOW - 8 * DAY
                ),
                UserSession(
                    token_sha256="b" * 64,
                    user_id=user.id,
                    last_seen_at=NOW - 9 * DAY,
                    expires_at=NOW + DAY,
                    revoked_at=NOW - 8 * DAY,
                ),
                UserSession(
                    token_sha256="c" * 64, user_id=user.id, last_seen_at=NOW - 6 * DAY, expires_at=NOW - 6 * DAY
                ),
                *(
                    AuditEntry(
                        occurred_at=NOW - back * DAY,
                        actor="system",
                        action="alert.created",
                        subject_kind="alert",
                        subject_id="1",
                    )
                    for back in (91, 91, 89)
                ),
                *(
                    DailyUsage(
                        day=(NOW - back * DAY).date(), tool_id="", kind="prompt", events=1, clients=1, bytes_up=0
                    )
                    for back in (101, 99)
                ),
            ]
        )

    deleted = purge(runtime.sessions, SETTINGS, NOW)

    assert deleted == {
        "events": 0,
        "ingest_batches": 0,
        "closed_alerts": 1,
        "deliveries": 1,  # the old one of the open alert; the closed alert's went with it
        "sessions": 2,
        "audit_log": 2,
        "daily_usage": 1,
    }
    with runtime.sessions() as session:
        assert set(session.scalars(select(Alert.id))) == {closed_recent.id, open_old.id}
        assert session.scalars(select(AlertDelivery.alert_id)).all() == [closed_recent.id]
        assert session.scalars(select(UserSession.token_sha256)).all() == ["c" * 64]
    assert count(runtime, AlertComment) == 0
    assert count(runtime, AuditEntry) == 1
    assert count(runtime, DailyUsage) == 1


def test_a_second_run_finds_nothing_left_to_delete(runtime: Runtime, rows: RowsFactory) -> None:
    with rows() as add:
        for _ in range(12):
            add.event(NOW - 31 * DAY)

    purge(runtime.sessions, SETTINGS, NOW)

    assert set(purge(runtime.sessions, SETTINGS, NOW).values()) == {0}
