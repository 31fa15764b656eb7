"""The audit log: who changed what, when, from what to what, and why. Append-only — this module only adds and reads.

Every workflow change (alert status, assignment, comments), account change and sign-in failure is recorded in the
same transaction as the change itself, so the log and the state can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from collector.models import AuditEntry

SYSTEM_ACTOR = "system"


def record(
    session: Session,
    *,
    actor: str,
    action: str,
    subject_kind: str,
    subject_id: str | int,
    from_value: str | None = None,
    to_value: str | None = None,
    reason: str | None = None,
    at: datetime | None = None,
) -> AuditEntry:
    entry = AuditEntry(
        occurred_at=at or datetime.now(UTC),
        actor=actor,
        action=action,
        subject_kind=subject_kind,
        subject_id=str(subject_id),
        from_value=from_value,
        to_value=to_value,
        reason=reason,
    )
    session.add(entry)
    return entry


def entries(
    session: Session,
    *,
    subject_kind: str | None = None,
    subject_id: str | int | None = None,
    limit: int = 100,
    before: int | None = None,
) -> Sequence[AuditEntry]:
    """Newest first; `before` pages back by entry id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if subject_kind is not None:
        query = query.where(AuditEntry.subject_kind == subject_kind)
    if subject_id is not None:
        query = query.where(AuditEntry.subject_id == str(subject_id))
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return session.scalars(query).all()
