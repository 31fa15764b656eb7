"""Load the detection rules (rules/detections/*.yaml) and check their cases; every problem as `file:field: message`."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from pydantic import ValidationError

from rules.detection_engine import run
from rules.detection_schema import DetectionFile, DetectionRule
from rules.yaml_loading import RuleFileError, read_yaml

DETECTION_DIR = Path(__file__).parent / "detections"


class DetectionRulesError(Exception):
    def __init__(self, problems: list[RuleFileError]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True, slots=True)
class LoadedRule:
    rule: DetectionRule
    path: Path


def load_detection_rules(directory: Path = DETECTION_DIR) -> list[LoadedRule]:
    problems: list[RuleFileError] = []
    loaded: list[LoadedRule] = []
    seen: dict[str, Path] = {}
    for path in sorted(directory.glob("*.yaml")):
        try:
            parsed = DetectionFile.model_validate(read_yaml(path))
        except RuleFileError as error:
            problems.append(error)
            continue
        except ValidationError as error:
            problems.extend(
                RuleFileError(path, ".".join(str(p) for p in e["loc"]) or "file", e["msg"]) for e in error.errors()
            )
            continue
        for index, rule in enumerate(parsed.rules):
            key = str(rule.id)
            if key in seen:
                problems.append(RuleFileError(path, f"rules[{index}].id", f"{key} is also in {seen[key]}"))
                continue
            seen[key] = path
            loaded.append(LoadedRule(rule, path))
    if problems:
        raise DetectionRulesError(problems)
    return loaded


def check_cases(rules: list[LoadedRule]) -> list[RuleFileError]:
    """Each case's events must raise exactly its number of alerts (and fold `count` events into the first)."""
    problems: list[RuleFileError] = []
    for loaded in rules:
        rule = loaded.rule
        for number, case in enumerate(rule.cases):
            alerts = run(rule, case.events)
            where = f"{rule.title}.cases[{number}]"
            if len(alerts) != case.alerts:
                problems.append(
                    RuleFileError(loaded.path, where, f"raised {len(alerts)} alerts, expected {case.alerts}")
                )
            elif case.count is not None and alerts and alerts[0].count != case.count:
                problems.append(
                    RuleFileError(loaded.path, where, f"first alert counts {alerts[0].count}, expected {case.count}")
                )
    return problems
