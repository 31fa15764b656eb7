"""The classifier rule files: they load, their examples hold, and every mistake is reported with file and field."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from typer.testing import CliRunner

from classifiers.rule_examples import check_examples
from rules.classifier_rules import CLASSIFIER_DIR, ClassifierRulesError, load_classifier_rules
from shadowscope.cli import app


def test_when_the_shipped_rules_load_then_every_example_holds() -> None:
    rules = load_classifier_rules()
    assert len(rules.recognizers) >= 20
    assert check_examples(rules) == []


@pytest.fixture
def rules_copy(tmp_path: Path) -> Path:
    copy = tmp_path / "classifiers"
    shutil.copytree(CLASSIFIER_DIR, copy)
    return copy


def _problems(directory: Path) -> list[str]:
    with pytest.raises(ClassifierRulesError) as caught:
        load_classifier_rules(directory)
    return [str(problem) for problem in caught.value.problems]


def test_when_rule_files_have_several_mistakes_then_all_are_reported_with_file_and_field(rules_copy: Path) -> None:
    pii = rules_copy / "recognizers" / "pii.yaml"
    text = pii.read_text()
    text = text.replace("id: us-itin", "id: us-ssn", 1)  # a duplicate id
    text = text.replace("regex: '\\b(?:d\\.?o\\.?b", "regex: '(?:d\\.?o\\.?b", 1)
    pii.write_text(text.replace("{name: itin, regex: '", "{name: itin, regex: '(unclosed", 1))
    labels = rules_copy / "labels.yaml"
    labels.write_text(labels.read_text().replace("scorer: legal-document", "scorer: no-such-scorer"))
    problems = _problems(rules_copy)
    assert any("pii.yaml:recognizers[" in p and "us-ssn is also in" in p for p in problems)
    assert any("labels.yaml:labels[4](legal).evidence[0].scorer" in p for p in problems)


def test_when_a_regex_does_not_compile_then_its_field_is_named(rules_copy: Path) -> None:
    payment = rules_copy / "recognizers" / "payment.yaml"
    payment.write_text(payment.read_text().replace("{name: cvv, regex: '", "{name: cvv, regex: '(?P<", 1))
    problems = _problems(rules_copy)
    assert any("card-security-code).patterns[0].regex: regex does not compile" in p for p in problems)


def test_when_a_label_names_an_entity_nobody_finds_then_it_is_an_error(rules_copy: Path) -> None:
    labels = rules_copy / "labels.yaml"
    labels.write_text(labels.read_text().replace("entities: [CREDIT_CARD]", "entities: [CREDIT_CRAD]"))
    assert any("no recognizer finds CREDIT_CRAD" in p for p in _problems(rules_copy))


def test_when_a_key_repeats_then_the_file_is_refused(rules_copy: Path) -> None:
    banking = rules_copy / "recognizers" / "banking.yaml"
    banking.write_text(banking.read_text().replace("    entity: IBAN_CODE\n", "    entity: IBAN_CODE\n    entity: X\n"))
    assert any("banking.yaml:line" in p and "duplicate key" in p for p in _problems(rules_copy))


def test_when_a_recognizer_has_no_source_or_two_then_the_schema_says_so(rules_copy: Path) -> None:
    banking = rules_copy / "recognizers" / "banking.yaml"
    banking.write_text(banking.read_text().replace("    presidio: IbanRecognizer\n", "", 1))
    assert any("give exactly one of" in p for p in _problems(rules_copy))


def test_when_rules_are_checked_from_the_command_line_then_problems_exit_1(rules_copy: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(app, ["rules", "check-classifiers", "--dir", str(rules_copy)]).exit_code == 0
    labels = rules_copy / "labels.yaml"
    labels.write_text(labels.read_text().replace("entities: [CREDIT_CARD]", "entities: [CREDIT_CRAD]"))
    result = runner.invoke(app, ["rules", "check-classifiers", "--dir", str(rules_copy)])
    assert result.exit_code == 1
    assert "no recognizer finds CREDIT_CRAD" in result.stderr
