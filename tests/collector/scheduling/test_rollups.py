"""Daily usage rollups: closed days only, idempotent, catching up missed days and late events."""

from __future__ import annotations

from datetime import date, timedelta

from sqlalchemy import select

from collector.models import DailyUsage
from collector.runtime import Runtime
from collector.scheduling.rollups import roll_up
from tests.collector.scheduling.conftest import NOW, RowsFactory

DAY = timedelta(days=1)


def usage(runtime: Runtime) -> set[tuple[date, str, str, int, int, int]]:
    with runtime.sessions() as session:
        return {
            (row.day, row.tool_id, row.kind, row.events, row.clients, row.bytes_up)
            for row in session.scalars(select(DailyUsage))
        }


def test_closed_days_are_counted_per_tool_and_kind_and_today_is_left_open(runtime: Runtime, rows: RowsFactory) -> None:
    with rows() as add:
        add.event(NOW - 2 * DAY, client="ana", bytes_up=100)
        add.event(NOW - 2 * DAY, client="ana", bytes_up=50)
        add.event(NOW - 2 * DAY, client="ben", bytes_up=25)
        add.event(NOW - 2 * DAY, kind="upload", client="ben", bytes_up=4000)
        add.event(NOW - DAY, kind="network_usage", tool_id=None, client="10.0.0.7", bytes_up=7)
        add.event(NOW, client="cy")  # today: not closed yet

    days = roll_up(runtime.sessions, NOW, late_days=3)

    assert days == 3  # the first event's day up to yesterday, with the 3-day late window reaching back to 03-15
    assert usage(runtime) == {
        (date(2026, 3, 16), "openai-chatgpt", "prompt", 3, 2, 175),
        (date(2026, 3, 16), "openai-chatgpt", "upload", 1, 1, 4000),
        (date(2026, 3, 17), "", "network_usage", 1, 1, 7),
    }


def test_running_again_changes_nothing_and_late_events_are_counted(runtime: Runtime, rows: RowsFactory) -> None:
    with rows() as add:
        add.event(NOW - DAY, client="ana")
    roll_up(runtime.sessions, NOW, late_days=2)
    first = usage(runtime)

    roll_up(runtime.sessions, NOW, late_days=2)
    assert usage(runtime) == first

    with rows() as add:  # a sensor that was offline delivers yesterday's event an hour later
        add.event(NOW - DAY, client="ben")
    roll_up(runtime.sessions, NOW + timedelta(hours=1), late_days=2)

    assert usage(runtime) == {(date(2026, 3, 17), "openai-chatgpt", "prompt", 2, 2, 200)}


def test_days_missed_while_nothing_ran_are_caught_up(runtime: Runtime, rows: RowsFactory) -> None:
    with rows() as add:
        add.event(NOW - 20 * DAY)
    roll_up(runtime.sessions, NOW - 19 * DAY, late_days=1)
    with rows() as add:
        for back in (15, 9, 4):
            add.event(NOW - back * DAY, client=f"c{back}")

    roll_up(runtime.sessions, NOW, late_days=1)

    assert {row[0] for row in usage(runtime)} == {
        date(2026, 2, 26),
        date(2026, 3, 3),
        date(2026, 3, 9),
        date(2026, 3, 14),
    }
