"""`make demo`'s job end to end, and the bundled sample data it feeds."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from events.models import EventBatch

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from make_sample_data import OUT_DIR, render, write_capture  # noqa: E402


def test_when_the_generator_runs_then_it_reproduces_the_committed_sample_data() -> None:
    for name, text in render().items():
        assert (OUT_DIR / name).read_text(encoding="utf-8") == text, f"run `make sample-data` and commit {name}"


def test_when_the_generator_runs_then_it_reproduces_the_committed_capture(tmp_path: Path, monkeypatch) -> None:  # type: ignore[no-untyped-def]
    import make_sample_data

    committed = (OUT_DIR / "office-morning.pcap").read_bytes()
    monkeypatch.setattr(make_sample_data, "OUT_DIR", tmp_path)

    assert write_capture().read_bytes() == committed, "run `make sample-data` and commit office-morning.pcap"


def test_sample_batches_follow_the_contract() -> None:
    for path in OUT_DIR.glob("*.json"):
        assert EventBatch.model_validate_json(path.read_bytes()).events


def test_when_the_demo_runs_then_a_real_collector_stores_and_reports_the_samples(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shadowscope", "demo", "--workdir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=300,
    )

    assert result.returncode == 0, result.stderr
    assert "sensor batch: 48 events received, 48 stored" in result.stdout
    assert "same batch again: 0 stored (duplicate batch: True)" in result.stdout
    assert "HTTP 422: events[3].bytes_up" in result.stdout
    assert "browser batch: 4 events received, 4 stored" in result.stdout
    assert "openai-chatgpt" in result.stdout
    assert "AI tools seen: openai-chatgpt" in result.stdout
    assert "1 batches delivered" in result.stdout
    assert "anthropic-claude" in result.stdout
