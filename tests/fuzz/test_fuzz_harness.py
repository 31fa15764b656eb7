"""The atheris harness (fuzz/fuzz_event_batch.py) runs a bounded session cleanly, and its seeds still fit the contract.

A real fuzzing session is longer and open-ended (fuzz/README.md); this keeps the harness working and runs a few
thousand inputs on every `make test`.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from events.models import EventBatch

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "fuzz" / "fuzz_event_batch.py"
SEEDS = ROOT / "fuzz" / "corpus"
RUNS = 3000


def _atheris_problem() -> str | None:
    """Why atheris cannot be used here, or None. Imported in a child so this process gets no libFuzzer hooks."""
    probe = subprocess.run([sys.executable, "-c", "import atheris"], capture_output=True, text=True, timeout=60)
    if probe.returncode == 0:
        return None
    return probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit code {probe.returncode}"


def test_a_bounded_fuzzing_session_finds_no_crash(tmp_path: Path) -> None:
    problem = _atheris_problem()
    if problem is not None:
        pytest.skip(f"atheris cannot be imported ({problem}); it is in the dev extra on Linux: pip install atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            f"-runs={RUNS}",
            "-seed=1",  # the same inputs on every run
            f"-artifact_prefix={tmp_path}/",  # a crash input lands here, not in the working directory
            str(corpus),  # new inputs go here; the shipped seeds are only read
            str(SEEDS),
        ],
        capture_output=True,
        text=True,
        timeout=180,
        cwd=tmp_path,
    )

    assert result.returncode == 0, f"the harness found a crash or failed:\n{result.stderr[-6000:]}"
    assert f"Done {RUNS} runs" in result.stderr, result.stderr[-3000:]
    assert not list(tmp_path.glob("crash-*"))


@pytest.mark.parametrize("seed", ["network-batch.json", "browser-batch.json"])
def test_the_valid_seeds_are_still_valid_batches(seed: str) -> None:
    # A seed the contract refuses would only teach the fuzzer the first error path.
    EventBatch.model_validate_json((SEEDS / seed).read_bytes())


def test_the_invalid_seed_is_still_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        EventBatch.model_validate_json((SEEDS / "invalid-batch.json").read_bytes())
    assert refused.value.error_count() > 10
