"""Check the examples every recognizer and document scorer carries: a rule change that breaks one is caught early."""

from __future__ import annotations

from classifiers.documents import CompiledScorer
from classifiers.recognizers import EntityFinder
from rules.classifier_rules import ClassifierRules
from rules.yaml_loading import RuleFileError

DOCUMENT_THRESHOLD = 0.5


def check_examples(rules: ClassifierRules) -> list[RuleFileError]:
    problems: list[RuleFileError] = []
    for recognizer in rules.recognizers:
        finder = EntityFinder(recognizer)
        where = rules.origins[recognizer.id]
        for number, text in enumerate(recognizer.examples.match):
            if not finder.find(text, text.lower()):
                problems.append(RuleFileError(where, f"{recognizer.id}.examples.match[{number}]", "not found"))
        for number, text in enumerate(recognizer.examples.no_match):
            if finder.find(text, text.lower()):
                problems.append(RuleFileError(where, f"{recognizer.id}.examples.no_match[{number}]", "found"))
    for rule in rules.scorers:
        scorer = CompiledScorer(rule)
        where = rules.origins[rule.id]
        for number, text in enumerate(rule.examples.match):
            if (score := scorer.score(text)) < DOCUMENT_THRESHOLD:
                problems.append(RuleFileError(where, f"{rule.id}.examples.match[{number}]", f"scores {score:.2f}"))
        for number, text in enumerate(rule.examples.no_match):
            if (score := scorer.score(text)) >= DOCUMENT_THRESHOLD:
                problems.append(RuleFileError(where, f"{rule.id}.examples.no_match[{number}]", f"scores {score:.2f}"))
    return problems
