"""Running an atheris harness for a bounded number of inputs from a test, or saying why it cannot run here."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest


def atheris_problem() -> str | None:
    """Why atheris cannot be used here, or None. Imported in a child so this process gets no libFuzzer hooks."""
    probe = subprocess.run([sys.executable, "-c", "import atheris"], capture_output=True, text=True, timeout=60)
    if probe.returncode == 0:
        return None
    return probe.stderr.strip().splitlines()[-1] if probe.stderr.strip() else f"exit code {probe.returncode}"


def run_harness(harness: Path, seeds: Path, workdir: Path, runs: int) -> None:
    """Run `runs` inputs with a fixed seed; fail with libFuzzer's report when the harness finds a crash."""
    problem = atheris_problem()
    if problem is not None:
        pytest.skip(f"atheris cannot be imported ({problem}); it is in the dev extra on Linux: pip install atheris")
    corpus = workdir / "corpus"
    corpus.mkdir()
    result = subprocess.run(
        [
            sys.executable,
            str(harness),
            f"-runs={runs}",
            "-seed=1",  # the same inputs on every run
            f"-artifact_prefix={workdir}/",  # a crash input lands here, not in the working directory
            str(corpus),  # new inputs go here; the shipped seeds are only read
            str(seeds),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=workdir,
    )
    assert result.returncode == 0, f"the harness found a crash or failed:\n{result.stderr[-6000:]}"
    assert f"Done {runs} runs" in result.stderr, result.stderr[-3000:]
    assert not list(workdir.glob("crash-*"))
