"""Rules that decide on one event, evaluated as a batch is stored, in the ingest transaction.

`event` rules with threshold 1 fire on each matching event; `first_use` rules fire on the first event of a value
(a tool) never stored before. The alert therefore commits with its evidence, or neither does, and a re-sent batch
(or event) raises nothing twice: only events this batch stored anew are evaluated.

The common batch — network usage of tools already seen — must cost nothing: each row is first tested against the
rules' kinds, catalogued flag and labels from the row itself, and "tool already seen" comes from an in-process
cache. Only rows that pass read the policy (once per batch) and, for a first use, the database.
"""

from __future__ import annotations

import functools
import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, event, select
from sqlalchemy.orm import Session

from collector.alerts.facts import Fact, ToolStatuses, content_facts, fact_of_row, sql_match
from collector.alerts.recording import Firing, lock_groups, record_firings
from collector.alerts.ruleset import alert_rules, group_key
from collector.models import StoredEvent
from collector.policy import current_policy
from rules.catalog import Catalog
from rules.detection_engine import GroupKey, group_of, matches
from rules.detection_schema import DetectionRule

# (rule id, scope, value) known to be used already, per database. Only ever "seen" is cached, which stays true;
# a process that starts afresh asks the database once per tool.
SeenKey = tuple[str, GroupKey, str | None]
_seen: weakref.WeakKeyDictionary[Engine, set[SeenKey]] = weakref.WeakKeyDictionary()


def _seen_in(session: Session) -> set[SeenKey]:
    engine = session.get_bind()
    assert isinstance(engine, Engine)
    return _seen.setdefault(engine, set())


def _remember_after_commit(session: Session, keys: set[SeenKey]) -> None:
    """Cache what this batch showed as used once it is committed: a rolled-back batch will be sent again, and its
    first use must still alert then."""
    if not keys:
        return
    known = _seen_in(session)
    event.listen(session, "after_commit", lambda _session: known.update(keys), once=True)


def _value(row: Mapping[str, Any], name: str) -> Any:
    return None if name == "department" else row[name]  # events carry no department yet (see facts.fact)


@dataclass(frozen=True, slots=True)
class _Prefilter:
    """`matches` without the tool status, tested on a row as prepared for insertion: no policy, no model.

    Built once per rule set, so the per-row test is a few set and dict lookups."""

    rule: DetectionRule
    rule_id: str
    catalogued: bool | None
    labels_any: frozenset[str]
    entity_types_any: frozenset[str]

    @classmethod
    def of(cls, rule: DetectionRule) -> _Prefilter:
        match = rule.match
        labels = frozenset(str(label) for label in match.labels_any)
        return cls(rule, str(rule.id), match.catalogued, labels, frozenset(match.entity_types_any))

    @property
    def needs_content(self) -> bool:
        return bool(self.labels_any or self.entity_types_any)

    def passes(self, row: Mapping[str, Any], labels: tuple[str, ...], entity_types: tuple[str, ...]) -> bool:
        if self.catalogued is not None and (row["tool_id"] is not None) != self.catalogued:
            return False
        if self.labels_any and self.labels_any.isdisjoint(labels):
            return False
        return not self.entity_types_any or not self.entity_types_any.isdisjoint(entity_types)


@functools.cache
def _prefilters(rules: tuple[DetectionRule, ...]) -> dict[str, tuple[_Prefilter, ...]]:
    """The rules' prefilters by event kind (a rule without kinds under every kind)."""
    kinds = ("network_usage", "visit", "prompt", "paste", "upload")
    return {
        kind: tuple(_Prefilter.of(rule) for rule in rules if not rule.match.kinds or kind in rule.match.kinds)
        for kind in kinds
    }


def _scope(rule: DetectionRule, group: GroupKey) -> GroupKey:
    """The group without the first-use field: what the value is new within (the organisation, when empty)."""
    return tuple(value for name, value in zip(rule.group_by, group, strict=True) if name != rule.field)


