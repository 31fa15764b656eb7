"""The atheris harness (fuzz/fuzz_event_batch.py) runs a bounded session cleanly, and its seeds still fit the contract.

A real fuzzing session is longer and open-ended (fuzz/README.md); this keeps the harness working and runs a few
thousand inputs on every `make test`.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from events.models import EventBatch
from tests.support.atheris_runs import run_harness

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "fuzz" / "fuzz_event_batch.py"
SEEDS = ROOT / "fuzz" / "corpus"
RUNS = 3000


def test_a_bounded_fuzzing_session_finds_no_crash(tmp_path: Path) -> None:
    run_harness(HARNESS, SEEDS, tmp_path, RUNS)


@pytest.mark.parametrize("seed", ["network-batch.json", "browser-batch.json"])
def test_the_valid_seeds_are_still_valid_batches(seed: str) -> None:
    # A seed the contract refuses would only teach the fuzzer the first error path.
    EventBatch.model_validate_json((SEEDS / seed).read_bytes())


def test_the_invalid_seed_is_still_refused() -> None:
    with pytest.raises(ValidationError) as refused:
        EventBatch.model_validate_json((SEEDS / "invalid-batch.json").read_bytes())
    assert refused.value.error_count() > 10
