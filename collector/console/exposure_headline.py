"""The overview's exposure headline: computed in the background, kept for a few minutes, never awaited by a page.

The full report runs 100,000 trials over every stored content event: fine for an export, seconds on a million
events. The overview shows the last figure it has (with when it was computed) and starts a refresh when that is
older than TTL; the first visit after start-up says the figure is being computed.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from collector.runtime import Runtime
from rules.exposure_parameters import load_profile

log = logging.getLogger(__name__)

TRIALS = 10_000  # about 1% Monte Carlo error on the mean: plenty for a headline; the export runs the full count
TTL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Headline:
    mean: float
    p90: float
    window_from: date
    window_to: date
    content_events: int
    labelled_events: int
    computed_at: datetime


@dataclass(frozen=True, slots=True)
class HeadlineState:
    headline: Headline | None
    computing: bool
    failed: bool


class HeadlineCache:
    def __init__(self, ttl: timedelta = TTL, trials: int = TRIALS) -> None:
        self.ttl = ttl
        self.trials = trials
        self._lock = threading.Lock()
        self._headline: Headline | None = None
        self._worker: threading.Thread | None = None
        self._failed = False

    def current(self, runtime: Runtime, now: datetime) -> HeadlineState:
        """What to show now; starts a refresh in the background when there is none or it is stale."""
        with self._lock:
            stale = self._headline is None or now - self._headline.computed_at > self.ttl
            if stale and self._worker is None:
                self._worker = threading.Thread(
                    target=self._refresh, args=(runtime,), name="console-exposure-headline", daemon=True
                )
                self._worker.start()
            return HeadlineState(self._headline, self._worker is not None, self._failed)

    def wait(self, timeout: float | None = None) -> None:
        """For tests and the screenshot script: let a running refresh finish."""
        worker = self._worker
        if worker is not None:
            worker.join(timeout)

    def compute(self, runtime: Runtime) -> Headline:
        # Imported here: the Monte Carlo stack loads when a figure is first wanted, not with every worker.
        from collector.exposure_report import exposure_report  # noqa: PLC0415

        profile_file = runtime.settings.organisation_profile
        profile = load_profile(profile_file) if profile_file else load_profile()
        with runtime.sessions() as session:
            report = exposure_report(session, runtime.catalog, profile, trials=self.trials)
        return Headline(
            mean=report.total.mean,
            p90=report.total.p90,
            window_from=report.window_from,
            window_to=report.window_to,
            content_events=report.evidence.events,
            labelled_events=report.evidence.labelled_events,
            computed_at=datetime.now(UTC),
        )

    def _refresh(self, runtime: Runtime) -> None:
        try:
            headline = self.compute(runtime)
        except Exception:
            # A broken profile or database must not take the overview down: the page says the figure is missing.
            log.exception("console exposure headline failed")
            with self._lock:
                self._failed, self._worker = True, None
            return
        with self._lock:
            self._headline, self._failed, self._worker = headline, False, None
