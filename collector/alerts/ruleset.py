"""The detection rules as the collector runs them: loaded once per process, split by where they are evaluated."""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path

from rules.detection_engine import GroupKey
from rules.detection_rules import DETECTION_DIR, load_detection_rules
from rules.detection_schema import DetectionRule


class UnsupportedRule(ValueError):
    """A rule the collector cannot evaluate as written; the message names the rule and what to change."""


def evaluated_on_ingest(rule: DetectionRule) -> bool:
    """Rules that decide on one event alone run as the event is stored; the others need a window of events."""
    return rule.kind == "first_use" or (rule.kind == "event" and rule.threshold == 1)


def _check(rule: DetectionRule) -> None:
    # Volume is summed per group and window in SQL, where labels and the policy's tool status are not at hand.
    if rule.kind == "volume" and (rule.match.labels_any or rule.match.entity_types_any or rule.match.tool_status):
        raise UnsupportedRule(
            f"rule {rule.id} ({rule.title}): volume rules may match on kinds and catalogued only, "
            "not labels, entity types or tool status"
        )


@dataclass(frozen=True, slots=True)
class AlertRules:
    on_ingest: tuple[DetectionRule, ...]
    windowed: tuple[DetectionRule, ...]

    @classmethod
    def of(cls, rules: list[DetectionRule]) -> AlertRules:
        # Deprecated rules stay in the files for their history but raise nothing.
        active = [rule for rule in rules if rule.status != "deprecated"]
        for rule in active:
            _check(rule)
        return cls(
            on_ingest=tuple(rule for rule in active if evaluated_on_ingest(rule)),
            windowed=tuple(rule for rule in active if not evaluated_on_ingest(rule)),
        )


@functools.cache
def alert_rules(directory: Path = DETECTION_DIR) -> AlertRules:
    """Parsed once per process: rules change with a release (or a restart), not while the collector runs."""
    return AlertRules.of([loaded.rule for loaded in load_detection_rules(directory)])


def group_key(rule: DetectionRule, group: GroupKey) -> str:
    """The rule's group_by values as canonical JSON (sorted keys, no spaces): equal groups, equal strings."""
    return json.dumps(dict(zip(rule.group_by, group, strict=True)), sort_keys=True, separators=(",", ":"))
