"""Scheduled exposure reports and the per-process catalog reload."""

from __future__ import annotations

import json
import logging
from datetime import date
from pathlib import Path

import pytest

from collector.exposure_inventory import Window
from collector.job_settings import ReportSettings
from collector.runtime import Runtime
from collector.scheduling.reports import generate_report, report_window
from tests.collector.scheduling.conftest import NOW, OVERLAY, MakeRuntime, RowsFactory


@pytest.mark.parametrize(
    ("window", "today", "expected"),
    [
        ("last_month", date(2026, 3, 18), Window(date(2026, 2, 1), date(2026, 2, 28))),
        ("last_month", date(2026, 1, 1), Window(date(2025, 12, 1), date(2025, 12, 31))),
        ("rolling", date(2026, 3, 18), Window(date(2026, 3, 10), date(2026, 3, 17))),
    ],
)
def test_the_report_window_is_the_last_full_month_or_the_days_up_to_yesterday(
    window: str, today: date, expected: Window
) -> None:
    settings = ReportSettings.model_validate({"window": window, "rolling_days": 8})

    assert report_window(settings, today) == expected


def test_a_scheduled_report_is_written_for_the_last_month_and_replaced_when_run_again(
    runtime: Runtime, rows: RowsFactory, tmp_path: Path
) -> None:
    with rows() as add:
        add.event(NOW.replace(month=2, day=10), kind="paste")
    settings = ReportSettings(directory=tmp_path / "reports", formats=("json", "csv"), trials=1000)

    folder = generate_report(runtime.sessions, runtime.catalog, settings, None, NOW)
    again = generate_report(runtime.sessions, runtime.catalog, settings, None, NOW)

    assert folder == again == tmp_path / "reports" / "2026-02-01_2026-02-28"
    assert sorted(path.name for path in (tmp_path / "reports").iterdir()) == ["2026-02-01_2026-02-28"]
    assert sorted(path.name for path in folder.iterdir()) == ["report.csv", "report.json"]
    document = json.loads((folder / "report.json").read_text())
    assert document["window"] == {"from": "2026-02-01", "to": "2026-02-28"}


def test_changed_overlay_files_are_reloaded_and_broken_ones_keep_the_previous_catalog(
    make_runtime: MakeRuntime, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    overlay = tmp_path / "ours.yaml"
    overlay.write_text(OVERLAY.format(name="ACME LLM"))
    runtime = make_runtime(catalog_overlays=(overlay,))
    assert runtime.catalog.tools["acme-llm"].tool.name == "ACME LLM"
    assert not runtime.catalogs.reload_if_changed(), "nothing changed"

    overlay.write_text(OVERLAY.format(name="ACME gateway (renamed)"))
    assert runtime.catalogs.reload_if_changed()
    assert runtime.catalog.tools["acme-llm"].tool.name == "ACME gateway (renamed)"

    overlay.write_text(OVERLAY.format(name="ACME LLM").replace("kind: api", "kind: not-a-kind"))
    with caplog.at_level(logging.ERROR, logger="collector.catalog_source"):
        assert not runtime.catalogs.reload_if_changed()
    assert runtime.catalog.tools["acme-llm"].tool.name == "ACME gateway (renamed)"
    assert "keeping the previous catalog" in caplog.text
    assert "ours.yaml" in caplog.text
