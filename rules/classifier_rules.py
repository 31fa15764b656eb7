"""Load the classifier rules (rules/classifiers/): every problem reported at once, as `file:field: message`.

Checked here: the schema, ids unique across files, every regex compiles, and every entity type or scorer a label
rule names exists. Whether the examples match needs the classifier itself: `classifiers.rule_examples`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import regex
from pydantic import BaseModel, ValidationError

from rules.classifier_schema import (
    DocumentFile,
    DocumentScorer,
    LabelFile,
    NearEvidence,
    Recognizer,
    RecognizerFile,
)
from rules.yaml_loading import RuleFileError, read_yaml

CLASSIFIER_DIR = Path(__file__).parent / "classifiers"
RECOGNIZER_DIR = "recognizers"
DOCUMENT_FILE = "documents.yaml"
LABEL_FILE = "labels.yaml"

M = TypeVar("M", bound=BaseModel)


class ClassifierRulesError(Exception):
    """Every problem found while loading, one `file:field: message` per line."""

    def __init__(self, problems: Sequence[RuleFileError]) -> None:
        self.problems = list(problems)
        super().__init__("\n".join(str(problem) for problem in self.problems))


@dataclass(frozen=True, slots=True)
class ClassifierRules:
    recognizers: tuple[Recognizer, ...]
    scorers: tuple[DocumentScorer, ...]
    labels: LabelFile
    # Where each recognizer and scorer came from, for error messages about examples.
    origins: dict[str, Path]


def _field_path(location: Iterable[Any]) -> str:
    path = ""
    for part in location:
        path += f"[{part}]" if isinstance(part, int) else (f".{part}" if path else str(part))
    return path or "file"


def _parse(path: Path, model: type[M], problems: list[RuleFileError]) -> M | None:
    try:
        raw = read_yaml(path)
        return model.model_validate(raw)
    except RuleFileError as error:
        problems.append(error)
    except ValidationError as error:
        problems.extend(RuleFileError(path, _field_path(e["loc"]), e["msg"]) for e in error.errors())
    return None


def _check_regex(path: Path, field: str, pattern: str, problems: list[RuleFileError]) -> None:
    try:
        regex.compile(pattern)
    except regex.error as error:
        problems.append(RuleFileError(path, field, f"regex does not compile: {error}"))


def _check_recognizer(path: Path, index: int, recognizer: Recognizer, problems: list[RuleFileError]) -> None:
    for number, pattern in enumerate(recognizer.patterns):
        _check_regex(path, f"recognizers[{index}]({recognizer.id}).patterns[{number}].regex", pattern.regex, problems)


def _check_references(rules: ClassifierRules, path: Path, problems: list[RuleFileError]) -> None:
    entities = {recognizer.entity for recognizer in rules.recognizers} | set(rules.labels.person_entities)
    scorers = {scorer.id for scorer in rules.scorers}
    for index, rule in enumerate(rules.labels.labels):
        for number, evidence in enumerate(rule.evidence):
            where = f"labels[{index}]({rule.label}).evidence[{number}]"
            if evidence.kind == "document":
                if evidence.scorer not in scorers:
                    problems.append(RuleFileError(path, f"{where}.scorer", f"no scorer {evidence.scorer!r}"))
                continue
            named = evidence.entities + (evidence.near if isinstance(evidence, NearEvidence) else ())
            problems.extend(
                RuleFileError(path, f"{where}.entities", f"no recognizer finds {entity}")
                for entity in named
                if entity not in entities
            )


def load_classifier_rules(directory: Path = CLASSIFIER_DIR) -> ClassifierRules:
    problems: list[RuleFileError] = []
    recognizers: list[Recognizer] = []
    origins: dict[str, Path] = {}
    for path in sorted((directory / RECOGNIZER_DIR).glob("*.yaml")):
        parsed = _parse(path, RecognizerFile, problems)
        for index, recognizer in enumerate(parsed.recognizers if parsed else ()):
            if recognizer.id in origins:
                duplicate = f"{recognizer.id} is also in {origins[recognizer.id]}"
                problems.append(RuleFileError(path, f"recognizers[{index}].id", duplicate))
                continue
            _check_recognizer(path, index, recognizer, problems)
            origins[recognizer.id] = path
            recognizers.append(recognizer)
    if not recognizers and not problems:
        problems.append(RuleFileError(directory / RECOGNIZER_DIR, "file", "no recognizer files"))

    document_path = directory / DOCUMENT_FILE
    documents = _parse(document_path, DocumentFile, problems)
    for index, scorer in enumerate(documents.scorers if documents else ()):
        if scorer.id in origins:
            problems.append(RuleFileError(document_path, f"scorers[{index}].id", f"{scorer.id} is not unique"))
        origins[scorer.id] = document_path
        for number, feature in enumerate(scorer.features):
            where = f"scorers[{index}]({scorer.id}).features[{number}].regex"
            _check_regex(document_path, where, feature.regex, problems)

    label_path = directory / LABEL_FILE
    labels = _parse(label_path, LabelFile, problems)
    if labels is not None and documents is not None:
        rules = ClassifierRules(tuple(recognizers), documents.scorers, labels, origins)
        _check_references(rules, label_path, problems)
        if not problems:
            return rules
    raise ClassifierRulesError(problems)
