"""Scheduled exposure reports: the board report for the last full month (or a rolling window) written to a folder.

Each window gets its own folder, `<first day>_<last day>`, written under a hidden name and renamed when complete,
so whatever picks the files up (a file share, a sync job) never sees half a set.
"""

from __future__ import annotations

import logging
import shutil
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

from collector.exposure_inventory import Window
from collector.exposure_report import exposure_report
from collector.job_settings import ReportSettings
from exposure.exports import write_exports
from rules.catalog import Catalog
from rules.exposure_parameters import load_profile

log = logging.getLogger(__name__)


def report_window(settings: ReportSettings, today: date) -> Window:
    """The last full calendar month before `today`, or the `rolling_days` days ending yesterday."""
    if settings.window == "last_month":
        last = today.replace(day=1) - timedelta(days=1)
        return Window(last.replace(day=1), last)
    end = today - timedelta(days=1)
    return Window(end - timedelta(days=settings.rolling_days - 1), end)


def generate_report(
    sessions: sessionmaker[Session],
    catalog: Catalog,
    settings: ReportSettings,
    profile_file: Path | None,
    now: datetime,
) -> Path:
    """Write the report for the window `now` falls after; returns its folder (replaced if it existed)."""
    if settings.directory is None:
        raise ValueError("scheduled reports are off: set reports.directory")
    window = report_window(settings, now.astimezone(UTC).date())
    profile = load_profile(profile_file) if profile_file is not None else load_profile()
    with sessions() as session:
        report = exposure_report(
            session, catalog, profile, start=window.start, end=window.end, trials=settings.trials, seed=settings.seed
        )
    name = f"{window.start.isoformat()}_{window.end.isoformat()}"
    final = settings.directory / name
    partial = settings.directory / f".{name}.partial"
    shutil.rmtree(partial, ignore_errors=True)
    write_exports(report, partial, settings.formats)
    if final.exists():
        shutil.rmtree(final)
    partial.rename(final)
    log.info("scheduled exposure report for %s to %s written to %s", window.start, window.end, final)
    return final
