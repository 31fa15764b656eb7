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
import json
import sys
import time
from collections.abc import Sequence
from dataclasses import asdict
from datetime import UTC, datetime
from pathlib import Path

from classifier_evaluation import (
    ROOT,
    Classifies,
    CorpusMissingError,
    View,
    classify,
    evaluate,
    load_bench_templates,
    load_corpus,
    print_errors,
    select,
    stratified_sample,
    template_shares,
)
from classifier_report import pct, render

DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "prompts"
DEFAULT_OUTPUT = ROOT / "docs" / "classifier-evaluation.md"

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
        print(f"{view.split}: everyday given any label {pct(view.everyday.any_label)}; {figures}", file=sys.stderr)


if __name__ == "__main__":
    sys.exit(main())
