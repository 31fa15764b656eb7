"""Every input the sensor-decoder fuzzer ever crashed on stays a test; and a short fuzzing session runs cleanly."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
HARNESS = ROOT / "fuzz" / "fuzz_sensor_decoders.py"
REGRESSIONS = sorted(p for p in (ROOT / "fuzz" / "sensor-regressions").iterdir() if not p.name.startswith("."))
RUNS = 20_000


def _replay(path: Path) -> subprocess.CompletedProcess[str]:
    # In a child process: importing atheris installs libFuzzer hooks that this test process should not carry.
    code = (
        "import sys; sys.argv = ['x']; sys.path.insert(0, 'fuzz');"
        "from fuzz_sensor_decoders import exercise;"
        f"exercise(open({str(path)!r}, 'rb').read())"
    )
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60, cwd=ROOT)


@pytest.mark.parametrize("path", REGRESSIONS, ids=[p.name for p in REGRESSIONS])
def test_a_former_crash_input_is_handled(path: Path) -> None:
    result = _replay(path)

    assert result.returncode == 0, result.stderr[-3000:]


def test_a_bounded_fuzzing_session_of_the_decoders_finds_no_crash(tmp_path: Path) -> None:
    probe = subprocess.run([sys.executable, "-c", "import atheris"], capture_output=True, timeout=60)
    if probe.returncode != 0:
        pytest.skip("atheris cannot be imported; it is in the dev extra on Linux: pip install atheris")
    corpus = tmp_path / "corpus"
    corpus.mkdir()

    result = subprocess.run(
        [
            sys.executable,
            str(HARNESS),
            f"-runs={RUNS}",
            "-seed=1",
            f"-artifact_prefix={tmp_path}/",
            str(corpus),
            str(ROOT / "fuzz" / "sensor-corpus"),
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )

    assert result.returncode == 0, result.stderr[-6000:]
    assert f"Done {RUNS} runs" in result.stderr
