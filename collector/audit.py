"""The audit log: who changed what, when, from what to what, and why. Append-only — this module only adds and reads.

Every workflow change (alert status, assignment, comments), account change and sign-in failure is recorded in the
same transaction as the change itself, so the log and the state can never disagree.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, slots=True)
class AuditFilter:
    subject_kinds: tuple[str, ...] = ()  # empty: every kind
    subject_id: str | None = None
    actor: str | None = None
    action: str | None = None


def entries(
    session: Session, where: AuditFilter = AuditFilter(), *, limit: int = 100, before: int | None = None
) -> Sequence[AuditEntry]:
    """Newest first; `before` pages back by entry id."""
    query = select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)
    if where.subject_kinds:
        query = query.where(AuditEntry.subject_kind.in_(where.subject_kinds))
    if where.subject_id is not None:
        query = query.where(AuditEntry.subject_id == where.subject_id)
    if where.actor is not None:
        query = query.where(AuditEntry.actor == where.actor)
    if where.action is not None:
        query = query.where(AuditEntry.action == where.action)
    if before is not None:
        query = query.where(AuditEntry.id < before)
    return session.scalars(query).all()
