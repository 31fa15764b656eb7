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

from sqlalchemy import select, text
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


def _open_alert(session: Session, rule: DetectionRule, key: str, at: datetime) -> Alert | None:
    window = timedelta(seconds=seconds(rule.suppression.window))
    return session.scalars(
        select(Alert)
        .where(
            Alert.rule_id == str(rule.id),
            Alert.group_key == key,
            Alert.status.not_in(_CLOSED),
            Alert.last_seen >= at - window,
            # An event that arrives late can fold into an alert that began after it, within the same window.
            Alert.first_seen <= at + window,
        )
        .order_by(Alert.last_seen.desc(), Alert.id.desc())
        .limit(1)
    ).first()


def _merged(old: Sequence[str], facts: Sequence[Fact], attribute: str) -> list[str]:
    values = set(old)
    for item in facts:
        values.update(getattr(item.event, attribute))
    return sorted(values)


def _link_evidence(session: Session, alert_id: int, facts: Sequence[Fact], linked: set[UUID], room: int) -> None:
    for item in facts:
        if room <= 0:
            return
        if item.event_id not in linked:
            session.add(AlertEvent(alert_id=alert_id, event_id=item.event_id))
            linked.add(item.event_id)
            room -= 1


def _linked(session: Session, rule: DetectionRule, alert: Alert) -> tuple[set[UUID], int]:
    """The evidence an open alert has (as far as a repeat needs to know) and the room left.

    Event and first-use alerts count each event once and link it while there is room, so they hold
    min(count, limit) links and a repeat is always a new event: no query. A volume alert counts a window's events
    but links only its largest uploads, so it asks."""
    if rule.kind != "volume":
        return set(), EVIDENCE_LIMIT - min(alert.event_count, EVIDENCE_LIMIT)
    linked = set(session.scalars(select(AlertEvent.event_id).where(AlertEvent.alert_id == alert.id)))
    return linked, EVIDENCE_LIMIT - len(linked)


def _attribute(rule: DetectionRule, firing: Firing, name: str) -> str | None:
    """A column of the alert: the group's value if the rule groups by it, else the firing event's."""
    if name in rule.group_by:
        value = firing.group[rule.group_by.index(name)]
        return None if value is None else str(value)
    value = getattr(firing.opening[-1].event, name)
    return None if value is None else str(value)


def raise_or_fold(session: Session, rule: DetectionRule, firing: Firing, now: datetime) -> bool:
    """Record a firing; True if it raised a new alert, False if it folded into the open one. Never commits.

    Callers hold `lock_groups` for every group they record, taken together in one order before the first."""
    key = group_key(rule, firing.group)
    alert = _open_alert(session, rule, key, firing.at)
    if alert is not None:
        linked, room = _linked(session, rule, alert)
        alert.first_seen = min(alert.first_seen, firing.at)
        alert.last_seen = max(alert.last_seen, firing.at)
        alert.event_count += firing.repeat_count
        # New lists, not in-place changes: SQLAlchemy sees a JSON column change only on assignment.
        alert.labels = _merged(alert.labels, firing.repeat, "labels")
        alert.entity_types = _merged(alert.entity_types, firing.repeat, "entity_types")
        alert.updated_at = now
        _link_evidence(session, alert.id, firing.repeat, linked, room)
        return False
    alert = Alert(
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
    session.add(alert)
    session.flush()  # the id, for the evidence and the audit entry
    _link_evidence(session, alert.id, firing.opening, set(), EVIDENCE_LIMIT)
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
    return True
