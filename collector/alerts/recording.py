"""Recording a rule's firing: fold it into the open alert of the same rule and group, or raise a new alert.

The database, not the in-memory engine, decides between the two, because only the database knows every earlier
firing (from other batches, other workers, earlier scheduled runs) and which alerts reviewers have closed. The
decision is the engine's suppression rule: an alert of the same rule and group, not resolved or dismissed, whose
activity is within the rule's suppression window of the firing, takes it as a repeat.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from uuid import UUID

from sqlalchemy import select, text, tuple_
from sqlalchemy.orm import Session

from collector import audit
from collector.alerts.facts import Fact
from collector.alerts.ruleset import group_key
from collector.models import Alert, AlertEvent
from collector.triage import CLOSED, Status
from rules.detection_engine import GroupKey
from rules.detection_schema import DetectionRule, seconds

# Evidence linked to one alert; its count goes on. Fifty events show a pattern; a thousand would only fill tables.
EVIDENCE_LIMIT = 50
_CLOSED = sorted(status.value for status in CLOSED)


@dataclass(frozen=True, slots=True)
class Firing:
    """A rule fired for a group at `at`. What it adds depends on whether it opens an alert or repeats one:
    a threshold rule opens with every event of its window but repeats with the one event that fired again."""

    group: GroupKey
    at: datetime
    opening: tuple[Fact, ...]
    opening_count: int
    repeat: tuple[Fact, ...]
    repeat_count: int

    @classmethod
    def of_event(cls, group: GroupKey, fired: Fact) -> Firing:
        return cls(group, fired.event.at, (fired,), 1, (fired,), 1)


def _lock_id(rule_id: str, key: str) -> int:
    digest = hashlib.blake2b(f"{rule_id}\0{key}".encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)  # pg_advisory_xact_lock takes a signed bigint


_LOCK_ALL = text(
    "SELECT count(pg_advisory_xact_lock(lock)) "
    "FROM (SELECT unnest(CAST(:locks AS bigint[])) AS lock ORDER BY 1) AS sorted"
)


def lock_groups(session: Session, groups: Iterable[tuple[str, str]]) -> None:
    """On PostgreSQL, hold an advisory lock per (rule id, group key) until the transaction ends, so two collector
    workers cannot both find no open alert and raise two. Taken in one sorted order, so two batches needing the
    same groups queue rather than deadlock. SQLite needs none: it runs one writer at a time, and the ingest
    transaction has written (holds the write lock) before it evaluates."""
    if session.get_bind().dialect.name != "postgresql":
        return
    locks = sorted({_lock_id(rule_id, key) for rule_id, key in groups})
    if locks:
        # One round trip: the sorted subquery feeds the lock calls in its order.
        session.execute(_LOCK_ALL, {"locks": locks})


def _open_alerts(
    session: Session, firings: Sequence[tuple[DetectionRule, Firing]]
) -> dict[tuple[str, str], list[Alert]]:
    """The alerts, not resolved or dismissed, that the firings could fold into: one query for all of them."""
    keys = {(str(rule.id), group_key(rule, firing.group)) for rule, firing in firings}
    earliest = min(firing.at - _suppression(rule) for rule, firing in firings)
    found: dict[tuple[str, str], list[Alert]] = {key: [] for key in keys}
    statement = select(Alert).where(
        tuple_(Alert.rule_id, Alert.group_key).in_(sorted(keys)),
        Alert.status.not_in(_CLOSED),
        Alert.last_seen >= earliest,
    )
    for alert in session.scalars(statement):
        found[(alert.rule_id, alert.group_key)].append(alert)
    return found


def _suppression(rule: DetectionRule) -> timedelta:
    return timedelta(seconds=seconds(rule.suppression.window))


def _fold_target(candidates: Sequence[Alert], rule: DetectionRule, at: datetime) -> Alert | None:
    """The engine's suppression: the open alert with the latest activity within the window of `at` (an event that
    arrives late can fold into an alert that began after it, within the same window)."""
    window = _suppression(rule)
    fitting = [alert for alert in candidates if alert.last_seen >= at - window and alert.first_seen <= at + window]
    return max(fitting, key=lambda alert: (alert.last_seen, alert.id or 0), default=None)


def _merged(old: Sequence[str], facts: Sequence[Fact], attribute: str) -> list[str]:
    values = set(old)
    for item in facts:
        values.update(getattr(item.event, attribute))
    return sorted(values)


def _linked(session: Session, rule: DetectionRule, alert: Alert) -> set[UUID] | int:
    """The evidence an open alert has, as far as a repeat needs to know: the events, or only how many.

    Event and first-use alerts count each event once and link it while there is room, so they hold
    min(count, limit) links and a repeat is always a new event: no query. A volume alert counts a window's events
    but links only its largest uploads, so it asks."""
    if rule.kind != "volume":
        return min(alert.event_count, EVIDENCE_LIMIT)
    return set(session.scalars(select(AlertEvent.event_id).where(AlertEvent.alert_id == alert.id)))


def _attribute(rule: DetectionRule, firing: Firing, name: str) -> str | None:
    """A column of the alert: the group's value if the rule groups by it, else the firing event's."""
    if name in rule.group_by:
        value = firing.group[rule.group_by.index(name)]
        return None if value is None else str(value)
    value = getattr(firing.opening[-1].event, name)
    return None if value is None else str(value)


def _new_alert(rule: DetectionRule, firing: Firing, key: str, now: datetime) -> Alert:
    return Alert(
        rule_id=str(rule.id),
        severity=rule.level,
        status=Status.NEW.value,
        group_key=key,
        client=_attribute(rule, firing, "client"),
        tool_id=_attribute(rule, firing, "tool_id"),
        source_id=_attribute(rule, firing, "source_id"),
        first_seen=firing.at,
        last_seen=firing.at,
        event_count=firing.opening_count,
        labels=_merged((), firing.opening, "labels"),
        entity_types=_merged((), firing.opening, "entity_types"),
        created_at=now,
        updated_at=now,
    )


def _fold(alert: Alert, firing: Firing, now: datetime) -> None:
    alert.first_seen = min(alert.first_seen, firing.at)
    alert.last_seen = max(alert.last_seen, firing.at)
    alert.event_count += firing.repeat_count
    # New lists, not in-place changes: SQLAlchemy sees a JSON column change only on assignment.
    alert.labels = _merged(alert.labels, firing.repeat, "labels")
    alert.entity_types = _merged(alert.entity_types, firing.repeat, "entity_types")
    alert.updated_at = now


class _Evidence:
    """Evidence to link once new alerts have ids, within each alert's room."""

    def __init__(self) -> None:
        self.links: list[tuple[Alert, UUID]] = []
        self._linked: dict[int, set[UUID] | int] = {}

    def knows(self, alert: Alert) -> bool:
        return id(alert) in self._linked

    def start(self, alert: Alert, linked: set[UUID] | int) -> None:
        self._linked[id(alert)] = linked

    def add(self, alert: Alert, facts: Sequence[Fact]) -> None:
        linked = self._linked[id(alert)]
        for item in facts:
            count = linked if isinstance(linked, int) else len(linked)
            if count >= EVIDENCE_LIMIT:
                break
            if isinstance(linked, int):
                linked += 1
            elif item.event_id in linked:
                continue
            else:
                linked.add(item.event_id)
            self.links.append((alert, item.event_id))
        self._linked[id(alert)] = linked


