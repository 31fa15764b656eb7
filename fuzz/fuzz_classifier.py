"""Coverage-guided fuzzing of the classifier's inputs: `classify` JSON lines and arbitrary prompt text.

For every input the harness checks that:

* ``classifiers.batch.parse_line`` returns a request, a line error or None — it never raises;
* classifying the input as text (patterns, validators, context windows, document scorers, label rules; NER is off:
  spaCy is not our code and would slow each run a hundredfold) raises nothing, every entity lies inside the text,
  and the redacted text keeps what lies outside entities.

Run (see fuzz/README.md)::

    .venv/bin/python fuzz/fuzz_classifier.py -runs=100000
    .venv/bin/python fuzz/fuzz_classifier.py -max_total_time=600 my-corpus/ fuzz/classifier-corpus/
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import atheris

with atheris.instrument_imports(include=["classifiers", "rules.classifier_schema", "rules.classifier_rules"]):
    from classifiers.batch import parse_line
    from classifiers.engine import Classifier

HERE = Path(__file__).resolve().parent
SEED_CORPUS = HERE / "classifier-corpus"
CLASSIFIER = Classifier.load(ner=False)


def check_text(text: str) -> None:
    result = CLASSIFIER.classify(text)
    for entity in result.entities:
        if not 0 <= entity.start < entity.end <= len(text):
            raise AssertionError(f"entity {entity} outside a text of {len(text)} characters")
    if not result.entities and result.redacted != text:
        raise AssertionError("redaction changed a text without entities")


def test_one_input(data: bytes) -> None:
    parse_line(1, data)
    provider = atheris.FuzzedDataProvider(data)
    check_text(provider.ConsumeUnicodeNoSurrogates(len(data)))


def main() -> None:
    arguments = sys.argv
    if not any(not argument.startswith("-") for argument in arguments[1:]):
        arguments = [*arguments, tempfile.mkdtemp(prefix="classifier-fuzz-"), str(SEED_CORPUS)]
    atheris.Setup(arguments, test_one_input)
    atheris.Fuzz()


if __name__ == "__main__":
    main()
