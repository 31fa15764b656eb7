"""`shadowscope classify` as a user runs it: a real process, JSON lines in and out, bad lines reported and skipped."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

LINES = [
    {"id": 1, "text": "Please call Priya Raman on (415) 555-0198 about the refund."},
    {"id": "b", "text": "What is an NDA?"},
    {"id": 3, "text": "Employee SSN: 536-22-8741"},
]


def _run(*args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    # The installed console script, as a user runs it.
    command = [str(Path(sys.executable).with_name("shadowscope")), "classify", *args]
    return subprocess.run(command, input=stdin, capture_output=True, timeout=300, check=False)


def _records(output: bytes) -> list[dict[str, Any]]:
    return [json.loads(line) for line in output.decode().splitlines()]


@pytest.fixture
def prompts(tmp_path: Path) -> Path:
    path = tmp_path / "prompts.jsonl"
    path.write_text("".join(json.dumps(line) + "\n" for line in LINES))
    return path


def test_when_a_file_is_classified_then_each_line_gets_labels_scores_and_entities_in_order(prompts: Path) -> None:
    result = _run(str(prompts))

    assert result.returncode == 0, result.stderr.decode()
    records = _records(result.stdout)
    assert [record["id"] for record in records] == [1, "b", 3]
    assert [record["labels"] for record in records] == [["pii"], [], ["pii"]]
    assert set(records[0]["scores"]) == {"pii", "phi", "payment_card", "financial", "legal", "credentials"}
    ssn = records[2]["entities"][0]
    assert (ssn["type"], ssn["start"], ssn["end"]) == ("US_SSN", 14, 25)
    assert "redacted" not in records[0]


def test_when_two_workers_classify_then_the_output_is_the_same_and_in_order(prompts: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.jsonl"
    result = _run(str(prompts), "--workers", "2", "--redacted", "--output", str(out))

    assert result.returncode == 0, result.stderr.decode()
    records = _records(out.read_bytes())
    assert [record["labels"] for record in records] == [["pii"], [], ["pii"]]
    assert records[2]["redacted"] == "Employee SSN: <US_SSN>"


def test_when_stdin_has_bad_lines_then_they_are_named_and_the_good_ones_still_come_out() -> None:
    stdin = (
        b'{"id": 1, "text": "SSN 536-22-8741"}\nnot json\n\xff\xfe\n{"id": 2, "text": 5}\n\n{"id": 3, "text": "hi"}\n'
    )
    result = _run("-", "--no-ner", stdin=stdin)

    assert result.returncode == 1
    assert [record["id"] for record in _records(result.stdout)] == [1, 3]
    errors = result.stderr.decode()
    assert "-:2: not JSON" in errors
    assert "-:3: not UTF-8" in errors
    assert '-:4: "text" must be a string' in errors
    assert "3 line(s) skipped" in errors


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["/no/such/file.jsonl"], "No such file or directory"),
        ([], "give an input file"),
        (["-", "--workers", "0"], "--workers"),
    ],
)
def test_when_arguments_are_wrong_then_exit_2_with_a_one_line_reason(args: list[str], message: str) -> None:
    result = _run(*args)

    assert result.returncode == 2
    assert message in result.stderr.decode()
