"""The scheduler: jobs run only in the lease holder, the real APScheduler runs them, the app and CLI start it."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from typer.testing import CliRunner

from collector.app import create_app
from collector.models import DailyUsage, SchedulerLease
from collector.runtime import Runtime
from collector.scheduling.scheduler import CollectorScheduler
from collector.settings import CollectorSettings
from shadowscope.cli import app as cli
from tests.collector.scheduling.conftest import NOW, OVERLAY, MakeRuntime, RowsFactory

WAIT_S = 20.0  # a ceiling for a job that never runs, so a broken scheduler fails the test instead of hanging it


def rollup_rows(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return session.scalar(select(func.count()).select_from(DailyUsage)) or 0


def test_deployment_jobs_run_only_in_the_process_holding_the_lease(
    make_runtime: MakeRuntime, rows: RowsFactory
) -> None:
    with rows() as add:
        add.event(NOW - timedelta(days=1))
    first = CollectorScheduler(make_runtime(), deployment_jobs=True, clock=lambda: NOW)
    second = CollectorScheduler(make_runtime(), deployment_jobs=True, clock=lambda: NOW)

    assert first.renew_lease()
    assert not second.renew_lease()
    assert second.run_job("daily_rollups") is None, "skipped: the other process holds the lease"
    assert rollup_rows(second.runtime) == 0

    assert first.run_job("daily_rollups") == 7  # the closed days of the default 7-day late-event window
    assert rollup_rows(first.runtime) == 1


def test_the_jobs_scheduled_follow_the_settings(make_runtime: MakeRuntime, tmp_path: Path) -> None:
    overlay = tmp_path / "ours.yaml"
    overlay.write_text(OVERLAY.format(name="ACME LLM"))
    serving = make_runtime(catalog_overlays=(overlay,))
    everything = make_runtime(catalog_overlays=(overlay,), reports={"directory": str(tmp_path / "reports")})

    assert set(CollectorScheduler(serving, deployment_jobs=False).jobs) == {"catalog_reload"}
    assert set(CollectorScheduler(everything, deployment_jobs=True).jobs) == {
        "rule_windows",
        "daily_rollups",
        "retention_purge",
        "alert_delivery",
        "scheduled_report",
        "catalog_reload",
    }
    assert CollectorScheduler(make_runtime(), deployment_jobs=False).jobs == {}


def test_the_real_scheduler_runs_a_job_once_it_holds_the_lease_and_releases_the_lease_on_shutdown(
    make_runtime: MakeRuntime, rows: RowsFactory
) -> None:
    with rows() as add:
        add.event(datetime.now(UTC) - timedelta(days=1))
    scheduler = CollectorScheduler(make_runtime(scheduler={"lease_seconds": 3}), deployment_jobs=True)

    scheduler.start()
    try:
        assert scheduler.running
        deadline = time.monotonic() + WAIT_S
        while rollup_rows(scheduler.runtime) == 0 and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        scheduler.shutdown()

    assert rollup_rows(scheduler.runtime) == 1
    assert not scheduler.running
    with scheduler.runtime.sessions() as session:
        lease = session.scalars(select(SchedulerLease)).one()
    assert lease.holder == scheduler.lease.holder
    assert lease.expires_at <= datetime.now(UTC), "released: the next process need not wait for it to lapse"


def test_the_app_starts_and_stops_the_scheduler_when_run_scheduler_is_on(tmp_path: Path, database_url: str) -> None:
    settings = CollectorSettings(
        data_dir=tmp_path / "data", database_url=database_url, run_scheduler=True, classify_content=False
    )
    app = create_app(settings)
    scheduler: CollectorScheduler = app.state.scheduler

    with TestClient(app):
        assert scheduler.running
        assert "alert_delivery" in scheduler.jobs
    assert not scheduler.running


def test_run_scheduler_defaults_to_on_and_the_environment_turns_it_off(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("SHADOWSCOPE_COLLECTOR_RUN_SCHEDULER")
    assert CollectorSettings(data_dir=tmp_path).run_scheduler

    monkeypatch.setenv("SHADOWSCOPE_COLLECTOR_RUN_SCHEDULER", "false")
    monkeypatch.setenv("SHADOWSCOPE_COLLECTOR_RETENTION__EVENTS_DAYS", "45")
    settings = CollectorSettings(data_dir=tmp_path)
    assert not settings.run_scheduler
    assert settings.retention.events_days == 45


def test_collector_scheduler_once_runs_each_periodic_job_and_exits(
    runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SHADOWSCOPE_COLLECTOR_DATABASE_URL", runtime.settings.resolved_database_url)
    monkeypatch.setenv("SHADOWSCOPE_COLLECTOR_DATA_DIR", str(runtime.settings.data_dir))

    result = CliRunner().invoke(cli, ["collector", "scheduler", "--once"])

    assert result.exit_code == 0, result.output
    assert [line.split(":")[0] for line in result.output.splitlines()] == [
        "rule_windows",
        "daily_rollups",
        "retention_purge",
        "alert_delivery",
    ]
