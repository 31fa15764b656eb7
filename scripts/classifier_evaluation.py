"""What the classifier evaluation measures: the labelled corpus, what each row is expected to be, and the
figures (per-label precision/recall/F1, everyday prompts, per-file shares, spans, clause length, errors).

Used by `scripts/evaluate_classifiers.py` (the command) and `scripts/classifier_report.py` (the markdown).
"""

from __future__ import annotations

import hashlib
import json
import random
import sys
import time
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Protocol

ROOT = Path(__file__).resolve().parents[1]
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
