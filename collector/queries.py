"""Read use cases: events page by page, and usage aggregated per tool and client."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select
from sqlalchemy.orm import Session

from collector.models import StoredEvent


@dataclass(frozen=True, slots=True)
class EventFilter:
    since: datetime | None = None
    until: datetime | None = None
    tool_id: str | None = None
    client: str | None = None
    source_id: str | None = None
    kind: str | None = None

    def conditions(self) -> list[ColumnElement[bool]]:
        conditions: list[ColumnElement[bool]] = []
        if self.since is not None:
            conditions.append(StoredEvent.occurred_at >= self.since)
        if self.until is not None:
            conditions.append(StoredEvent.occurred_at < self.until)
        if self.tool_id is not None:
            conditions.append(StoredEvent.tool_id == self.tool_id)
        if self.client is not None:
            conditions.append(StoredEvent.client == self.client)
        if self.source_id is not None:
            conditions.append(StoredEvent.source_id == self.source_id)
        if self.kind is not None:
            conditions.append(StoredEvent.kind == self.kind)
        return conditions


@dataclass(frozen=True, slots=True)
class EventPage:
    events: Sequence[StoredEvent]
    next_after: int | None


def list_events(session: Session, where: EventFilter, after: int | None, limit: int) -> EventPage:
    """Events in ingest order; `after` is the cursor from the previous page (keyset, stable under inserts)."""
    query = select(StoredEvent).where(*where.conditions()).order_by(StoredEvent.id).limit(limit + 1)
    if after is not None:
        query = query.where(StoredEvent.id > after)
    rows = list(session.scalars(query))
    has_more = len(rows) > limit
    rows = rows[:limit]
    return EventPage(rows, rows[-1].id if has_more else None)


class UsageGrouping(StrEnum):
    TOOL = "tool"
    CLIENT = "client"
    TOOL_AND_CLIENT = "tool,client"


@dataclass(frozen=True, slots=True)
class UsageRow:
    tool_id: str | None
    client: str | None
    events: int
    flows: int
    clients: int
    bytes_up: int
    bytes_down: int
    first_seen: datetime
    last_seen: datetime


def _usage_query(where: EventFilter, grouping: UsageGrouping) -> Select[Any]:
    group_columns: list[Any] = []
    if grouping in (UsageGrouping.TOOL, UsageGrouping.TOOL_AND_CLIENT):
        group_columns.append(StoredEvent.tool_id)
    if grouping in (UsageGrouping.CLIENT, UsageGrouping.TOOL_AND_CLIENT):
        group_columns.append(StoredEvent.client)
    return (
        select(
            *group_columns,
            func.count().label("events"),
            func.coalesce(func.sum(StoredEvent.flow_count), 0).label("flows"),
            func.count(StoredEvent.client.distinct()).label("clients"),
            func.coalesce(func.sum(StoredEvent.bytes_up), 0).label("bytes_up"),
            func.coalesce(func.sum(StoredEvent.bytes_down), 0).label("bytes_down"),
            func.min(StoredEvent.occurred_at).label("first_seen"),
            func.max(StoredEvent.last_seen).label("last_seen"),
        )
        .where(*where.conditions())
        .group_by(*group_columns)
        # Biggest uploaders first: upload volume is the strongest sign of data leaving.
        .order_by(func.sum(StoredEvent.bytes_up).desc(), *group_columns)
    )


def usage(session: Session, where: EventFilter, grouping: UsageGrouping, offset: int, limit: int) -> list[UsageRow]:
    rows = session.execute(_usage_query(where, grouping).offset(offset).limit(limit)).mappings()
    return [
        UsageRow(
            tool_id=row.get("tool_id"),
            client=row.get("client"),
            events=int(row["events"]),
            flows=int(row["flows"]),
            clients=int(row["clients"]),
            bytes_up=int(row["bytes_up"]),
            bytes_down=int(row["bytes_down"]),
            first_seen=row["first_seen"],
            last_seen=row["last_seen"],
        )
        for row in rows
    ]
