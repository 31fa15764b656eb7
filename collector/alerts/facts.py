"""Stored events as detection sees them: kind, who, which tool and its status, labels, entity types, bytes.

Detection never needs the text, so nothing here reads it: labels and entity types come from the classification the
collector stored (`detail.classification`) or the findings the browser extension sent (`detail.findings`), and a
deployment that keeps prompt text (`detail.text`) still has it ignored.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, cast
from uuid import UUID

from sqlalchemy import ColumnElement, Select, and_, select

from collector.models import StoredEvent
from collector.policy import Policy
from events.labels import DataLabel
from rules.catalog import Catalog
from rules.detection_schema import CaseEvent, EventKind, Match, ToolStatus

_LABELS = frozenset(label.value for label in DataLabel)


@dataclass(frozen=True, slots=True)
class Fact:
    """One event: its id (for evidence) and the facts the rules match on."""

    event_id: UUID
    event: CaseEvent


class ToolStatuses:
    """The policy's status of each tool, resolved once per tool for one evaluation (the policy is read once)."""

    def __init__(self, policy: Policy, catalog: Catalog) -> None:
        self._policy = policy
        self._catalog = catalog
        self._known: dict[str | None, str] = {}

    def of(self, tool_id: str | None) -> str:
        status = self._known.get(tool_id)
        if status is None:
            entry = self._catalog.tools.get(tool_id) if tool_id is not None else None
            resolved, _ = self._policy.resolve(tool_id, entry.tool.category.value if entry else None)
            status = self._known[tool_id] = resolved.value
        return status


def content_facts(detail: Mapping[str, Any] | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """Labels and entity types of an event, from the collector's classification or the device's findings."""
    if not detail:
        return (), ()
    found = detail.get("classification") or detail.get("findings")
    if not isinstance(found, Mapping):
        return (), ()
    labels = tuple(label for label in found.get("labels") or () if label in _LABELS)
    counts = found.get("entity_counts")
    entity_types = tuple(sorted(counts)) if isinstance(counts, Mapping) else ()
    return labels, entity_types


def fact(
    *,
    event_id: UUID,
    kind: str,
    client: str,
    tool_id: str | None,
    source_id: str,
    at: datetime,
    bytes_up: int,
    detail: Mapping[str, Any] | None,
    statuses: ToolStatuses,
) -> Fact:
    labels, entity_types = content_facts(detail)
    # model_construct: the values come from validated events already; validating a million of them again would
    # cost more than the rules.
    event = CaseEvent.model_construct(
        at=at,
        kind=cast(EventKind, kind),
        client=client,
        tool_id=tool_id,
        tool_status=cast(ToolStatus, statuses.of(tool_id)),
        labels=cast(tuple[DataLabel, ...], labels),
        entity_types=entity_types,
        bytes_up=bytes_up,
        department=None,  # the collector does not know departments yet: a rule grouping by it sees one group
        source_id=source_id,
    )
    return Fact(event_id, event)


def fact_of_row(row: Mapping[Any, Any], statuses: ToolStatuses) -> Fact:
    """A fact from an events row as prepared for insertion."""
    return fact(
        event_id=row["event_id"],
        kind=row["kind"],
        client=row["client"],
        tool_id=row["tool_id"],
        source_id=row["source_id"],
        at=row["occurred_at"],
        bytes_up=row["bytes_up"],
        detail=row.get("detail"),
        statuses=statuses,
    )


def facts_of(rows: Iterable[Sequence[Any]], statuses: ToolStatuses) -> list[Fact]:
    """Facts from rows selected with `event_columns`, by position (a million `RowMapping` lookups cost seconds)."""
    found = []
    for row in rows:
        event_id, kind, client, tool_id, source_id, at, bytes_up = row[:7]
        detail = row[7] if len(row) > 7 else None
        found.append(
            fact(
                event_id=event_id,
                kind=kind,
                client=client,
                tool_id=tool_id,
                source_id=source_id,
                at=at,
                bytes_up=bytes_up,
                detail=detail,
                statuses=statuses,
            )
        )
    return found


def needs_content(match: Match) -> bool:
    return bool(match.labels_any or match.entity_types_any)


def event_columns(with_detail: bool) -> Select[Any]:
    """The columns a fact is made of; `detail` (a JSON document per row) only when the rule looks at labels."""
    e = StoredEvent
    columns: list[Any] = [e.event_id, e.kind, e.client, e.tool_id, e.source_id, e.occurred_at, e.bytes_up]
    return select(*columns, e.detail) if with_detail else select(*columns)


def sql_match(match: Match) -> ColumnElement[bool]:
    """The part of a match SQL can test on columns: the kinds and whether the tool is catalogued."""
    conditions: list[ColumnElement[bool]] = []
    if match.kinds:
        conditions.append(StoredEvent.kind.in_(match.kinds))
    if match.catalogued is True:
        conditions.append(StoredEvent.tool_id.is_not(None))
    elif match.catalogued is False:
        conditions.append(StoredEvent.tool_id.is_(None))
    return and_(True, *conditions)
