"""The classifier on the shared labelled prompt corpus: precision, recall and F1 per label, everyday prompts.

Every row of the labelled files in `../shared/corpus/prompts` (beside the project) is classified with
`Classifier.classify_many`, in batches, and compared with the corpus's labels: `labels[0]` is the row's category
(`pii`, `legal`, `financial`), `[]` a negative (everyday prompts, and presidio-research samples with no span).
The corpus labels `pii` for any presidio span, a company name or a city included; our `pii` wants an identifiable
person with data about them, so the report also scores `pii` against a definition-aligned label (`definition_pii`).

Rows are split into `dev` and `test` by a hash of their text, so rules can be tuned on dev and judged on test.

    .venv/bin/python scripts/evaluate_classifiers.py [--corpus DIR] [--split dev|test|all] [--sample N]
        [--out docs/classifier-evaluation.md] [--json F.json] [--show-errors N] [--no-ner]

`--show-errors N` prints misclassified rows to stdout, for local error analysis only (use `--split dev` for it: the
test split is for judging). The markdown report carries only aggregate figures, never corpus text.

Exits 0 when it ran (misses are findings, written to the report), 2 when the corpus is not there.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import subprocess
import sys
import textwrap
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "prompts"
DEFAULT_OUTPUT = ROOT / "docs" / "classifier-evaluation.md"
WIDTH = 115  # prose wraps like the other docs
BATCH = 64  # texts per classify_many call: NER is batched within a call

PRESIDIO_FILE = "presidio_synth_v2.jsonl"
CUAD_CLAUSES_FILE = "cuad_clauses.jsonl"
# The labelled files and the category their rows carry (the corpus README's table).
FILES: dict[str, str] = {
    PRESIDIO_FILE: "pii",
    CUAD_CLAUSES_FILE: "legal",
    "cuad_contract_excerpts.jsonl": "legal",
    "financial_phrasebank_allagree.jsonl": "financial",
    "tatqa_financial_reports.jsonl": "financial",
    "ectsum_earnings_call_excerpts.jsonl": "financial",
    "alpaca_eval_instructions.jsonl": "negative",
    "selfinstruct_instructions.jsonl": "negative",
    "awesome_chatgpt_prompts.jsonl": "negative",
}
EVERYDAY_FILES = tuple(name for name, category in FILES.items() if category == "negative")
# Mirrors events.labels.DataLabel (kept as strings so a fake classifier in the tests needs no enum).
LABELS = ("pii", "phi", "payment_card", "financial", "legal", "credentials")

# Definition-aligned pii for presidio samples, following the list: contact details and government ids by
# themselves; IP addresses "tied to people", and card or bank numbers (which have labels of their own), only with a
# person's name. A name, company, city, title, age or a date alone is what ordinary prompts are made of, and not
# pii by our definition (a date of birth is, but the corpus does not tell a birth date from any other DATE_TIME).
PII_DATA_TYPES = frozenset({"EMAIL_ADDRESS", "PHONE_NUMBER", "US_SSN", "US_DRIVER_LICENSE", "STREET_ADDRESS"})
PERSON_DETAIL_TYPES = frozenset({"IP_ADDRESS", "CREDIT_CARD", "IBAN_CODE"})
# Presidio span type -> our entity types that count as finding it (overlap is enough).
SPAN_TYPES: dict[str, frozenset[str]] = {
    "EMAIL_ADDRESS": frozenset({"EMAIL_ADDRESS"}),
    "PHONE_NUMBER": frozenset({"PHONE_NUMBER"}),
    "US_SSN": frozenset({"US_SSN", "US_ITIN"}),  # the same 3-2-4 digit form; which one depends on the number
    "CREDIT_CARD": frozenset({"CREDIT_CARD"}),
    "IBAN_CODE": frozenset({"IBAN_CODE"}),
    "IP_ADDRESS": frozenset({"IP_ADDRESS"}),
    "STREET_ADDRESS": frozenset({"STREET_ADDRESS"}),
    "US_DRIVER_LICENSE": frozenset({"US_DRIVER_LICENSE"}),
    "PERSON": frozenset({"PERSON"}),
}
CLAUSE_MIN_WORDS = 20  # shorter CUAD "clauses" are mostly party names and document titles
TARGET_EVERYDAY_SHARE = 0.03
TARGET_F1 = 0.9


class CorpusMissingError(Exception):
    pass


@dataclass(frozen=True, slots=True)
class Span:
    type: str
    start: int
    end: int


@dataclass(frozen=True, slots=True)
class Row:
    file: str
    text: str
    category: str | None  # labels[0], None for a negative
    fine: tuple[str, ...] = ()  # the source's own labels (labels[1:])
    spans: tuple[Span, ...] = ()

    @property
    def span_types(self) -> frozenset[str]:
        return frozenset(span.type for span in self.spans)

    @property
    def split(self) -> str:
        return split_of(self.text)


@dataclass(frozen=True, slots=True)
class Prediction:
    labels: frozenset[str]
    entities: tuple[Span, ...]


class Classifies(Protocol):
    """What the evaluation needs of a classifier: `classifiers.engine.Classifier`, or a fake in the tests."""

    def classify_many(self, texts: Sequence[str]) -> Sequence[Any]: ...


def split_of(text: str) -> str:
    """Half the rows are `test`, by the text's SHA-256: stable across runs and corpus rebuilds, and a text that
    appears in two files lands in the same split both times."""
    digest = hashlib.sha256(text.encode("utf-8")).digest()
    return "test" if int.from_bytes(digest[:8], "big") % 100 < 50 else "dev"


def load_corpus(directory: Path) -> list[Row]:
    if not directory.is_dir():
        raise CorpusMissingError(f"the labelled prompt corpus is not at {directory} (pass --corpus DIR)")
    rows: list[Row] = []
    for name in FILES:
        path = directory / name
        if not path.is_file():
            print(f"note: {name} is missing from {directory}; evaluating without it", file=sys.stderr)
            continue
        with path.open(encoding="utf-8") as lines:
            rows.extend(_row(name, json.loads(line)) for line in lines if line.strip())
    if not rows:
        raise CorpusMissingError(f"no labelled files of the prompt corpus in {directory}")
    return rows


# The throughput benchmark's prompts (see the corpus README): long mixed prompts built from other parts of the same
# sources plus invented cards, SSNs and keys, one generator template each. Not labels — a second view of what each
# kind of prompt is given, including the `phi` and `credentials` templates that no labelled file covers.
BENCH_FILE = "bench/presidio_bench_prompts_500.jsonl"
TEMPLATE_ORDER = ("benign", "pii", "phi", "code_secret", "legal", "financial")


def load_bench_templates(directory: Path) -> list[Row]:
    """The benchmark prompts as rows whose `fine` holds the generator template; [] when the file is absent."""
    path = directory / BENCH_FILE
    if not path.is_file():
        return []
    with path.open(encoding="utf-8") as lines:
        records = [json.loads(line) for line in lines if line.strip()]
    return [Row(BENCH_FILE, str(record["text"]), None, (str(record["kind"]),)) for record in records]


def template_shares(rows: Sequence[Row], predictions: Sequence[Prediction]) -> list[FileShares]:
    shares = label_shares(rows, predictions, group=lambda row: row.fine[0])
    return sorted(shares, key=lambda item: TEMPLATE_ORDER.index(item.group) if item.group in TEMPLATE_ORDER else 99)


def _row(file: str, record: dict[str, Any]) -> Row:
    labels = list(record.get("labels") or [])
    spans = tuple(Span(span["type"], int(span["start"]), int(span["end"])) for span in record.get("spans") or [])
    return Row(file, str(record["text"]), labels[0] if labels else None, tuple(labels[1:]), spans)


def select(rows: Sequence[Row], predictions: Sequence[Prediction], split: str) -> tuple[list[Row], list[Prediction]]:
    """The rows of one split (`all`: every row) with their predictions."""
    chosen = [(row, p) for row, p in zip(rows, predictions, strict=True) if split in {"all", row.split}]
    return [row for row, _ in chosen], [prediction for _, prediction in chosen]


def stratified_sample(rows: Sequence[Row], size: int, seed: int = 1) -> list[Row]:
    """About `size` rows with each file's share kept (at least one row per file), the same rows every run."""
    by_file: dict[str, list[Row]] = defaultdict(list)
    for row in rows:
        by_file[row.file].append(row)
    generator = random.Random(seed)
    sample: list[Row] = []
    for file in sorted(by_file):
        members = by_file[file]
        take = min(len(members), max(1, round(size * len(members) / len(rows))))
        sample.extend(generator.sample(members, take))
    return sample


