"""Events per day and AI tool over a window: the daily rollup where it exists, the events table for the rest.

The rollup job fills `daily_usage` for finished days; the days after its last one (today, and any it has not
reached yet) are grouped from the events, which the (occurred_at, id) index bounds to those days only.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any

from sqlalchemy import ColumnElement, func, select
from sqlalchemy.orm import Session

from collector.models import DailyUsage, StoredEvent


@dataclass(frozen=True, slots=True)
class DayToolUsage:
    day: date
    tool_id: str  # "" for events of no catalogued tool, as in the rollup
    events: int
    people: int  # distinct clients that day (people, or hosts for network events)
    bytes_up: int


def _day_of(session: Session, column: Any) -> ColumnElement[Any]:
    """The UTC calendar day of a timestamp, in each backend's own words."""
    if session.get_bind().dialect.name == "postgresql":
        return func.date(func.timezone("UTC", column))
    return func.date(column)  # SQLite keeps UTC text: date() reads its first ten characters


def _as_date(value: object) -> date:
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value))


def last_rolled_up_day(session: Session, first: date) -> date | None:
    return session.scalar(select(func.max(DailyUsage.day)).where(DailyUsage.day >= first))


def usage_by_day(session: Session, first: date, last: date) -> list[DayToolUsage]:
    """One row per day and tool with any events from `first` to `last` inclusive (UTC days)."""
    rolled = last_rolled_up_day(session, first)
    rows: list[DayToolUsage] = []
    if rolled is not None:
        rollup = session.execute(
            select(
                DailyUsage.day,
                DailyUsage.tool_id,
                func.sum(DailyUsage.events),
                # One row per kind and day: the most people of any kind is a lower bound, never a double count.
                func.max(DailyUsage.clients),
                func.sum(DailyUsage.bytes_up),
            )
            .where(DailyUsage.day >= first, DailyUsage.day <= min(rolled, last))
            .group_by(DailyUsage.day, DailyUsage.tool_id)
        )
        rows += [
            DayToolUsage(_as_date(day), tool or "", int(events), int(people), int(up or 0))
            for day, tool, events, people, up in rollup
        ]
    start_day = max(first, rolled + timedelta(days=1)) if rolled is not None else first
    if start_day > last:
        return rows
    start = datetime.combine(start_day, time.min, tzinfo=UTC)
    end = datetime.combine(last + timedelta(days=1), time.min, tzinfo=UTC)
    day = _day_of(session, StoredEvent.occurred_at).label("day")
    live = session.execute(
        select(
            day,
            StoredEvent.tool_id,
            func.count(),
            func.count(StoredEvent.client.distinct()),
            func.coalesce(func.sum(StoredEvent.bytes_up), 0),
        )
        .where(StoredEvent.occurred_at >= start, StoredEvent.occurred_at < end)
        .group_by(day, StoredEvent.tool_id)
    )
    rows += [
        DayToolUsage(_as_date(day_value), tool or "", int(events), int(people), int(up))
        for day_value, tool, events, people, up in live
    ]
    return rows
