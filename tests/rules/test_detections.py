"""Detection rules: the shipped ones load and their cases hold; the engine's windows, thresholds and folding."""

from __future__ import annotations

import shutil
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from rules.detection_engine import run
from rules.detection_rules import DETECTION_DIR, DetectionRulesError, check_cases, load_detection_rules
from rules.detection_schema import CaseEvent, DetectionRule

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def test_when_the_shipped_rules_load_then_every_case_holds() -> None:
    rules = load_detection_rules()
    assert len(rules) >= 6
    assert {loaded.rule.kind for loaded in rules} == {"event", "first_use", "volume"}
    assert check_cases(rules) == []


def _rule(**changes: Any) -> DetectionRule:
    base: dict[str, Any] = {
        "id": "00000000-0000-4000-8000-000000000001",
        "title": "A test rule",
        "status": "test",
        "level": "high",
        "description": "for the engine's tests",
        "kind": "event",
        "match": {"labels_any": ["pii"]},
        "cases": [
            {"description": "raises", "events": [{"at": T0, "labels": ["pii"]}], "alerts": 1},
            {"description": "does not", "events": [{"at": T0}], "alerts": 0},
        ],
    }
    return DetectionRule.model_validate({**base, **changes})


def _at(minutes: float, **fields: Any) -> CaseEvent:
    return CaseEvent.model_validate({"at": T0 + timedelta(minutes=minutes), "labels": ["pii"], **fields})


def test_when_a_threshold_is_set_then_only_enough_events_inside_the_window_raise() -> None:
    rule = _rule(threshold=3, window="10m")

    assert len(run(rule, [_at(0), _at(6), _at(12)])) == 0  # never three within ten minutes
    (alert,) = run(rule, [_at(0), _at(3), _at(6)])
    assert alert.count == 3


def test_when_repeats_fall_inside_the_suppression_window_then_they_fold_into_one_alert_per_group() -> None:
    rule = _rule(suppression={"window": "1h"})
    events = [_at(0), _at(30), _at(80), _at(200), _at(5, client="u2")]

    alerts = run(rule, events)

    assert [(a.group, a.count) for a in alerts] == [
        (("u1", "openai-chatgpt"), 3),
        (("u2", "openai-chatgpt"), 1),
        (("u1", "openai-chatgpt"), 1),
    ]


def test_when_a_first_use_rule_is_scoped_per_client_then_each_client_s_first_use_raises() -> None:
    rule = _rule(kind="first_use", match={}, group_by=["client", "tool_id"])
    events = [_at(0, tool_id="a"), _at(1, tool_id="a"), _at(2, tool_id="a", client="u2"), _at(3, tool_id="b")]

    assert len(run(rule, events)) == 3


def test_when_volume_has_no_history_then_it_waits_for_a_baseline() -> None:
    rule = _rule(
        kind="volume", match={}, group_by=["client"], window="1d", baseline_windows=2, factor=3.0, min_bytes=100
    )
    quiet = [_at(24 * 60 * day, bytes_up=50) for day in range(2)]

    assert run(rule, [_at(0, bytes_up=10_000)]) == []
    assert len(run(rule, [*quiet, _at(2 * 24 * 60, bytes_up=1_000)])) == 1
    assert run(rule, [*quiet, _at(2 * 24 * 60, bytes_up=120)]) == []  # above min_bytes, not 3x the baseline


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "detections"
    shutil.copytree(DETECTION_DIR, copy)
    return copy


def _problems(directory: Path) -> list[str]:
    with pytest.raises(DetectionRulesError) as caught:
        load_detection_rules(directory)
    return [str(problem) for problem in caught.value.problems]


def test_when_rule_files_are_wrong_then_each_problem_names_its_file_and_field(rules_copy: Path) -> None:
    exposure = rules_copy / "data-exposure.yaml"
    text = exposure.read_text().replace("8c0a3842-4566-4e2a-b577-58bb89d0ac48", "874f5ad6-f0c4-4e09-8813-b21f6dc6651e")
    exposure.write_text(text)
    tools = rules_copy / "tool-use.yaml"
    tools.write_text(tools.read_text().replace("window: 1d", "window: 1 day", 1))

    problems = _problems(rules_copy)

    assert any("data-exposure.yaml:rules[1].id" in p and "is also in" in p for p in problems)
    assert any("tool-use.yaml:rules.1.window" in p for p in problems)


def test_when_a_rule_has_no_case_that_must_stay_quiet_then_it_is_refused(rules_copy: Path) -> None:
    tools = rules_copy / "tool-use.yaml"
    text = tools.read_text().replace("        alerts: 0\n", "        alerts: 1\n")
    tools.write_text(text)

    assert any("cases that must not" in p for p in _problems(rules_copy))


def test_when_a_case_no_longer_holds_then_the_check_says_which(rules_copy: Path) -> None:
    exposure = rules_copy / "data-exposure.yaml"
    exposure.write_text(exposure.read_text().replace("suppression: {window: 24h}", "suppression: {window: 1m}", 1))

    problems = [str(p) for p in check_cases(load_detection_rules(rules_copy))]

    assert any("cases[1]: raised 3 alerts, expected 1" in p for p in problems)