def _candidates(
    rules: tuple[DetectionRule, ...], rows: Sequence[Mapping[str, Any]], seen: set[SeenKey]
) -> list[tuple[DetectionRule, Mapping[str, Any]]]:
    by_kind = _prefilters(rules)
    found = []
    for row in rows:
        content: tuple[tuple[str, ...], tuple[str, ...]] | None = None
        for prefilter in by_kind.get(row["kind"], ()):
            if prefilter.needs_content and content is None:
                content = content_facts(row.get("detail"))
            labels, entity_types = content or ((), ())
            if not prefilter.passes(row, labels, entity_types):
                continue
            rule = prefilter.rule
            if rule.kind == "first_use":
                scope = tuple(_value(row, name) for name in rule.group_by if name != rule.field)
                if (prefilter.rule_id, scope, row[rule.field]) in seen:
                    continue
            found.append((rule, row))
    return found


def _used_before(session: Session, rule: DetectionRule, fired: Fact, batch_pk: int) -> bool:
    """An event of the same value (and scope) stored by another batch, whenever it happened: then it is not new."""
    field = getattr(StoredEvent, rule.field)
    statement = select(StoredEvent.id).where(
        field == getattr(fired.event, rule.field), sql_match(rule.match), StoredEvent.batch_id != batch_pk
    )
    for name in rule.group_by:
        if name not in (rule.field, "department"):
            statement = statement.where(getattr(StoredEvent, name) == getattr(fired.event, name))
    return session.scalar(statement.limit(1)) is not None


def evaluate_new_events(
    session: Session,
    batch_pk: int,
    rows: Sequence[Mapping[str, Any]],
    *,
    all_new: bool,
    catalog: Catalog,
    now: datetime | None = None,
) -> int:
    """Evaluate the on-ingest rules over the rows of a batch just inserted (`all_new`: none was a duplicate);
    return the alerts raised or folded into. Runs inside the ingest transaction and never commits."""
    rules = alert_rules().on_ingest
    seen = _seen_in(session)
    ordered = sorted(rows, key=lambda row: row["occurred_at"])  # the engine's order; sorted() keeps ties stable
    candidates = _candidates(rules, ordered, seen)
    if not candidates:
        return 0
    if not all_new:
        wanted = {row["event_id"] for _, row in candidates}
        new = set(
            session.scalars(
                select(StoredEvent.event_id).where(StoredEvent.batch_id == batch_pk, StoredEvent.event_id.in_(wanted))
            )
        )
        candidates = [(rule, row) for rule, row in candidates if row["event_id"] in new]
    statuses = ToolStatuses(current_policy(session), catalog)
    facts: dict[int, Fact] = {}
    firings: list[tuple[DetectionRule, Firing]] = []
    first_uses: dict[SeenKey, tuple[DetectionRule, Fact]] = {}
    for rule, row in candidates:
        fired = facts.get(id(row))
        if fired is None:
            fired = facts[id(row)] = fact_of_row(row, statuses)
        if not matches(rule.match, fired.event):
            continue
        group = group_of(rule, fired.event)
        if rule.kind == "first_use":
            # Only the batch's earliest event of a value can be its first use.
            first_uses.setdefault((str(rule.id), _scope(rule, group), getattr(fired.event, rule.field)), (rule, fired))
            continue
        firings.append((rule, Firing.of_event(group, fired)))
    pending = [(rule, Firing.of_event(group_of(rule, fired.event), fired)) for rule, fired in first_uses.values()]
    lock_groups(session, [(str(rule.id), group_key(rule, f.group)) for rule, f in firings + pending])
    used: set[SeenKey] = set(first_uses)
    for rule, firing in pending:
        # Checked under the group's lock: a worker storing the same tool's first event concurrently has committed
        # (and is seen here) or waits for this transaction.
        if not _used_before(session, rule, firing.opening[0], batch_pk):
            firings.append((rule, firing))
    _remember_after_commit(session, used)
    return record_firings(session, firings, now or datetime.now(UTC))
