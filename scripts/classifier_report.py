"""The classifier evaluation as markdown (docs/classifier-evaluation.md): aggregate figures only, no corpus text."""

from __future__ import annotations

import subprocess
import textwrap
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from datetime import datetime

from classifier_evaluation import (
    BENCH_FILE,
    CLAUSE_MIN_WORDS,
    FILES,
    LABELS,
    PERSON_DETAIL_TYPES,
    PII_DATA_TYPES,
    ROOT,
    SPAN_TYPES,
    TASKS,
    FileShares,
    Row,
    View,
)

WIDTH = 115  # prose wraps like the other docs
TARGET_EVERYDAY_SHARE = 0.03
TARGET_F1 = 0.9

# --- the report ----------------------------------------------------------------------------------------------------


def pct(value: float) -> str:
    return f"{100 * value:.1f}%"


def _met(ok: bool) -> str:
    return "met" if ok else "**not met**"


def targets_table(views: Sequence[View]) -> list[str]:
    header = "| target | " + " | ".join(view.title for view in views) + " |"
    lines = [header, "|---|" + "---:|" * len(views)]
    everyday_cells = [
        f"{pct(v.everyday.any_label)} ({_met(v.everyday.any_label <= TARGET_EVERYDAY_SHARE)})" for v in views
    ]
    lines.append(
        f"| everyday prompts given any label ≤ {pct(TARGET_EVERYDAY_SHARE)} | " + " | ".join(everyday_cells) + " |"
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
                f"{s.precision:.3f} | {s.recall:.3f} | {s.f1:.3f} | {pct(s.false_positive_rate)} |"
            )
    return lines


def shares_table(shares: Sequence[FileShares]) -> list[str]:
    lines = ["| rows of | n | " + " | ".join(LABELS) + " | any |", "|---|---:|" + "---:|" * (len(LABELS) + 1)]
    for item in shares:
        cells = " | ".join(pct(item.labels.get(label, 0.0)) for label in LABELS)
        lines.append(f"| {item.group} | {item.rows:,} | {cells} | {pct(item.any_label)} |")
    return lines


def spans_table(views: Sequence[View]) -> list[str]:
    header = "| presidio type | our types | " + " | ".join(f"spans ({v.title}) | recall ({v.title})" for v in views)
    lines = [header + " | precision (all) |", "|---|---|" + "---:|---:|" * len(views) + "---:|"]
    last = views[-1].spans
    for index, gold_type in enumerate(SPAN_TYPES):
        cells = " | ".join(f"{v.spans[index].spans:,} | {pct(v.spans[index].recall)}" for v in views)
        ours = ", ".join(sorted(SPAN_TYPES[gold_type]))
        lines.append(f"| {gold_type} | {ours} | {cells} | {pct(last[index].precision)} |")
    return lines


def clauses_table(views: Sequence[View]) -> list[str]:
    lines = ["| CUAD clauses | " + " | ".join(v.title for v in views) + " |", "|---|" + "---:|" * len(views)]
    lines.append("| all: rows | " + " | ".join(f"{v.clauses.clauses:,}" for v in views) + " |")
    lines.append("| all: legal recall | " + " | ".join(pct(v.clauses.recall) for v in views) + " |")
    lines.append(
        f"| ≥ {CLAUSE_MIN_WORDS} words: rows | " + " | ".join(f"{v.clauses.long_clauses:,}" for v in views) + " |"
    )
    lines.append(
        f"| ≥ {CLAUSE_MIN_WORDS} words: legal recall | " + " | ".join(pct(v.clauses.long_recall) for v in views) + " |"
    )
    return lines


def everyday_table(views: Sequence[View]) -> list[str]:
    lines = [
        "| everyday prompts | " + " | ".join(v.title for v in views) + " |",
        "|---|" + "---:|" * len(views),
    ]
    lines.append("| distinct texts | " + " | ".join(f"{v.everyday.rows:,}" for v in views) + " |")
    lines.append("| **given any label** | " + " | ".join(f"**{pct(v.everyday.any_label)}**" for v in views) + " |")
    for label in LABELS:
        lines.append(f"| given {label} | " + " | ".join(pct(v.everyday.labels.get(label, 0.0)) for v in views) + " |")
    for item in views[-1].everyday_by_file:
        cells = []
        for view in views:
            match = [shares for shares in view.everyday_by_file if shares.group == item.group]
            cells.append(f"{pct(match[0].any_label)} of {match[0].rows:,}" if match else "-")
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
    parts = [
        *_introduction(rows, command, when, ner=ner, version=version),
        *_labels(views),
        *_everyday_and_files(views),
        *_cards_spans_and_clauses(views),
        *_templates(templates),
        *_reproduce(),
    ]
    return "\n".join(wrap_prose(parts))


def _introduction(rows: Sequence[Row], command: str, when: datetime, *, ner: bool, version: str) -> list[str]:
    return [
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
    ]


def _labels(views: Sequence[View]) -> list[str]:
    return [
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
    ]


def _everyday_and_files(views: Sequence[View]) -> list[str]:
    parts = [
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
    return parts


def _cards_spans_and_clauses(views: Sequence[View]) -> list[str]:
    cards = [view.tasks["payment_card"] for view in views]
    weakest = views[-1].clauses.weakest_categories
    parts: list[str] = []
    parts += [
        "## Payment cards",
        "",
        "Card recall (presidio samples with a CREDIT_CARD span given `payment_card`): "
        + ", ".join(
            f"{view.split} {pct(card.recall)} of {card.tp + card.fn:,}" for view, card in zip(views, cards, strict=True)
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
            + "; ".join(f"{name} {pct(recall)} of {count}" for name, count, recall in weakest)
            + ".",
            "",
        ]
    return parts


def _templates(templates: Sequence[FileShares]) -> list[str]:
    parts: list[str] = []
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
    return parts


def _reproduce() -> list[str]:
    return [
        "## Reproduce",
        "",
        "`.venv/bin/python scripts/evaluate_classifiers.py` (test split, with `all` alongside); `--split dev "
        "--show-errors 20` prints misclassified dev rows to the terminal for error analysis (never into this file); "
        "`--sample 2000` is a quick stratified run; `--json F.json` writes every figure.",
        "",
    ]


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
