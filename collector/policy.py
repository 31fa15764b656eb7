"""The organisation's AI-tool policy: sanctioned, tolerated or unsanctioned per tool, per category, by default.

Policy is configuration, not catalog: the catalog says what a tool is, the organisation says whether it is allowed.
A tool's status is its own entry if set, else its category's, else the default (unsanctioned until an admin says
otherwise: an unknown AI tool is not approved). Every change is a new version in an append-only history.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from enum import StrEnum

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.models import PolicyChange, PolicyEntry


class ToolStatus(StrEnum):
    SANCTIONED = "sanctioned"
    TOLERATED = "tolerated"
    UNSANCTIONED = "unsanctioned"


class SubjectKind(StrEnum):
    TOOL = "tool"
    CATEGORY = "category"
    DEFAULT = "default"


DEFAULT_SUBJECT = "*"
BUILT_IN_DEFAULT = ToolStatus.UNSANCTIONED


@dataclass(frozen=True, slots=True)
class Policy:
    version: int
    default: ToolStatus
    categories: dict[str, ToolStatus]
    tools: dict[str, ToolStatus]

    def resolve(self, tool_id: str | None, category: str | None) -> tuple[ToolStatus, str]:
        """The status that applies to a tool, and which entry decided it."""
        if tool_id is not None and tool_id in self.tools:
            return self.tools[tool_id], f"tool {tool_id}"
        if category is not None and category in self.categories:
            return self.categories[category], f"category {category}"
        return self.default, "default"


def current_policy(session: Session) -> Policy:
    entries = session.scalars(select(PolicyEntry)).all()
    version = session.scalar(select(func.max(PolicyChange.id))) or 0
    by_kind: dict[str, dict[str, ToolStatus]] = {kind.value: {} for kind in SubjectKind}
    for entry in entries:
        by_kind[entry.subject_kind][entry.subject] = ToolStatus(entry.status)
    default = by_kind[SubjectKind.DEFAULT].get(DEFAULT_SUBJECT, BUILT_IN_DEFAULT)
    return Policy(version, default, by_kind[SubjectKind.CATEGORY], by_kind[SubjectKind.TOOL])


def change(
    session: Session,
    kind: SubjectKind,
    subject: str,
    status: ToolStatus | None,
    *,
    actor: str,
    reason: str | None,
) -> PolicyChange | None:
    """Set (or, with status None, remove) one entry; return the recorded change, or None if nothing changed."""
    if kind is SubjectKind.DEFAULT:
        subject = DEFAULT_SUBJECT
        if status is None:
            status = BUILT_IN_DEFAULT
    entry = session.scalar(select(PolicyEntry).where(PolicyEntry.subject_kind == kind, PolicyEntry.subject == subject))
    old = entry.status if entry is not None else None
    new = status.value if status is not None else None
    if old == new:
        return None
    record = PolicyChange(
        subject_kind=kind.value, subject=subject, old_status=old, new_status=new, actor=actor, reason=reason
    )
    session.add(record)
    session.flush()
    if entry is None and new is not None:
        session.add(PolicyEntry(subject_kind=kind.value, subject=subject, status=new, change_id=record.id))
    elif entry is not None and new is None:
        session.delete(entry)
    elif entry is not None and new is not None:
        entry.status, entry.change_id = new, record.id
    return record


def history(session: Session, limit: int, before: int | None = None) -> Sequence[PolicyChange]:
    query = select(PolicyChange).order_by(PolicyChange.id.desc()).limit(limit)
    if before is not None:
        query = query.where(PolicyChange.id < before)
    return session.scalars(query).all()
