"""Scheduled evaluation of the windowed rules (`event` with a threshold, `volume`) over whole windows.

Each rule has a watermark: the time up to which it has been evaluated. A run takes every whole window (aligned on
the epoch) between the watermark and `now - LAG`, a day's worth at a time: it replays that span with its lookback
(`replay`), then, in one short write transaction, moves the watermark from where it read it to the span's end and
records the span's firings. The move is a compare-and-set, so a window is never counted twice — not by a second
scheduler, not after a crash (the firings and the watermark commit together or not at all).

Reading happens outside the write transaction: on SQLite a long read inside it would hold the single write lock
and stall ingest. Events that arrive more than LAG after they happened, into a span already evaluated, are not
seen by the windowed rules (the rules that decide on one event still see them on ingest).

A rule without a watermark (a new installation, a new rule) starts FIRST_RUN before now, so enabling detection
reviews the last week rather than raising alerts about a year of history at once.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

from sqlalchemy import CursorResult, Table, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collector.alerts.facts import ToolStatuses
from collector.alerts.recording import Firing, record_firings
from collector.alerts.replay import VolumeReplay, bucket_of, bucket_start, threshold_firings
from collector.alerts.ruleset import alert_rules
from collector.models import DetectionWatermark
from collector.policy import current_policy
from collector.runtime import Runtime
from rules.detection_schema import DetectionRule, seconds

log = logging.getLogger(__name__)

# Producers send late: the sensor summarises flows for a minute or so, browsers batch and retry.
LAG = timedelta(minutes=5)
FIRST_RUN = timedelta(days=7)
# Windows replayed per read and committed per write transaction: small enough to keep memory and the write lock
# short, large enough that a 1-hour rule does not re-read its lookback 24 times a day.
STEP = timedelta(days=1)


def _advance(session: Session, rule_id: str, read: datetime | None, until: datetime) -> bool:
    """Move the watermark from `read` (None: no watermark yet) to `until`; False if another run moved it first.

    The first statement of the write transaction, so SQLite takes its write lock here, before anything is read."""
    table: Table = DetectionWatermark.__table__  # type: ignore[assignment]
    if read is None:
        insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
        statement = insert(table).values(rule_id=rule_id, evaluated_until=until).on_conflict_do_nothing()
        # RETURNING rather than rowcount, which PostgreSQL's driver did not report for ON CONFLICT DO NOTHING.
        return session.execute(statement.returning(table.c.rule_id)).first() is not None
    moved = (
        update(DetectionWatermark)
        .where(DetectionWatermark.rule_id == rule_id, DetectionWatermark.evaluated_until == read)
        .values(evaluated_until=until)
        .execution_options(synchronize_session=False)
    )
    result: CursorResult[object] = session.execute(moved)  # type: ignore[assignment]
    return result.rowcount == 1


def _start(read: datetime | None, now: datetime, window_s: int) -> datetime:
    if read is None:
        return bucket_start(bucket_of(now - LAG - FIRST_RUN, window_s), window_s)
    # A watermark off the rule's windows (its window was changed) moves up to the next one: skipping part of a
    # window rather than counting part of one twice.
    index = bucket_of(read, window_s)
    return read if bucket_start(index, window_s) == read else bucket_start(index + 1, window_s)


def evaluate_rule(runtime: Runtime, rule: DetectionRule, now: datetime) -> int:
    """Evaluate one windowed rule up to now - LAG; return the firings recorded (alerts raised or folded into)."""
    rule_id = str(rule.id)
    window_s = seconds(rule.window)
    due = bucket_start(bucket_of(now - LAG, window_s), window_s)
    step = timedelta(seconds=max(1, int(STEP.total_seconds()) // window_s) * window_s)
    with runtime.sessions() as session:
        watermark = session.get(DetectionWatermark, rule_id)
        read = watermark.evaluated_until if watermark is not None else None
        statuses = ToolStatuses(current_policy(session), runtime.catalog)
    start = _start(read, now, window_s)
    volume = VolumeReplay(rule) if rule.kind == "volume" else None
    recorded = 0
    while start < due:
        end = min(due, start + step)
        with runtime.sessions() as session:
            firings: list[Firing] = (
                volume.firings(session, statuses, start, end)
                if volume is not None
                else threshold_firings(session, rule, statuses, start, end)
            )
        with runtime.sessions.begin() as session:
            if not _advance(session, rule_id, read, end):
                log.warning("detection watermark moved by another run; stopping", extra={"rule_id": rule_id})
                return recorded
            record_firings(session, [(rule, firing) for firing in firings], datetime.now(UTC))
        recorded += len(firings)
        read = start = end
    return recorded


def evaluate_due_windows(runtime: Runtime, now: datetime) -> int:
    """Evaluate every windowed rule over its due windows; return the alerts raised or folded into.

    The scheduler's job: safe to run as often as it likes (a run with nothing due reads one row per rule)."""
    recorded = 0
    for rule in alert_rules().windowed:
        recorded += evaluate_rule(runtime, rule, now)
    if recorded:
        log.info("windowed rules evaluated", extra={"recorded": recorded})
    return recorded
