"""The classifier never crashes on any text or input line: a bounded atheris session and a hypothesis property."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from classifiers.batch import LineError, Request, parse_line
from classifiers.engine import Classifier
from tests.support.atheris_runs import run_harness

ROOT = Path(__file__).resolve().parents[2]


def test_a_bounded_fuzzing_session_of_the_classifier_finds_no_crash(tmp_path: Path) -> None:
    run_harness(ROOT / "fuzz" / "fuzz_classifier.py", ROOT / "fuzz" / "classifier-corpus", tmp_path, runs=3000)


@pytest.fixture(scope="module")
def patterns_only() -> Classifier:
    return Classifier.load(ner=False)


# Text built from the characters the recognizers care about, so the generator reaches their code paths.
_PROMPTISH = st.text(
    alphabet=st.sampled_from(list("0123456789 -/.:@()$%|\n\tabcxyzSSNvisaIBANGB\u0130\u00df")), max_size=400
)


@settings(max_examples=300, deadline=None)
@given(text=st.one_of(st.text(max_size=400), _PROMPTISH))
def test_when_any_text_is_classified_then_entities_lie_inside_it(patterns_only: Classifier, text: str) -> None:
    result = patterns_only.classify(text)
    assert all(0 <= e.start < e.end <= len(text) for e in result.entities)
    assert set(result.labels) <= {label for label, score in result.scores.items() if score > 0}


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(max_size=300))
def test_when_any_bytes_are_an_input_line_then_a_request_an_error_or_nothing_comes_back(raw: bytes) -> None:
    assert isinstance(parse_line(7, raw), Request | LineError | type(None))
