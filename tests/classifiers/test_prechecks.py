"""Pre-checks (`requires`): a cheap regex that must be found before a pattern or feature runs.

A pre-check only saves time: it must never hide a match. One that does not compile, or that is absent from an
example where its pattern matches, is refused when the rules load; one that is absent skips its pattern.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from pydantic import ValidationError

from classifiers.documents import CompiledScorer
from classifiers.recognizers import EntityFinder
from rules.classifier_rules import CLASSIFIER_DIR, ClassifierRulesError, load_classifier_rules
from rules.classifier_schema import DocumentScorer, Feature, Pattern, Recognizer


def _recognizer(requires: str, *, match: str = "order 12345 shipped") -> Recognizer:
    return Recognizer.model_validate(
        {
            "id": "order-number",
            "entity": "ORDER_NUMBER",
            "description": "Five digits after `order`.",
            "patterns": [{"name": "order", "regex": r"\border (\d{5})\b", "score": 0.6, "requires": requires}],
            "group": 1,
            "examples": {"match": [match], "no_match": ["order more paper"]},
        }
    )


def test_when_a_precheck_holds_then_the_pattern_runs_and_when_it_is_absent_the_pattern_is_skipped() -> None:
    finder = EntityFinder(_recognizer(r"\d{5}"))
    assert [(e.start, e.end) for e in finder.find("order 12345 shipped", "order 12345 shipped")] == [(6, 11)]
    skipping = EntityFinder(_recognizer(r"\d{5}|shipped"))
    assert skipping.find("order 1234 shipped", "order 1234 shipped") == []


def test_when_a_precheck_does_not_compile_then_the_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match=r"requires\n.*regex does not compile"):
        Pattern.model_validate({"name": "x", "regex": r"\d", "score": 0.5, "requires": "(unclosed"})
    with pytest.raises(ValidationError, match="regex does not compile"):
        Feature.model_validate({"id": "x", "regex": r"\d", "weight": 1.0, "requires": "[a-"})


def test_when_a_precheck_would_hide_an_example_match_then_the_rule_is_refused() -> None:
    with pytest.raises(ValidationError, match="pattern order: `requires` is not found in 'order 12345 shipped'"):
        _recognizer("invoice")


def test_when_a_feature_precheck_would_hide_an_example_then_the_scorer_is_refused() -> None:
    rules = load_classifier_rules()
    financial = next(scorer for scorer in rules.scorers if scorer.id == "financial-document")
    raw = financial.model_dump(by_alias=True)
    for feature in raw["features"]:
        if feature["id"] == "money-amount":
            feature["requires"] = "never-in-any-example"
    with pytest.raises(ValidationError, match="feature money-amount: `requires` is not found in"):
        DocumentScorer.model_validate(raw)


def test_when_a_shipped_rule_file_has_a_wrong_precheck_then_loading_reports_its_field(tmp_path: Path) -> None:
    copy = tmp_path / "classifiers"
    shutil.copytree(CLASSIFIER_DIR, copy)
    pii = copy / "recognizers" / "pii.yaml"
    text = pii.read_text()
    assert "requires: &house-number-by-street-word '" in text
    pii.write_text(
        text.replace("requires: &house-number-by-street-word '", "requires: &house-number-by-street-word 'Q", 1)
    )
    with pytest.raises(ClassifierRulesError) as caught:
        load_classifier_rules(copy)
    assert any(
        "pii.yaml" in str(p) and "pattern street: `requires` is not found" in str(p) for p in caught.value.problems
    )


def test_when_features_share_a_precheck_then_scores_equal_those_without_it() -> None:
    rules = load_classifier_rules()
    financial = next(scorer for scorer in rules.scorers if scorer.id == "financial-document")
    assert sum(feature.requires is not None for feature in financial.features) >= 2
    plain = financial.model_copy(
        update={"features": tuple(f.model_copy(update={"requires": None}) for f in financial.features)}
    )
    texts = [
        *financial.examples.match,
        *financial.examples.no_match,
        "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn; orders of USD 40 million were signed.",
        "Sales grew 12% compared with the same period last year, and the board discussed the plan at length.",
        "We walked to the market and bought some bread and cheese for the picnic by the river today.",
    ]
    for text in texts:
        assert CompiledScorer(financial).logit(text) == pytest.approx(CompiledScorer(plain).logit(text))
