"""`shadowscope classify`: JSON lines `{"id", "text"}` in, one classification per line out."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import IO, Annotated

import typer

from shadowscope.options import fail


def _list_labels() -> None:
    from events.labels import DataLabel

    for label in DataLabel:
        typer.echo(f"{label.value:<14} {label.definition}")


def _lines_with_progress(stream: IO[bytes], total: int | None) -> Iterator[bytes]:
    """The input's lines, with a progress bar on standard error when reading a file and a person is watching."""
    if total is None or not sys.stderr.isatty():
        yield from stream
        return
    from rich.progress import BarColumn, Progress, TextColumn, TransferSpeedColumn

    with Progress(TextColumn("classify"), BarColumn(), TransferSpeedColumn(), transient=True) as progress:
        task = progress.add_task("classify", total=total)
        for line in stream:
            progress.advance(task, len(line))
            yield line


def classify(
    source: Annotated[
        str | None, typer.Argument(metavar="[INPUT]", help='JSON lines {"id", "text"}: a file, or - for stdin.')
    ] = None,
    output: Annotated[Path | None, typer.Option("--output", "-o", help="Write here instead of stdout.")] = None,
    workers: Annotated[int, typer.Option(min=1, max=64, help="Worker processes (each loads the model once).")] = 1,
    redacted: Annotated[bool, typer.Option("--redacted", help="Add the redacted text to each line.")] = False,
    ner: Annotated[bool, typer.Option("--ner/--no-ner", help="Use spaCy NER for names (off: patterns only).")] = True,
    list_labels: Annotated[bool, typer.Option("--list-labels", help="List the data labels and exit.")] = False,
) -> None:
    """Classify prompt content (PII, health, payment card, financial, legal, credentials).

    Writes {"id", "labels", "scores", "entities"} per input line, in input order. A bad line is reported on
    standard error with its number and skipped; the exit status is then 1.
    """
    if list_labels:
        _list_labels()
        return
    if source is None:
        raise fail("give an input file, or - for standard input (see --help)")
    from classifiers.batch import LineError, batches, classify_batches, parse_lines

    with ExitStack() as stack:
        if source == "-":
            stream: IO[bytes] = sys.stdin.buffer
            total = None
        else:
            try:
                stream = stack.enter_context(Path(source).open("rb"))
                total = Path(source).stat().st_size
            except OSError as error:
                raise fail(f"{source}: {error.strerror or error}") from error
        try:
            out = stack.enter_context(output.open("w", encoding="utf-8")) if output else sys.stdout
        except OSError as error:
            raise fail(f"{output}: {error.strerror or error}") from error
        bad = 0
        requests = batches(parse_lines(_lines_with_progress(stream, total)))
        for records in classify_batches(requests, workers=workers, ner=ner, with_redacted=redacted):
            for record in records:
                if isinstance(record, LineError):
                    bad += 1
                    typer.echo(f"{source}:{record.line}: {record.message}", err=True)
                else:
                    out.write(record + "\n")
            out.flush()
    if bad:
        typer.echo(f"{bad} line(s) skipped", err=True)
        raise typer.Exit(1)
