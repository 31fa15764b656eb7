"""Data access for the ingest path. Functions take a Session and never commit: the use case owns the transaction."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import CursorResult, Insert, Table, func, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collector.models import EventExposure, EventSubject, IngestBatch, StoredEvent


def _insert_ignoring_duplicates(session: Session, table: Table, conflict: str | tuple[str, ...]) -> Insert:
    columns = [conflict] if isinstance(conflict, str) else list(conflict)
    dialect = session.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(table).on_conflict_do_nothing(index_elements=columns)
    if dialect == "sqlite":
        return sqlite.insert(table).on_conflict_do_nothing(index_elements=columns)
    raise NotImplementedError(f"database {dialect} is not supported (SQLite and PostgreSQL are)")


def claim_batch(
    session: Session,
    *,
    batch_id: uuid.UUID,
    api_key_pk: int,
    schema_version: str,
    sent_at: datetime,
    event_count: int,
) -> int | None:
    """Record a batch; return its row id, or None when the batch id was stored before."""
    statement = _insert_ignoring_duplicates(session, IngestBatch.__table__, "batch_id")  # type: ignore[arg-type]
    row = session.execute(
        statement.values(
            batch_id=batch_id,
            api_key_id=api_key_pk,
            schema_version=schema_version,
            sent_at=sent_at,
            event_count=event_count,
            stored_count=0,
        ).returning(IngestBatch.id)
    ).first()
    return None if row is None else int(row[0])


def insert_events(session: Session, batch_pk: int, rows: Sequence[dict[str, Any]]) -> int:
    """Insert a batch's event rows, skipping event ids stored before; return how many were new."""
    statement = _insert_ignoring_duplicates(session, StoredEvent.__table__, "event_id")  # type: ignore[arg-type]
    parameters = [{**row, "batch_id": batch_pk} for row in rows]
    result: CursorResult[Any] = session.execute(statement, parameters)  # type: ignore[assignment]
    if session.get_bind().dialect.name == "sqlite":
        # SQLite's executemany counts the rows actually inserted (conflicting ones are skipped).
        return int(result.rowcount)
    # psycopg reports no total for executemany, and RETURNING over a 1,000-row statement makes psycopg re-parse
    # 11,000 placeholders on every batch (half the server's time). The batch row was claimed in this very
    # transaction, so counting its events is exact.
    stored = session.scalar(select(func.count()).select_from(StoredEvent).where(StoredEvent.batch_id == batch_pk))
    return int(stored or 0)


def insert_exposures(session: Session, exposures: Sequence[dict[str, Any]], subjects: Sequence[dict[str, Any]]) -> None:
    """The sensitive-data rows of a batch's events; rows of an event stored before are skipped like the event."""
    exposure_table: Table = EventExposure.__table__  # type: ignore[assignment]
    subject_table: Table = EventSubject.__table__  # type: ignore[assignment]
    if exposures:
        statement = _insert_ignoring_duplicates(session, exposure_table, ("event_id", "category"))
        session.execute(statement, list(exposures))
    if subjects:
        statement = _insert_ignoring_duplicates(session, subject_table, ("event_id", "subject_hash"))
        session.execute(statement, list(subjects))


def set_stored_count(session: Session, batch_pk: int, stored: int) -> None:
    session.get_one(IngestBatch, batch_pk).stored_count = stored
