"""Classifying a stream of `{"id", "text"}` JSON lines: parsing with per-line errors, batching, worker processes.

A bad line is reported with its number and skipped; the lines around it are still classified, in order. With
workers, each process loads the classifier once and takes whole batches, so NER still batches within a process.
"""

from __future__ import annotations

import json
import multiprocessing
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import Any

from classifiers.engine import Classifier

BATCH_SIZE = 64
# JSON ids are strings or numbers; anything else (objects, lists) cannot be echoed back as a key.
Id = str | int | float | None


@dataclass(frozen=True, slots=True)
class Request:
    line: int
    id: Id
    text: str


@dataclass(frozen=True, slots=True)
class LineError:
    line: int
    message: str


def _request(number: int, record: object) -> Request | LineError:
    if not isinstance(record, dict):
        return LineError(number, 'expected an object {"id": ..., "text": ...}')
    text, identifier = record.get("text"), record.get("id")
    if not isinstance(text, str):
        return LineError(number, '"text" must be a string')
    if identifier is not None and (isinstance(identifier, bool) or not isinstance(identifier, str | int | float)):
        return LineError(number, '"id" must be a string or a number')
    return Request(number, identifier, text)


def parse_line(number: int, raw: bytes) -> Request | LineError | None:
    """One input line; None for a blank line."""
    if not raw.strip():
        return None
    try:
        return _request(number, json.loads(raw))
    except UnicodeDecodeError:
        return LineError(number, "not UTF-8")
    except json.JSONDecodeError as error:
        return LineError(number, f"not JSON ({error.msg} at column {error.colno})")


def parse_lines(lines: Iterable[bytes]) -> Iterator[Request | LineError]:
    for number, raw in enumerate(lines, start=1):
        parsed = parse_line(number, raw)
        if parsed is not None:
            yield parsed


def batches(items: Iterable[Request | LineError], size: int = BATCH_SIZE) -> Iterator[list[Request | LineError]]:
    iterator = iter(items)
    while chunk := list(islice(iterator, size)):
        yield chunk


def result_line(request: Request, classification: dict[str, Any]) -> str:
    return json.dumps({"id": request.id, **classification}, ensure_ascii=False)


class BatchClassifier:
    """Turns batches of parsed lines into output records (a classification or the line's error), in order."""

    def __init__(self, classifier: Classifier, *, with_redacted: bool = False) -> None:
        self._classifier = classifier
        self._with_redacted = with_redacted

    def __call__(self, batch: list[Request | LineError]) -> list[str | LineError]:
        requests = [item for item in batch if isinstance(item, Request)]
        results = iter(self._classifier.classify_many([request.text for request in requests]))
        out: list[str | LineError] = []
        for item in batch:
            if isinstance(item, LineError):
                out.append(item)
                continue
            result = next(results)
            record = result.as_dict()
            if self._with_redacted:
                record["redacted"] = result.redacted
            if result.truncated:
                record["truncated"] = True
            out.append(result_line(item, record))
        return out


_worker: BatchClassifier | None = None


def _start_worker(ner: bool, with_redacted: bool) -> None:
    global _worker  # noqa: PLW0603 - one classifier per worker process, loaded once by the pool's initializer
    _worker = BatchClassifier(Classifier.load(ner=ner), with_redacted=with_redacted)


def _work(batch: list[Request | LineError]) -> list[str | LineError]:
    assert _worker is not None, "the pool initializer loads the classifier"
    return _worker(batch)


def classify_batches(
    items: Iterable[list[Request | LineError]], *, workers: int = 1, ner: bool = True, with_redacted: bool = False
) -> Iterator[list[str | LineError]]:
    """Output per input batch, in input order; with `workers > 1` batches run in that many processes."""
    if workers <= 1:
        classify = BatchClassifier(Classifier.load(ner=ner), with_redacted=with_redacted)
        yield from map(classify, items)
        return
    # spawn, not fork: the parent may hold threads (progress bar) and a fork would copy their locks.
    context = multiprocessing.get_context("spawn")
    with context.Pool(workers, initializer=_start_worker, initargs=(ner, with_redacted)) as pool:
        yield from pool.imap(_work, items, chunksize=1)
