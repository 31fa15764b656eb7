"""Daily usage rollups: events per UTC day, tool and kind, so trends read a few rows instead of every event.

A day is rolled up once it has closed. Each run replaces the rows of every day not yet rolled up (catching up
after downtime) and of the last `late_days` closed days, because sensors that were offline deliver their events
late. Replacing a day's rows in one transaction makes a run idempotent: the same events give the same rows.
"""

from __future__ import annotations

import logging
from datetime import UTC, date, datetime, time, timedelta

from sqlalchemy import delete, distinct, func, select
from sqlalchemy.orm import Session, sessionmaker

from collector.models import DailyUsage, StoredEvent

log = logging.getLogger(__name__)

ONE_DAY = timedelta(days=1)


def days_to_roll_up(session: Session, today: date, late_days: int) -> list[date]:
    """Closed days (before `today`, UTC) that are missing or still open to late events, oldest first."""
    last_done = session.scalar(select(func.max(DailyUsage.day)))
    if last_done is not None:
        catch_up_from = last_done + ONE_DAY
    else:
        first_event = session.scalar(select(func.min(StoredEvent.occurred_at)))
        if first_event is None:
            return []
        catch_up_from = first_event.astimezone(UTC).date()
    start = min(catch_up_from, today - timedelta(days=late_days))
    return [start + ONE_DAY * offset for offset in range((today - start).days)]


def roll_up_day(session: Session, day: date) -> int:
    """Replace the day's rollup rows with counts from its events; returns the rows written."""
    start = datetime.combine(day, time(), UTC)
    tool = func.coalesce(StoredEvent.tool_id, "")
    counts = session.execute(
        select(
            tool,
            StoredEvent.kind,
            func.count(),
            func.count(distinct(StoredEvent.client)),
            func.coalesce(func.sum(StoredEvent.bytes_up), 0),
        )
        .where(StoredEvent.occurred_at >= start, StoredEvent.occurred_at < start + ONE_DAY)
        .group_by(tool, StoredEvent.kind)
    ).all()
    session.execute(delete(DailyUsage).where(DailyUsage.day == day).execution_options(synchronize_session=False))
    session.add_all(
        DailyUsage(day=day, tool_id=tool_id, kind=kind, events=events, clients=clients, bytes_up=int(bytes_up))
        for tool_id, kind, events, clients, bytes_up in counts
    )
    return len(counts)


def roll_up(sessions: sessionmaker[Session], now: datetime, late_days: int) -> int:
    """Bring the rollups up to yesterday (UTC); one transaction per day. Returns the days rolled up."""
    with sessions() as session:
        days = days_to_roll_up(session, now.astimezone(UTC).date(), late_days)
    for day in days:
        with sessions.begin() as session:
            rows = roll_up_day(session, day)
        log.debug("daily usage for %s: %d rows", day, rows)
    return len(days)
