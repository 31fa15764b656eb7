"""Evaluating detection rules over a stream of event facts, in time order: matching, thresholds within windows,
first use, upload volume against a baseline, and folding repeats into one open alert (suppression).

Pure and in memory, so the same code checks every rule's cases in the tests and runs in the collector.
"""

from __future__ import annotations

from collections import defaultdict, deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime

from rules.detection_schema import CaseEvent, DetectionRule, Match, seconds

GroupKey = tuple[str | None, ...]


@dataclass(slots=True)
class Alert:
    rule_id: str
    group: GroupKey
    first_seen: datetime
    last_seen: datetime
    count: int
    events: list[int] = field(default_factory=list)  # positions of the events folded in, for evidence


def matches(match: Match, event: CaseEvent) -> bool:
    if match.kinds and event.kind not in match.kinds:
        return False
    if match.labels_any and not set(match.labels_any) & set(event.labels):
        return False
    if match.entity_types_any and not set(match.entity_types_any) & set(event.entity_types):
        return False
    if match.tool_status and event.tool_status not in match.tool_status:
        return False
    return match.catalogued is None or (event.tool_id is not None) == match.catalogued


def group_of(rule: DetectionRule, event: CaseEvent) -> GroupKey:
    return tuple(getattr(event, name) for name in rule.group_by)


class Detector:
    """One rule's state; `feed` the events in time order and read `alerts`."""

    def __init__(self, rule: DetectionRule) -> None:
        self.rule = rule
        self.alerts: list[Alert] = []
        self._open: dict[GroupKey, Alert] = {}
        self._recent: dict[GroupKey, deque[tuple[float, int]]] = defaultdict(deque)
        self._seen_values: dict[GroupKey, set[str | None]] = defaultdict(set)
        self._volume: dict[GroupKey, dict[int, int]] = defaultdict(lambda: defaultdict(int))
        self._first_window: dict[GroupKey, int] = {}
        self._window = seconds(rule.window)
        self._suppress = seconds(rule.suppression.window)

    def feed(self, position: int, event: CaseEvent) -> Alert | None:
        """The alert this event raised or folded into, or None."""
        if not matches(self.rule.match, event):
            return None
        group = group_of(self.rule, event)
        fired = {
            "event": self._threshold,
            "first_use": self._first_use,
            "volume": self._volume_spike,
        }[self.rule.kind](group, position, event)
        return self._raise(group, position, event, fired) if fired else None

    def _threshold(self, group: GroupKey, position: int, event: CaseEvent) -> list[int]:
        now = event.at.timestamp()
        recent = self._recent[group]
        recent.append((now, position))
        while recent and recent[0][0] <= now - self._window:
            recent.popleft()
        if len(recent) < self.rule.threshold:
            return []
        return [p for _, p in recent]

    def _first_use(self, group: GroupKey, position: int, event: CaseEvent) -> list[int]:
        # The value is part of the group key in most rules; what is new is the value within the rest of the key.
        scope = tuple(value for name, value in zip(self.rule.group_by, group, strict=True) if name != self.rule.field)
        value = getattr(event, self.rule.field)
        seen = self._seen_values[scope]
        if value in seen:
            return []
        seen.add(value)
        return [position]

    def _volume_spike(self, group: GroupKey, position: int, event: CaseEvent) -> list[int]:
        bucket = int(event.at.timestamp()) // self._window
        first = self._first_window.setdefault(group, bucket)
        buckets = self._volume[group]
        buckets[bucket] += event.bytes_up
        if bucket - first < self.rule.baseline_windows:
            return []  # not enough history to know what is normal for this group
        earlier = [buckets.get(bucket - k, 0) for k in range(1, self.rule.baseline_windows + 1)]
        baseline = sum(earlier) / len(earlier)
        current = buckets[bucket]
        if current >= self.rule.min_bytes and current > self.rule.factor * baseline:
            return [position]
        return []

    def _raise(self, group: GroupKey, position: int, event: CaseEvent, evidence: list[int]) -> Alert:
        alert = self._open.get(group)
        if alert is not None and (event.at - alert.last_seen).total_seconds() <= self._suppress:
            alert.last_seen = event.at
            alert.count += 1
            alert.events.append(position)
            return alert
        alert = Alert(str(self.rule.id), group, event.at, event.at, 1, [position])
        if self.rule.kind == "event" and self.rule.threshold > 1:
            alert.count = len(evidence)
            alert.events = list(evidence)
        self._open[group] = alert
        self.alerts.append(alert)
        return alert


def run(rule: DetectionRule, events: Iterable[CaseEvent]) -> list[Alert]:
    detector = Detector(rule)
    for position, event in enumerate(sorted(events, key=lambda e: e.at)):
        detector.feed(position, event)
    return detector.alerts
