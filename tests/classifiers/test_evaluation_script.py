"""`scripts/evaluate_classifiers.py` and its modules: the metrics on a tiny invented corpus, and the exit when the
corpus is absent."""

from __future__ import annotations

import json
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

PROJECT_ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

import classifier_evaluation as ev  # noqa: E402
import evaluate_classifiers as cli  # noqa: E402

EMAIL_TEXT = "Please forward the invoice to quentin.ozark@example.net before Friday."
EMAIL_START = EMAIL_TEXT.index("quentin")
LONG_CLAUSE = (
    "The Licensee shall indemnify and hold harmless the Licensor from any claim arising out of the use of the "
    "Licensed Product during the Term of this Agreement."
)
# Invented rows, one list per corpus file; every string here is made up for the test.
CORPUS: dict[str, list[dict[str, Any]]] = {
    "presidio_synth_v2.jsonl": [
        {
            "text": EMAIL_TEXT,
            "labels": ["pii", "presidio:EMAIL_ADDRESS"],
            "spans": [{"start": EMAIL_START, "end": EMAIL_START + 24, "type": "EMAIL_ADDRESS"}],
        },
        {
            "text": "Zephyr Looms opened a shop in Tarnby.",
            "labels": ["pii", "presidio:ORGANIZATION", "presidio:GPE"],
            "spans": [{"start": 0, "end": 12, "type": "ORGANIZATION"}, {"start": 30, "end": 36, "type": "GPE"}],
        },
        {"text": "What a lovely morning for a walk.", "labels": [], "spans": []},
    ],
    "cuad_clauses.jsonl": [
        {"text": LONG_CLAUSE, "labels": ["legal", "cuad:Cap on Liability"]},
        {"text": "Zephyr Looms Ltd.", "labels": ["legal", "cuad:Parties"]},
    ],
    "financial_phrasebank_allagree.jsonl": [
        {"text": "Quarterly revenue of the mill rose to 4.1 million kroner.", "labels": ["financial"]},
    ],
    "alpaca_eval_instructions.jsonl": [
        {"text": "Suggest three names for a pet tortoise.", "labels": []},
        {"text": "How do lemonade stands report revenue?", "labels": []},
    ],
}


@dataclass(frozen=True)
class FakeEntity:
    type: str
    start: int
    end: int


@dataclass(frozen=True)
class FakeResult:
    labels: tuple[str, ...]
    entities: tuple[FakeEntity, ...]


class KeywordClassifier:
    """Labels by keywords, so the expected figures can be worked out by hand."""

    def __init__(self) -> None:
        self.batches: list[int] = []

    def classify_many(self, texts: Sequence[str]) -> list[FakeResult]:
        self.batches.append(len(texts))
        return [self._one(text) for text in texts]

    @staticmethod
    def _one(text: str) -> FakeResult:
        labels: list[str] = []
        entities: list[FakeEntity] = []
        if "@" in text:
            at = text.index("@")
            start, end = text.rfind(" ", 0, at) + 1, text.index(" ", at)
            labels.append("pii")
            entities.append(FakeEntity("EMAIL_ADDRESS", start, end))
        if "revenue" in text:
            labels.append("financial")
        if "shall" in text:
            labels.append("legal")
        return FakeResult(tuple(labels), tuple(entities))


