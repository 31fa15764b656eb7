"""Replaying stored events through the pure engine (`rules.detection_engine.Detector`) for one span of windows.

A span [start, end) is replayed together with the history its rule looks back on — the window before it for a
threshold, the baseline windows for volume — so the engine decides exactly as if it had seen every event since
the beginning; only firings on events inside the span are returned, so each is recorded by exactly one run.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlalchemy import ColumnElement, and_, func, select
from sqlalchemy.orm import Session

from collector.alerts.facts import Fact, ToolStatuses, event_columns, facts_of, needs_content, sql_match
from collector.alerts.recording import EVIDENCE_LIMIT, Firing
from collector.models import StoredEvent
from rules.detection_engine import Detector, GroupKey
from rules.detection_schema import CaseEvent, DetectionRule, seconds


def bucket_start(index: int, window_s: int) -> datetime:
    """Windows are aligned on the epoch, like the engine's volume buckets (`timestamp // window`)."""
    return datetime.fromtimestamp(index * window_s, UTC)


def bucket_of(at: datetime, window_s: int) -> int:
    return int(at.timestamp()) // window_s


def threshold_firings(
    session: Session, rule: DetectionRule, statuses: ToolStatuses, start: datetime, end: datetime
) -> list[Firing]:
    """`event` rules with a threshold: the engine counts each group's matching events in a sliding window."""
    window = timedelta(seconds=seconds(rule.window))
    e = StoredEvent
    statement = (
        event_columns(needs_content(rule.match))
        .where(sql_match(rule.match), e.occurred_at >= start - window, e.occurred_at < end)
        .order_by(e.occurred_at, e.id)
    )
    facts = facts_of(session.execute(statement), statuses)
    detector = Detector(rule)
    firings = []
    for position, item in enumerate(facts):
        opened = len(detector.alerts)
        alert = detector.feed(position, item.event)
        if alert is None or item.event.at < start:
            continue  # no firing, or one the run over the previous span recorded
        # A firing that opens an alert brings the whole window as evidence and count (as the engine's alert
        # does); one that repeats adds its own event. Which of the two it is, the database decides.
        window_events = tuple(facts[p] for p in alert.events) if len(detector.alerts) > opened else (item,)
        firings.append(Firing(alert.group, item.event.at, window_events, len(window_events), (item,), 1))
    return firings


@dataclass(frozen=True, slots=True)
class Aggregate:
    group: GroupKey
    bytes_up: int
    events: int
    last_at: datetime


class VolumeReplay:
    """`volume` rules, summed per group and window in SQL: a year of events is a few hundred thousand sums, not a
    million facts. The engine is kept from one span to the next, so each window is read and fed once.

    Each (group, window) sum is one fact to the engine, so it decides once per complete window — an alert counts
    the window's events, and its evidence is that window's largest uploads."""

    def __init__(self, rule: DetectionRule) -> None:
        self.rule = rule
        self.window_s = seconds(rule.window)
        self._columns = [getattr(StoredEvent, name) for name in rule.group_by if name != "department"]
        # One engine for consecutive spans: each window's sums are read and fed once.
        self._detector: Detector | None = None
        self._groups: set[GroupKey] = set()
        self._next = 0
        self._history = bucket_start(0, self.window_s)

    def _group(self, values: Sequence[Any]) -> GroupKey:
        found = iter(values)
        return tuple(None if name == "department" else next(found) for name in self.rule.group_by)

    def _in_group(self, group: GroupKey) -> ColumnElement[bool]:
        named = dict(zip(self.rule.group_by, group, strict=True))
        return and_(True, *(getattr(StoredEvent, name) == named[name] for name in named if name != "department"))

    def _read(self, session: Session, index: int) -> list[Aggregate]:
        e = StoredEvent
        statement = (
            select(*self._columns, func.sum(e.bytes_up), func.count(), func.max(e.occurred_at))
            .where(
                sql_match(self.rule.match),
                e.occurred_at >= bucket_start(index, self.window_s),
                e.occurred_at < bucket_start(index + 1, self.window_s),
            )
            .group_by(*self._columns)
        )
        width = len(self._columns)
        return [
            Aggregate(self._group(row[:width]), int(row[width] or 0), int(row[width + 1]), row[width + 2])
            for row in session.execute(statement)
        ]

    def _fact(self, group: GroupKey, at: datetime, bytes_up: int) -> CaseEvent:
        """A window's sum as one event. SQL applied the match already; kind and tool only need to pass it again."""
        named: dict[str, Any] = dict(zip(self.rule.group_by, group, strict=True))
        match = self.rule.match
        tool_id = named.get("tool_id", "(any)" if match.catalogued else None)
        return CaseEvent.model_construct(
            at=at,
            kind=match.kinds[0] if match.kinds else "network_usage",
            client=named.get("client", ""),
            tool_id=tool_id,
            tool_status="unsanctioned",
            labels=(),
            entity_types=(),
            bytes_up=bytes_up,
            department=named.get("department"),
            source_id=named.get("source_id", ""),
        )

    def _has_history(self, session: Session, group: GroupKey, index: int) -> bool:
        """The engine waits for `baseline_windows` windows after a group's first one; this asks whether the group
        was seen that early, which the replay (reading only the baseline windows) cannot know by itself."""
        e = StoredEvent
        before = bucket_start(index - self.rule.baseline_windows + 1, self.window_s)
        statement = select(e.id).where(sql_match(self.rule.match), self._in_group(group), e.occurred_at < before)
        return session.scalar(statement.limit(1)) is not None

    def _evidence(self, session: Session, group: GroupKey, index: int, statuses: ToolStatuses) -> tuple[Fact, ...]:
        e = StoredEvent
        statement = (
            event_columns(True)
            .where(
                sql_match(self.rule.match),
                self._in_group(group),
                e.occurred_at >= bucket_start(index, self.window_s),
                e.occurred_at < bucket_start(index + 1, self.window_s),
            )
            .order_by(e.bytes_up.desc(), e.id)
            .limit(EVIDENCE_LIMIT)
        )
        facts = facts_of(session.execute(statement), statuses)
        return tuple(sorted(facts, key=lambda item: item.event.at))

    def firings(self, session: Session, statuses: ToolStatuses, start: datetime, end: datetime) -> list[Firing]:
        first, stop = bucket_of(start, self.window_s), bucket_of(end, self.window_s)
        if self._detector is None or self._next != first:
            # A fresh engine, fed from the baseline before the span. Every group is assumed to have history before
            # that (a zero sum in the window before it), so the engine judges the spike; `_has_history` then checks
            # the assumption for the few that fire.
            self._detector, self._groups = Detector(self.rule), set()
            self._next = first - self.rule.baseline_windows
            self._history = bucket_start(self._next - 1, self.window_s)
        detector, firings = self._detector, []
        for index in range(self._next, stop):
            for item in self._read(session, index):
                if item.group not in self._groups:
                    self._groups.add(item.group)
                    detector.feed(0, self._fact(item.group, self._history, 0))
                fired = detector.feed(0, self._fact(item.group, item.last_at, item.bytes_up))
                if fired is None or index < first or not self._has_history(session, item.group, index):
                    continue
                evidence = self._evidence(session, item.group, index, statuses)
                firings.append(Firing(item.group, item.last_at, evidence, item.events, evidence, item.events))
        self._next = stop
        return firings