def classify(
    classifier: Classifies, rows: Sequence[Row], batch: int = BATCH, progress: bool = False
) -> list[Prediction]:
    predictions: list[Prediction] = []
    started = time.monotonic()
    for first in range(0, len(rows), batch):
        for result in classifier.classify_many([row.text for row in rows[first : first + batch]]):
            labels = frozenset(str(label) for label in result.labels)
            entities = tuple(Span(entity.type, entity.start, entity.end) for entity in result.entities)
            predictions.append(Prediction(labels, entities))
        if progress and (first // batch) % 20 == 19:
            rate = len(predictions) / (time.monotonic() - started)
            print(f"  {len(predictions):,}/{len(rows):,} rows ({rate:.0f}/s)", file=sys.stderr)
    return predictions


# --- what each row is expected to be -------------------------------------------------------------------------------


def definition_pii(row: Row) -> bool:
    types = row.span_types
    return bool(types & PII_DATA_TYPES) or ("PERSON" in types and bool(types & PERSON_DETAIL_TYPES))


def has_card(row: Row) -> bool:
    return "CREDIT_CARD" in row.span_types


Expectation = Callable[[Row], bool | None]  # True: positive, False: negative, None: not part of the task


def by_category(label: str) -> Expectation:
    """Positives are the label's rows, negatives the rows with no category; other categories are left out (a
    contract given `financial` is shown in the per-file table, not counted as a false positive)."""

    def expect(row: Row) -> bool | None:
        if row.category == label:
            return True
        return False if row.category is None else None

    return expect


# The corpus README: CUAD's `Parties` / `Document Name` "clauses" are short strings (names, titles) — "filter by
# length for prompt-like evaluation". A company name or "Distribution Agreement" alone is not contract text.
PROMPT_LIKE_MIN_WORDS = 10


def prompt_like_legal(row: Row) -> bool | None:
    """The legal task without CUAD clause cells under PROMPT_LIKE_MIN_WORDS words (names, titles, dates)."""
    if row.file == "cuad_clauses.jsonl" and len(row.text.split()) < PROMPT_LIKE_MIN_WORDS:
        return None
    return by_category("legal")(row)


# Financial PhraseBank's annotators labelled each sentence by how it might affect the mentioned company's stock
# price (Malo et al. 2014); `neutral` sentences (company profiles, product news, staff changes) were judged to carry
# no price-relevant information. The label's definition is about material corporate figures, so one view of the
# financial task leaves those sentences out, by the source's own annotation.
FPB_FILE = "financial_phrasebank_allagree.jsonl"
FPB_NEUTRAL = "fpb_sentiment:neutral"


def price_relevant_financial(row: Row) -> bool | None:
    """The financial task without Financial PhraseBank's `neutral` sentences."""
    if row.file == FPB_FILE and FPB_NEUTRAL in row.fine:
        return None
    return by_category("financial")(row)


def by_spans(rule: Callable[[Row], bool]) -> Expectation:
    """Presidio samples by their spans, negatives as negatives, other categories left out."""

    def expect(row: Row) -> bool | None:
        if row.file == PRESIDIO_FILE:
            return rule(row)
        return False if row.category is None else None

    return expect


@dataclass(frozen=True, slots=True)
class Task:
    name: str
    label: str  # the label the classifier must give
    expect: Expectation
    description: str


TASKS = (
    Task("pii (corpus label)", "pii", by_category("pii"), "presidio samples with any span"),
    Task("pii (definition-aligned)", "pii", by_spans(definition_pii), "presidio samples meeting the rule below"),
    Task("payment_card", "payment_card", by_spans(has_card), "presidio samples with a CREDIT_CARD span"),
    Task("legal", "legal", by_category("legal"), "CUAD clauses and contract excerpts"),
    Task(
        "legal (prompt-like)",
        "legal",
        prompt_like_legal,
        f"CUAD clauses of at least {PROMPT_LIKE_MIN_WORDS} words and contract excerpts (the corpus README's advice)",
    ),
    Task("financial", "financial", by_category("financial"), "Financial PhraseBank, TAT-QA, ECTSum"),
    Task(
        "financial (price-relevant)",
        "financial",
        price_relevant_financial,
        "TAT-QA, ECTSum and the Financial PhraseBank sentences its annotators judged price-relevant",
    ),
)


# --- metrics -------------------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Scores:
    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    @property
    def precision(self) -> float:
        return self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0

    @property
    def recall(self) -> float:
        return self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0

    @property
    def f1(self) -> float:
        total = self.precision + self.recall
        return 2 * self.precision * self.recall / total if total else 0.0

    @property
    def false_positive_rate(self) -> float:
        return self.fp / (self.fp + self.tn) if self.fp + self.tn else 0.0

    def as_dict(self) -> dict[str, float | int]:
        figures = {"precision": self.precision, "recall": self.recall, "f1": self.f1, "fpr": self.false_positive_rate}
        return {**asdict(self), **{name: round(value, 4) for name, value in figures.items()}}


def task_outcomes(task: Task, rows: Sequence[Row], predictions: Sequence[Prediction]) -> Iterable[tuple[bool, bool]]:
    """(expected, given) for each row that is part of the task."""
    for row, prediction in zip(rows, predictions, strict=True):
        expected = task.expect(row)
        if expected is not None:
            yield expected, task.label in prediction.labels


def score(outcomes: Iterable[tuple[bool, bool]]) -> Scores:
    counts = Counter(outcomes)
    return Scores(tp=counts[True, True], fp=counts[False, True], fn=counts[True, False], tn=counts[False, False])


@dataclass(frozen=True, slots=True)
class FileShares:
    """Share of a group's rows given each label (and any label), a confusion table's row."""

    group: str
    rows: int
    labels: dict[str, float]
    any_label: float


def file_groups(row: Row) -> str:
    """The per-file table's row: presidio samples split by whether they meet the definition, so the pii they are
    given is read against the right expectation."""
    if row.file != PRESIDIO_FILE:
        return row.file.removesuffix(".jsonl")
    if not row.spans:
        return "presidio_synth_v2 (no span)"
    return "presidio_synth_v2 (definition pii)" if definition_pii(row) else "presidio_synth_v2 (span, not pii)"


def label_shares(
    rows: Sequence[Row], predictions: Sequence[Prediction], group: Callable[[Row], str] = file_groups
) -> list[FileShares]:
    members: dict[str, list[Prediction]] = defaultdict(list)
    for row, prediction in zip(rows, predictions, strict=True):
        members[group(row)].append(prediction)
    return [_shares(name, given) for name, given in members.items()]


def _shares(group: str, given: Sequence[Prediction]) -> FileShares:
    counts = Counter(label for prediction in given for label in prediction.labels)
    labelled = sum(1 for prediction in given if prediction.labels)
    return FileShares(group, len(given), {label: counts[label] / len(given) for label in LABELS}, labelled / len(given))


def everyday(rows: Sequence[Row], predictions: Sequence[Prediction]) -> FileShares:
    """The headline: each distinct everyday text once (AlpacaEval contains self-instruct's user-oriented
    instructions, and awesome-chatgpt-prompts repeats a few)."""
    distinct = {row.text: p for row, p in zip(rows, predictions, strict=True) if row.file in EVERYDAY_FILES}
    given = list(distinct.values())
    return _shares("everyday prompts", given) if given else FileShares("everyday prompts", 0, {}, 0.0)


@dataclass(frozen=True, slots=True)
class SpanRecall:
    type: str
    spans: int
    found: int
    predicted: int  # our entities of the mapped types on presidio rows
    predicted_on_span: int  # ... overlapping a presidio span of this type

    @property
    def recall(self) -> float:
        return self.found / self.spans if self.spans else 0.0

    @property
    def precision(self) -> float:
        return self.predicted_on_span / self.predicted if self.predicted else 0.0


def _overlaps(a: Span, b: Span) -> bool:
    return a.start < b.end and b.start < a.end


def span_recall(rows: Sequence[Row], predictions: Sequence[Prediction]) -> list[SpanRecall]:
    """Per presidio type we claim to find: share of its spans overlapped by one of our entities of a mapped type,
    and share of those entities of ours that overlap such a span (on presidio rows only)."""
    results = []
    pairs = [(row, prediction) for row, prediction in zip(rows, predictions, strict=True) if row.file == PRESIDIO_FILE]
    for gold_type, ours in SPAN_TYPES.items():
        spans = found = predicted = on_span = 0
        for row, prediction in pairs:
            gold = [span for span in row.spans if span.type == gold_type]
            mine = [entity for entity in prediction.entities if entity.type in ours]
            spans += len(gold)
            found += sum(1 for span in gold if any(_overlaps(span, entity) for entity in mine))
            predicted += len(mine)
            on_span += sum(1 for entity in mine if any(_overlaps(span, entity) for span in gold))
        results.append(SpanRecall(gold_type, spans, found, predicted, on_span))
    return results


@dataclass(frozen=True, slots=True)
class ClauseRecall:
    clauses: int
    recall: float
    long_clauses: int
    long_recall: float
    # CUAD categories (of long clauses, with at least 20 rows) with the lowest legal recall.
    weakest_categories: list[tuple[str, int, float]]


def clause_recall(rows: Sequence[Row], predictions: Sequence[Prediction]) -> ClauseRecall:
    clauses = [
        (row, "legal" in prediction.labels)
        for row, prediction in zip(rows, predictions, strict=True)
        if row.file == CUAD_CLAUSES_FILE
    ]
    long = [(row, given) for row, given in clauses if len(row.text.split()) >= CLAUSE_MIN_WORDS]
    per_category: dict[str, list[bool]] = defaultdict(list)
    for row, given in long:
        for label in row.fine:
            per_category[label.removeprefix("cuad:")].append(given)
    weakest = sorted(
        ((name, len(given), sum(given) / len(given)) for name, given in per_category.items() if len(given) >= 20),
        key=lambda item: item[2],
    )[:5]
    return ClauseRecall(
        len(clauses), _share(given for _, given in clauses), len(long), _share(g for _, g in long), weakest
    )


def _share(flags: Iterable[bool]) -> float:
    values = list(flags)
    return sum(values) / len(values) if values else 0.0


@dataclass
class View:
    """Every figure of the report for one split."""

    split: str
    rows: int
    tasks: dict[str, Scores]
    everyday: FileShares
    everyday_by_file: list[FileShares]
    shares: list[FileShares]
    spans: list[SpanRecall]
    clauses: ClauseRecall
    row_counts: dict[str, int] = field(default_factory=dict)

    @property
    def title(self) -> str:
        return "all rows" if self.split == "all" else f"{self.split} split"

    def as_dict(self) -> dict[str, Any]:
        return {
            "split": self.split,
            "rows": self.rows,
            "row_counts": self.row_counts,
            "tasks": {name: scores.as_dict() for name, scores in self.tasks.items()},
            "everyday": asdict(self.everyday),
            "everyday_by_file": [asdict(shares) for shares in self.everyday_by_file],
            "label_shares": [asdict(shares) for shares in self.shares],
            "spans": [
                {**asdict(s), "recall": round(s.recall, 4), "precision": round(s.precision, 4)} for s in self.spans
            ],
            "clauses": asdict(self.clauses),
        }


def evaluate(rows: Sequence[Row], predictions: Sequence[Prediction], split: str) -> View:
    """All figures for the rows of one split (`all` for every row)."""
    in_split, given = select(rows, predictions, split)
    by_everyday_file = [
        shares
        for shares in label_shares(in_split, given, lambda row: row.file.removesuffix(".jsonl"))
        if shares.group + ".jsonl" in EVERYDAY_FILES
    ]
    return View(
        split=split,
        rows=len(in_split),
        tasks={task.name: score(task_outcomes(task, in_split, given)) for task in TASKS},
        everyday=everyday(in_split, given),
        everyday_by_file=by_everyday_file,
        shares=sorted(label_shares(in_split, given), key=lambda shares: _group_order(shares.group)),
        spans=span_recall(in_split, given),
        clauses=clause_recall(in_split, given),
        row_counts=dict(Counter(row.file for row in in_split)),
    )


def _group_order(group: str) -> tuple[int, str]:
    names = [name.removesuffix(".jsonl") for name in FILES]
    base = group.split(" ", maxsplit=1)[0]
    return (names.index(base) if base in names else len(names), group)


# --- errors (stdout only) ------------------------------------------------------------------------------------------


def errors(task: Task, rows: Sequence[Row], predictions: Sequence[Prediction], limit: int) -> dict[str, list[str]]:
    """Up to `limit` false positives and false negatives of a task, each shortened, for reading on a terminal."""
    found: dict[str, list[str]] = {"false positives": [], "false negatives": []}
    for row, prediction in zip(rows, predictions, strict=True):
        expected, given = task.expect(row), task.label in prediction.labels
        if expected is None or expected == given:
            continue
        kind = "false negatives" if expected else "false positives"
        if len(found[kind]) < limit:
            found[kind].append(_describe(row, prediction))
    return found


def _describe(row: Row, prediction: Prediction) -> str:
    text = " ".join(row.text.split())
    text = text if len(text) <= 300 else text[:300] + "..."
    gold = ",".join(sorted(row.span_types)) or "-"
    ours = ",".join(sorted({entity.type for entity in prediction.entities})) or "-"
    given = ",".join(sorted(prediction.labels)) or "-"
    return f"[{row.file}] given={given} ours={ours} spans={gold}\n    {text}"


def print_errors(rows: Sequence[Row], predictions: Sequence[Prediction], limit: int) -> None:
    for task in TASKS:
        for kind, described in errors(task, rows, predictions, limit).items():
            print(f"\n## {task.name}: {kind} ({len(described)} shown)")
            for line in described:
                print(f"- {line}")


# --- the report ----------------------------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets_table(views: Sequence[View]) -> list[str]:
    header = "| target | " + " | ".join(view.title for view in views) + " |"
    lines = [header, "|---|" + "---:|" * len(views)]
    everyday_cells = [
        f"{_pct(v.everyday.any_label)} ({_met(v.everyday.any_label <= TARGET_EVERYDAY_SHARE)})" for v in views
    ]
    lines.append(
        f"| everyday prompts given any label ≤ {_pct(TARGET_EVERYDAY_SHARE)} | " + " | ".join(everyday_cells) + " |"
    )
    for task in TASKS:
        cells = [f"{v.tasks[task.name].f1:.3f} ({_met(v.tasks[task.name].f1 >= TARGET_F1)})" for v in views]
        lines.append(f"| {task.name} F1 ≥ {TARGET_F1} | " + " | ".join(cells) + " |")
    return lines


def tasks_table(views: Sequence[View]) -> list[str]:
    lines = [
        "| label (expected positives) | split | positives | negatives | precision | recall | F1 | "
        "negatives given the label |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for task in TASKS:
        for view in views:
            s = view.tasks[task.name]
            lines.append(
                f"| {task.name} ({task.description}) | {view.split} | {s.tp + s.fn:,} | {s.fp + s.tn:,} | "
                f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {_pct(s.false_positive_rate)} |"
            )
    return lines


def shares_table(shares: Sequence[FileShares]) -> list[str]:
    lines = ["| rows of | n | " + " | ".join(LABELS) + " | any |", "|---|---:|" + "---:|" * (len(LABELS) + 1)]
    for item in shares:
        cells = " | ".join(_pct(item.labels.get(label, 0.0)) for label in LABELS)
        lines.append(f"| {item.group} | {item.rows:,} | {cells} | {_pct(item.any_label)} |")
    return lines


def spans_table(views: Sequence[View]) -> list[str]:
    header = "| presidio type | our types | " + " | ".join(f"spans ({v.title}) | recall ({v.title})" for v in views)
    lines = [header + " | precision (all) |", "|---|---|" + "---:|---:|" * len(views) + "---:|"]
    last = views[-1].spans
    for index, gold_type in enumerate(SPAN_TYPES):
        cells = " | ".join(f"{v.spans[index].spans:,} | {_pct(v.spans[index].recall)}" for v in views)
        ours = ", ".join(sorted(SPAN_TYPES[gold_type]))
        lines.append(f"| {gold_type} | {ours} | {cells} | {_pct(last[index].precision)} |")
    return lines


def clauses_table(views: Sequence[View]) -> list[str]:
    lines = ["| CUAD clauses | " + " | ".join(v.title for v in views) + " |", "|---|" + "---:|" * len(views)]
    lines.append("| all: rows | " + " | ".join(f"{v.clauses.clauses:,}" for v in views) + " |")
    lines.append("| all: legal recall | " + " | ".join(_pct(v.clauses.recall) for v in views) + " |")
    lines.append(
        f"| ≥ {CLAUSE_MIN_WORDS} words: rows | " + " | ".join(f"{v.clauses.long_clauses:,}" for v in views) + " |"
    )
    lines.append(
        f"| ≥ {CLAUSE_MIN_WORDS} words: legal recall | " + " | ".join(_pct(v.clauses.long_recall) for v in views) + " |"
    )
    return lines


def everyday_table(views: Sequence[View]) -> list[str]:
    lines = [
        "| everyday prompts | " + " | ".join(v.title for v in views) + " |",
        "|---|" + "---:|" * len(views),
    ]
    lines.append("| distinct texts | " + " | ".join(f"{v.everyday.rows:,}" for v in views) + " |")
    lines.append("| **given any label** | " + " | ".join(f"**{_pct(v.everyday.any_label)}**" for v in views) + " |")
    for label in LABELS:
        lines.append(f"| given {label} | " + " | ".join(_pct(v.everyday.labels.get(label, 0.0)) for v in views) + " |")
    for item in views[-1].everyday_by_file:
        cells = []
        for view in views:
            match = [shares for shares in view.everyday_by_file if shares.group == item.group]
            cells.append(f"{_pct(match[0].any_label)} of {match[0].rows:,}" if match else "-")
        lines.append(f"| {item.group}: any label | " + " | ".join(cells) + " |")
    return lines


def corpus_table(rows: Sequence[Row]) -> list[str]:
    counts = Counter((row.file, row.split) for row in rows)
    distinct: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        distinct[row.file].add(row.text)
    lines = ["| file | category | rows | distinct texts | test | dev |", "|---|---|---:|---:|---:|---:|"]
    for name, category in FILES.items():
        total = counts[name, "test"] + counts[name, "dev"]
        if total:
            lines.append(
                f"| `{name}` | {category} | {total:,} | {len(distinct[name]):,} | {counts[name, 'test']:,} | "
                f"{counts[name, 'dev']:,} |"
            )
    test = sum(1 for row in rows if row.split == "test")
    every = len({row.text for row in rows})
    lines.append(f"| all | | {len(rows):,} | {every:,} | {test:,} | {len(rows) - test:,} |")
    return lines


def classifier_version() -> str:
    """The last commit of the classifier and its rules, and whether the working tree changes them: they are tuned
    while this runs, so a figure must say which rules it measured."""
    paths = ["classifiers", "rules/classifiers", "rules/classifier_rules.py", "rules/classifier_schema.py"]
    try:
        commit = subprocess.run(
            ["git", "log", "-1", "--format=%h", "--", *paths], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--", *paths], cwd=ROOT, capture_output=True, text=True, check=True
        ).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown (not a git checkout)"
    return f"`{commit}`" + (" with uncommitted changes" if dirty else "")


def render(
    rows: Sequence[Row],
    views: Sequence[View],
    command: str,
    when: datetime,
    *,
    ner: bool,
    version: str = "",
    templates: Sequence[FileShares] = (),
) -> str:
    cards = [view.tasks["payment_card"] for view in views]
    weakest = views[-1].clauses.weakest_categories
    parts = [
        "# Classifier evaluation",
        "",
        "The classifier (`classifiers.engine.Classifier`"
        + ("" if ner else ", pattern-only: `ner=False`")
        + ") on the shared labelled prompt corpus (`../shared/corpus/prompts`, see its README for sources, "
        "licences and caveats). Generated by `scripts/evaluate_classifiers.py`; the figures are aggregates only.",
        "",
        f"Classifier and rules at {version or classifier_version()}. Command ({when:%Y-%m-%d %H:%M} UTC):",
        "",
        "```",
        command,
        "```",
        "",
        "## Corpus and split",
        "",
        "A row's expected category is `labels[0]`; `[]` is a negative. Repeated texts (within a file, or "
        "AlpacaEval's copy of self-instruct's user-oriented instructions) count as rows in the per-label figures. "
        "Rows are split by the SHA-256 of their text, so a repeated text is always in one split "
        "(`test` when the first 8 bytes, as an integer, mod 100 < 50): rules are tuned on `dev` and judged on `test`.",
        "",
        *corpus_table(rows),
        "",
        "## Targets",
        "",
        *targets_table(views),
        "",
        "## Per label",
        "",
        "Positives are the label's rows, negatives the rows with no category (everyday prompts and presidio samples "
        "without a span); rows of another category are left out here and shown in the per-file table below. "
        "Precision depends on the ratio of positives to negatives, which is set by file sizes, not by real prompt "
        "traffic; the last column, the share of negatives given the label, does not.",
        "",
        "- **pii (corpus label)**: the corpus's `pii` = the presidio sample has any span (company, city and title "
        "spans included); negatives as above.",
        "- **pii (definition-aligned)**: a presidio sample is expected `pii` when it has a span of "
        + ", ".join(sorted(PII_DATA_TYPES))
        + "; or a PERSON span together with one of those or "
        + "/".join(sorted(PERSON_DETAIL_TYPES))
        + " (an IP address tied to a person; a card or bank number, which carry labels of their own, with a name). "
        "Other presidio samples (a name alone, a company, a city, an age, a date) are expected negatives, as the "
        "issue's definition asks for an identifiable person with data about them.",
        "- **payment_card**: presidio samples with a CREDIT_CARD span are positives; other presidio samples and the "
        "negatives are negatives.",
        "- **financial (price-relevant)**: Financial PhraseBank's annotators labelled each sentence by how it might "
        "affect the mentioned company's stock price (the source's `positive`/`negative`/`neutral`, kept in the "
        "corpus as `fpb_sentiment:*`); its `neutral` sentences (company profiles, product and staff news, 61% of the "
        "file) are left out here, as the label's definition is about material corporate figures. TAT-QA and ECTSum "
        "rows and the negatives as in `financial`.",
        "",
        *tasks_table(views),
        "",
        "## Everyday prompts",
        "",
        "AlpacaEval, self-instruct and awesome-chatgpt-prompts: benign by source, not audited (some are about legal "
        "or financial topics, some self-instruct inputs carry invented names or e-mails). AlpacaEval contains "
        "self-instruct's 252 user-oriented instructions, so the headline counts each distinct text once; the "
        "per-file rows count rows.",
        "",
        *everyday_table(views),
        "",
        "## Rows given each label, per file",
        "",
        "Share of each file's rows given each label (a row can carry several), so cross-labels are visible: a "
        "contract given `financial` is not a pii error, a presidio sample with only a company span given nothing is "
        "right by our definition.",
        "",
    ]
    for view in views:
        parts += [f"{view.title.capitalize()}:", "", *shares_table(view.shares), ""]
    parts += [
        "## Payment cards",
        "",
        "Card recall (presidio samples with a CREDIT_CARD span given `payment_card`): "
        + ", ".join(
            f"{view.split} {_pct(card.recall)} of {card.tp + card.fn:,}"
            for view, card in zip(views, cards, strict=True)
        )
        + "; negatives and card-less presidio samples given `payment_card`: "
        + ", ".join(
            f"{view.split} {card.fp:,} of {card.fp + card.tn:,}" for view, card in zip(views, cards, strict=True)
        )
        + ".",
        "",
        "## PII spans",
        "",
        "Presidio spans of the types we claim to find, matched when one of our entities of the mapped types overlaps "
        "them. Precision: share of our entities of those types on presidio samples that overlap such a span. PERSON "
        "is looked for by NER only in windows around an anchor (a phone number, an address, ...), so its recall "
        "here counts names the label rules did not need.",
        "",
        *spans_table(views),
        "",
        "## Legal: CUAD clause length",
        "",
        f"CUAD's `Parties` and `Document Name` cells are short strings (names, titles); clauses of ≥ "
        f"{CLAUSE_MIN_WORDS} words are the prompt-like ones.",
        "",
        *clauses_table(views),
        "",
    ]
    if weakest:
        parts += [
            f"Weakest CUAD categories ({views[-1].title}, clauses of ≥ {CLAUSE_MIN_WORDS} words, categories "
            "with ≥ 20 rows): "
            + "; ".join(f"{name} {_pct(recall)} of {count}" for name, count, recall in weakest)
            + ".",
            "",
        ]
    if templates:
        parts += [
            "## A second source: the benchmark prompts by template",
            "",
            f"The 500 prompts of `{BENCH_FILE}` (50 to 400 words, built by the corpus's generator from contract text, "
            "earnings calls, report tables, fake identities and instructions, with invented card numbers, SSNs and "
            "keys). The template a prompt came from is not an independent label — a `pii` prompt may also hold bank "
            "details (financial) or a card — but it is the only view of `phi` and `credentials` prompts, and its "
            "`benign` prompts are long concatenations of instructions, unlike the everyday files. Financial rules were "
            "corrected after reading what the `benign` prompts were given (a variable `arr` read as ARR), so that row "
            "is not a blind figure.",
            "",
            *shares_table(templates),
            "",
        ]
    parts += [
        "## Reproduce",
        "",
        "`.venv/bin/python scripts/evaluate_classifiers.py` (test split, with `all` alongside); `--split dev "
        "--show-errors 20` prints misclassified dev rows to the terminal for error analysis (never into this file); "
        "`--sample 2000` is a quick stratified run; `--json F.json` writes every figure.",
        "",
    ]
    return "\n".join(wrap_prose(parts))


def wrap_prose(lines: Iterable[str]) -> list[str]:
    """Prose wraps like the other docs; tables and headings cannot."""
    wrapped: list[str] = []
    in_code = False
    for line in lines:
        in_code ^= line.startswith("```")
        if in_code or len(line) <= WIDTH or line.startswith(("|", "#", "```")):
            wrapped.append(line)
            continue
        indent = "  " if line.startswith("- ") else ""
        wrapped += textwrap.wrap(line, WIDTH, subsequent_indent=indent, break_long_words=False, break_on_hyphens=False)
    return wrapped


# --- command line --------------------------------------------------------------------------------------------------


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="the labelled prompt corpus directory")
    parser.add_argument("--split", choices=["dev", "test", "all"], default="test")
    parser.add_argument("--sample", type=int, default=0, help="classify about N rows, stratified by file (seeded)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--out", type=Path, default=DEFAULT_OUTPUT, help="markdown report")
    parser.add_argument("--json", type=Path, default=None, help="also write every figure as JSON")
    parser.add_argument("--show-errors", type=int, default=0, metavar="N", help="print N errors per label to stdout")
    parser.add_argument("--no-ner", action="store_true", help="pattern-only classifier (no spaCy)")
    return parser.parse_args(argv)


def views_for(split: str) -> list[str]:
    """The report shows the chosen split and, beside it, every row."""
    return ["all"] if split == "all" else [split, "all"]


def main(argv: Sequence[str] | None = None, classifier: Classifies | None = None) -> int:
    args = parse_args(argv)
    try:
        rows = load_corpus(args.corpus)
    except CorpusMissingError as error:
        print(f"error: {error}", file=sys.stderr)
        return 2
    if args.sample:
        rows = stratified_sample(rows, args.sample, args.seed)
    if classifier is None:
        from classifiers.engine import Classifier  # noqa: PLC0415 (spaCy loads only when the corpus is there)

        classifier = Classifier.load(ner=not args.no_ner)
    # Every row is classified once: the chosen split's figures and `all` come from the same predictions.
    started = time.monotonic()
    predictions = classify(classifier, rows, progress=True)
    print(f"classified {len(rows):,} rows in {time.monotonic() - started:.0f} s", file=sys.stderr)
    views = [evaluate(rows, predictions, split) for split in views_for(args.split)]
    bench_rows = load_bench_templates(args.corpus)
    templates = template_shares(bench_rows, classify(classifier, bench_rows)) if bench_rows else []
    if args.show_errors:
        print_errors(*select(rows, predictions, args.split), args.show_errors)
    command = " ".join(
        [".venv/bin/python scripts/evaluate_classifiers.py", *(argv if argv is not None else sys.argv[1:])]
    )
    when = datetime.now(UTC)
    args.out.parent.mkdir(parents=True, exist_ok=True)
    report = render(rows, views, command, when, ner=not args.no_ner, templates=templates)
    args.out.write_text(report, encoding="utf-8")
    if args.json:
        payload = {
            "date": when.isoformat(timespec="seconds"),
            "command": command,
            "views": [v.as_dict() for v in views],
            "templates": [asdict(item) for item in templates],
        }
        args.json.write_text(json.dumps(payload, indent=2) + "\n", encoding="utf-8")
    _print_summary(views)
    return 0


def _print_summary(views: Sequence[View]) -> None:
    for view in views:
        figures = ", ".join(f"{name} F1 {scores.f1:.3f}" for name, scores in view.tasks.items())
        print(f"{view.split}: everyday given any label {_pct(view.everyday.any_label)}; {figures}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
