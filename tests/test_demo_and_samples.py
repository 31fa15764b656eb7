"""`make demo`'s job end to end, and the bundled sample data it feeds."""

from __future__ import annotations

import json
import subprocess
import sys
from collections import Counter
from datetime import date
from pathlib import Path

import pytest

from events.models import MAX_BATCH_EVENTS, EventBatch, PasteEvent, PromptEvent, UploadEvent
from rules.catalog import load_catalog
from rules.exposure_parameters import load_parameters, load_profile

PROJECT_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT_ROOT / "scripts"))

from make_sample_data import (  # noqa: E402
    DEPARTMENT_OF,
    OUT_DIR,
    prompt_workload,
    render,
    write_capture,
)

PROMPT_BATCHES = ("prompts-batch-2026-08.json", "prompts-batch-2026-09.json", "prompts-batch-2026-10.json")


def _prompt_events() -> list[PromptEvent | PasteEvent | UploadEvent]:
    events: list[PromptEvent | PasteEvent | UploadEvent] = []
    for name in PROMPT_BATCHES:
        batch = EventBatch.model_validate_json((OUT_DIR / name).read_bytes())
        events.extend(e for e in batch.events if isinstance(e, PromptEvent | PasteEvent | UploadEvent))
    return events


def test_when_the_generator_runs_then_it_reproduces_the_committed_sample_data() -> None:
    rendered = render()

    assert {*PROMPT_BATCHES, "organisation.yaml", "network-batch.json", "browser-batch.json"} <= set(rendered)
    for name, text in rendered.items():
        assert (OUT_DIR / name).read_text(encoding="utf-8") == text, f"run `make sample-data` and commit {name}"
    stale = {path.name for path in OUT_DIR.glob("*.json")} - set(rendered)
    assert not stale, f"sample-data/ holds batches the script no longer writes: {sorted(stale)}"


def test_when_the_generator_runs_then_it_reproduces_the_committed_capture(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import make_sample_data

    committed = (OUT_DIR / "office-morning.pcap").read_bytes()
    monkeypatch.setattr(make_sample_data, "OUT_DIR", tmp_path)

    assert write_capture().read_bytes() == committed, "run `make sample-data` and commit office-morning.pcap"


def test_sample_batches_follow_the_contract() -> None:
    for path in OUT_DIR.glob("*.json"):
        batch = EventBatch.model_validate_json(path.read_bytes())
        assert batch.events
        assert len(batch.events) <= MAX_BATCH_EVENTS


def test_the_prompt_workload_is_three_months_of_a_small_company_on_catalogued_tools() -> None:
    events = _prompt_events()
    catalog = load_catalog()

    assert 300 <= len(events) <= 600
    assert all(date(2026, 8, 1) <= e.occurred_at.date() <= date(2026, 10, 31) for e in events)
    assert {f"{e.occurred_at:%Y-%m}" for e in events} == {"2026-08", "2026-09", "2026-10"}
    assert len({e.user for e in events}) == 25
    assert len(set(DEPARTMENT_OF.values())) == 6
    assert len({e.tool_id for e in events}) == 6
    for event in events:
        match = catalog.lookup(event.host)
        assert match is not None, event.host
        assert match.value.tool.id == event.tool_id, event.host
    kinds = Counter(e.kind for e in events)
    assert kinds["prompt"] > kinds["paste"] > kinds["upload"] > 0
    labelled = [sample for sample in prompt_workload() if sample.labels]
    assert 0.08 <= len(labelled) / len(events) <= 0.16
    repeated = Counter((s.event.user, getattr(s.event, "text", None)) for s in labelled)
    assert max(repeated.values()) >= 3, "one user pastes the same customer list several times"


def test_the_demo_organisation_profile_names_every_demo_user_and_justifies_its_override() -> None:
    profile = load_profile(OUT_DIR / "organisation.yaml")
    parameters = load_parameters(profile)

    assert profile.hipaa == "business_associate"
    assert profile.pci_merchant_level == 3
    assert profile.subjects.eu_uk > 0
    assert {e.user for e in _prompt_events()} <= set(profile.departments)
    assert len(parameters.overrides) == 1
    assert all(len(note) > 40 for note in parameters.overrides.values())


def test_every_sample_prompt_gets_exactly_the_labels_it_was_written_to_carry() -> None:
    from classifiers.engine import Classifier

    intended = {
        sample.event.text: sample.labels
        for sample in prompt_workload()
        if isinstance(sample.event, PromptEvent | PasteEvent) and sample.event.text is not None
    }
    texts = list(intended)
    results = Classifier.load().classify_many(texts)

    wrong = [
        (sorted(intended[text]), sorted(label.value for label in result.labels), text[:120])
        for text, result in zip(texts, results, strict=True)
        if {label.value for label in result.labels} != intended[text]
    ]
    assert not wrong, wrong
    carried = Counter(label for labels in intended.values() for label in labels)
    assert set(carried) == {"pii", "phi", "payment_card", "financial", "legal", "credentials"}


def test_when_the_demo_runs_then_a_real_collector_stores_the_samples_and_writes_the_board_report(
    tmp_path: Path,
) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "shadowscope", "demo", "--workdir", str(tmp_path / "demo")],
        capture_output=True,
        text=True,
        timeout=600,
        cwd=tmp_path,
        check=False,
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
    for name in PROMPT_BATCHES:
        assert f"{name}: " in result.stdout
    assert "48 of 449 texts carry at least one label" in result.stdout
    # Raised by the collector itself on arrival: the credentials pasted into a tool, and first uses of tools.
    assert "critical        6       6  Credentials pasted into an AI tool" in result.stdout
    assert "First use of an AI tool in the organisation" in result.stdout
    assert "expected annual loss $" in result.stdout
    out = tmp_path / "out" / "demo"
    for name in ("report.pdf", "report.xlsx", "report.csv", "report.json"):
        assert (out / name).stat().st_size > 0, name
        assert f"out/demo/{name}" in result.stdout
    assert (out / "report.pdf").read_bytes().startswith(b"%PDF")
    assert (out / "report.xlsx").read_bytes().startswith(b"PK")
    report = json.loads((out / "report.json").read_text(encoding="utf-8"))
    assert report["organisation"] == "Lumenwell Health (demo)"
    assert report["window"] == {"from": "2026-08-01", "to": "2026-10-31"}
    assert report["evidence"]["labelled_events"] == 48
    assert report["total"]["mean"] > 0
    assert "window_from" in (out / "report.csv").read_text(encoding="utf-8").splitlines()[0]
