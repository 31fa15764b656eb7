"""Retention purge: each kind of data is deleted once older than its configured number of days.

Deletes run in chunks of `chunk_rows`, each in its own short transaction, so a first purge of a year of events
does not lock the tables ingest writes to. A run goes on until nothing older than the cut-off is left, so after a
run nothing is kept longer than configured (rows arriving during the run with old dates are caught by the next).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Select, delete, exists, or_, select
from sqlalchemy.orm import Session, sessionmaker

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
    UserSession,
)
from collector.scheduling.sql import rowcount
from collector.triage import CLOSED

log = logging.getLogger(__name__)

# Deletes one chunk (at most `limit` rows of the kind) in the session's transaction; returns how many went.
ChunkDelete = Callable[[Session, int], int]


def _delete_ids(session: Session, model: Any, ids: list[int]) -> int:
    if not ids:
        return 0
    statement = delete(model).where(model.id.in_(ids)).execution_options(synchronize_session=False)
    return rowcount(session.execute(statement))


def _ids(session: Session, query: Select[Any], limit: int) -> list[int]:
    return list(session.scalars(query.limit(limit)))


def events_chunk(cutoff: datetime) -> ChunkDelete:
    """Events by when they occurred, with the rows that point at them: exposures, subjects, alert evidence."""

    def run(session: Session, limit: int) -> int:
        rows = session.execute(
            select(StoredEvent.id, StoredEvent.event_id)
            .where(StoredEvent.occurred_at < cutoff)
            .order_by(StoredEvent.id)
            .limit(limit)
        ).all()
        if not rows:
            return 0
        # Explicit id lists rather than repeating the subquery: a row committed between two statements must not
        # be picked by one and missed by the other.
        event_ids = [row.event_id for row in rows]
        for dependent in (EventExposure, EventSubject, AlertEvent):
            session.execute(
                delete(dependent).where(dependent.event_id.in_(event_ids)).execution_options(synchronize_session=False)
            )
        return _delete_ids(session, StoredEvent, [row.id for row in rows])

    return run


def batches_chunk(cutoff: datetime) -> ChunkDelete:
    """Ingest batch records (the ids that make a re-sent batch a no-op) once none of their events is left."""

    def run(session: Session, limit: int) -> int:
        query = select(IngestBatch.id).where(
            IngestBatch.received_at < cutoff, ~exists().where(StoredEvent.batch_id == IngestBatch.id)
        )
        return _delete_ids(session, IngestBatch, _ids(session, query.order_by(IngestBatch.id), limit))

    return run


def closed_alerts_chunk(cutoff: datetime) -> ChunkDelete:
    """Resolved and dismissed alerts with no activity or change since the cut-off, with what hangs off them."""

    def run(session: Session, limit: int) -> int:
        query = select(Alert.id).where(
            Alert.status.in_([str(status) for status in CLOSED]),
            Alert.last_seen < cutoff,
            Alert.updated_at < cutoff,
        )
        ids = _ids(session, query.order_by(Alert.id), limit)
        if not ids:
            return 0
        for dependent in (AlertEvent, AlertComment, AlertDelivery):
            session.execute(
                delete(dependent).where(dependent.alert_id.in_(ids)).execution_options(synchronize_session=False)
            )
        return _delete_ids(session, Alert, ids)

    return run


def simple_chunk(model: Any, *conditions: Any) -> ChunkDelete:
    """Rows of a table nothing else points at, matching `conditions`."""

    def run(session: Session, limit: int) -> int:
        return _delete_ids(session, model, _ids(session, select(model.id).where(*conditions).order_by(model.id), limit))

    return run


@dataclass(frozen=True, slots=True)
class PurgeStep:
    kind: str
    chunk: ChunkDelete


def purge_steps(settings: RetentionSettings, now: datetime) -> list[PurgeStep]:
    """In dependency order: events before the batches they came in, alerts before (and with) their deliveries."""

    def before(days: int) -> datetime:
        return now - timedelta(days=days)

    events_cutoff = before(settings.events_days)
    sessions_cutoff = before(settings.sessions_days)
    return [
        PurgeStep("events", events_chunk(events_cutoff)),
        PurgeStep("ingest_batches", batches_chunk(events_cutoff)),
        PurgeStep("closed_alerts", closed_alerts_chunk(before(settings.closed_alerts_days))),
        PurgeStep(
            "deliveries", simple_chunk(AlertDelivery, AlertDelivery.created_at < before(settings.deliveries_days))
        ),
        PurgeStep(
            "sessions",
            simple_chunk(
                UserSession, or_(UserSession.expires_at < sessions_cutoff, UserSession.revoked_at < sessions_cutoff)
            ),
        ),
        PurgeStep("audit_log", simple_chunk(AuditEntry, AuditEntry.occurred_at < before(settings.audit_days))),
        PurgeStep("daily_usage", simple_chunk(DailyUsage, DailyUsage.day < before(settings.daily_usage_days).date())),
    ]


def purge(sessions: sessionmaker[Session], settings: RetentionSettings, now: datetime) -> dict[str, int]:
    """Delete everything older than its retention; returns the rows deleted per kind."""
    deleted: dict[str, int] = {}
    for step in purge_steps(settings, now):
        total = 0
        while True:
            with sessions.begin() as session:
                count = step.chunk(session, settings.chunk_rows)
            total += count
            if count < settings.chunk_rows:
                break
        deleted[step.kind] = total
        if total:
            log.info("retention: deleted %d %s", total, step.kind.replace("_", " "))
    return deleted