def write_corpus(directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, rows in CORPUS.items():
        (directory / name).write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")
    return directory


@pytest.fixture
def view(tmp_path: Path) -> ev.View:
    rows = ev.load_corpus(write_corpus(tmp_path / "prompts"))
    predictions = ev.classify(KeywordClassifier(), rows)
    return ev.evaluate(rows, predictions, "all")


def test_labels_are_scored_against_category_rows_and_negatives(view: ev.View) -> None:
    # The presidio row without a span and both everyday prompts are the negatives of every label.
    assert view.tasks["legal"] == ev.Scores(tp=1, fp=0, fn=1, tn=3)
    assert view.tasks["financial"] == ev.Scores(tp=1, fp=1, fn=0, tn=2)
    assert view.tasks["financial"].precision == 0.5
    assert view.tasks["financial"].f1 == pytest.approx(2 / 3)


def test_pii_is_scored_against_the_corpus_label_and_against_the_definition(view: ev.View) -> None:
    # The corpus calls a company-and-city sample pii; by our definition it is a negative.
    assert view.tasks["pii (corpus label)"] == ev.Scores(tp=1, fp=0, fn=1, tn=3)
    assert view.tasks["pii (definition-aligned)"] == ev.Scores(tp=1, fp=0, fn=0, tn=4)


def test_everyday_share_counts_prompts_given_any_label(view: ev.View) -> None:
    assert view.everyday.rows == 2
    assert view.everyday.any_label == 0.5
    assert view.everyday.labels["financial"] == 0.5
    assert view.everyday.labels["pii"] == 0.0


def test_cross_labels_and_short_clauses_are_reported_apart(view: ev.View) -> None:
    shares = {item.group: item for item in view.shares}
    assert shares["cuad_clauses"].labels["legal"] == 0.5
    assert shares["presidio_synth_v2 (span, not pii)"].any_label == 0.0
    assert (view.clauses.recall, view.clauses.long_clauses, view.clauses.long_recall) == (0.5, 1, 1.0)


def test_spans_are_found_by_overlap_of_a_mapped_type(view: ev.View) -> None:
    spans = {item.type: item for item in view.spans}
    assert (spans["EMAIL_ADDRESS"].spans, spans["EMAIL_ADDRESS"].found) == (1, 1)
    assert spans["EMAIL_ADDRESS"].precision == 1.0
    assert spans["PERSON"].spans == 0


def test_errors_name_the_false_positives_and_negatives(tmp_path: Path) -> None:
    rows = ev.load_corpus(write_corpus(tmp_path / "prompts"))
    predictions = ev.classify(KeywordClassifier(), rows)
    legal = next(task for task in ev.TASKS if task.name == "legal")
    financial = next(task for task in ev.TASKS if task.name == "financial")

    assert [len(found) for found in ev.errors(legal, rows, predictions, 5).values()] == [0, 1]
    assert "lemonade" in ev.errors(financial, rows, predictions, 5)["false positives"][0]


def test_texts_go_to_the_classifier_in_batches(tmp_path: Path) -> None:
    rows = ev.load_corpus(write_corpus(tmp_path / "prompts"))
    classifier = KeywordClassifier()

    ev.classify(classifier, rows, batch=3)

    assert classifier.batches == [3, 3, 2]


def test_split_is_stable_and_halves_the_rows() -> None:
    texts = [f"invented prompt number {index}" for index in range(2000)]
    splits = [ev.split_of(text) for text in texts]

    assert splits == [ev.split_of(text) for text in texts]
    assert 0.45 < splits.count("test") / len(splits) < 0.55


def test_a_sample_keeps_every_file_and_is_the_same_each_time(tmp_path: Path) -> None:
    rows = ev.load_corpus(write_corpus(tmp_path / "prompts"))

    sample = ev.stratified_sample(rows, 4)

    assert {row.file for row in sample} == set(ev.FILES) & set(CORPUS)
    assert sample == ev.stratified_sample(rows, 4)


def test_when_the_corpus_is_missing_then_it_says_so_and_exits_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = tmp_path / "report.md"

    status = cli.main(["--corpus", str(tmp_path / "absent"), "--out", str(out)], classifier=KeywordClassifier())

    assert status == 2
    assert "corpus is not at" in capsys.readouterr().err
    assert not out.exists()


def test_the_report_carries_figures_and_no_corpus_text(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "prompts")
    out, figures = tmp_path / "report.md", tmp_path / "figures.json"

    status = cli.main(
        ["--corpus", str(corpus), "--out", str(out), "--json", str(figures), "--split", "all", "--no-ner"]
    )

    report = out.read_text(encoding="utf-8")
    assert status == 0
    assert "## Targets" in report
    assert "everyday prompts given any label" in report
    assert not any(row["text"] in report for rows in CORPUS.values() for row in rows)
    assert json.loads(figures.read_text(encoding="utf-8"))["views"][0]["split"] == "all"


def test_an_everyday_text_in_two_files_counts_once_in_the_headline() -> None:
    text = "Name three rivers that freeze in winter."
    rows = [
        ev.Row("alpaca_eval_instructions.jsonl", text, None),
        ev.Row("selfinstruct_instructions.jsonl", text, None),
        ev.Row("awesome_chatgpt_prompts.jsonl", "Act as a patient chess coach.", None),
    ]
    predictions = [ev.Prediction(frozenset({"legal"}), ())] * 2 + [ev.Prediction(frozenset(), ())]

    headline = ev.everyday(rows, predictions)

    assert (headline.rows, headline.any_label) == (2, 0.5)


def test_when_a_phrasebank_sentence_is_neutral_then_the_price_relevant_view_leaves_it_out() -> None:
    neutral = ev.Row(ev.FPB_FILE, "The company was founded in 1923.", "financial", ("fpb_sentiment:neutral",))
    polar = ev.Row(ev.FPB_FILE, "Operating profit fell to EUR 3 mn.", "financial", ("fpb_sentiment:negative",))
    report = ev.Row("tatqa_financial_reports.jsonl", "Revenue | 10 | 12", "financial")
    everyday = ev.Row("awesome_chatgpt_prompts.jsonl", "Act as a travel guide.", None)
    assert ev.price_relevant_financial(neutral) is None
    assert ev.price_relevant_financial(polar) is True
    assert ev.price_relevant_financial(report) is True
    assert ev.price_relevant_financial(everyday) is False


def test_when_the_benchmark_prompts_are_there_then_the_report_shows_labels_per_template(tmp_path: Path) -> None:
    corpus = write_corpus(tmp_path / "prompts")
    bench = corpus / ev.BENCH_FILE
    bench.parent.mkdir(parents=True)
    invented = [
        {"id": 1, "kind": "benign", "text": "Write a haiku about autumn leaves."},
        {"id": 2, "kind": "financial", "text": "Draft: revenue rose to 12 million this quarter."},
        {"id": 3, "kind": "financial", "text": "Summarise the meeting notes for the team."},
    ]
    bench.write_text("".join(json.dumps(row) + "\n" for row in invented), encoding="utf-8")
    out, figures = tmp_path / "report.md", tmp_path / "figures.json"

    status = cli.main(
        ["--corpus", str(corpus), "--out", str(out), "--json", str(figures), "--split", "all"],
        classifier=KeywordClassifier(),
    )

    assert status == 0
    assert "## A second source: the benchmark prompts by template" in out.read_text(encoding="utf-8")
    templates = {item["group"]: item for item in json.loads(figures.read_text(encoding="utf-8"))["templates"]}
    assert templates["benign"]["rows"] == 1
    assert templates["benign"]["any_label"] == 0.0
    assert templates["financial"]["rows"] == 2
    assert templates["financial"]["labels"]["financial"] == 0.5