def record_firings(session: Session, firings: Sequence[tuple[DetectionRule, Firing]], now: datetime) -> int:
    """Record firings, in time order, each folded into the open alert of its rule and group or raising a new
    alert; return how many were recorded. Never commits.

    A handful of statements whatever the number of firings — lock, one lookup, then the inserts and updates
    batched by one flush — because a batch of pastes can fire dozens of times and each round trip costs the
    ingest transaction time."""
    if not firings:
        return 0
    lock_groups(session, [(str(rule.id), group_key(rule, firing.group)) for rule, firing in firings])
    candidates = _open_alerts(session, firings)
    evidence = _Evidence()
    created: list[tuple[DetectionRule, Alert]] = []
    for rule, firing in sorted(firings, key=lambda item: item[1].at):
        key = (str(rule.id), group_key(rule, firing.group))
        alert = _fold_target(candidates[key], rule, firing.at)
        if alert is not None:
            if not evidence.knows(alert):
                evidence.start(alert, _linked(session, rule, alert))
            _fold(alert, firing, now)
            evidence.add(alert, firing.repeat)
            continue
        alert = _new_alert(rule, firing, key[1], now)
        session.add(alert)
        candidates[key].append(alert)
        created.append((rule, alert))
        evidence.start(alert, set())
        evidence.add(alert, firing.opening)
    session.flush()  # ids for the new alerts' evidence and audit entries
    session.add_all(AlertEvent(alert_id=alert.id, event_id=event_id) for alert, event_id in evidence.links)
    for rule, alert in created:
        audit.record(
            session,
            actor=audit.SYSTEM_ACTOR,
            action="alert.created",
            subject_kind="alert",
            subject_id=alert.id,
            to_value=rule.level,
            reason=rule.title,
            at=now,
        )
    session.flush()
    return len(firings)
