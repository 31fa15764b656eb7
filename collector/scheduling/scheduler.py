"""The collector's scheduled jobs on an APScheduler 3 BackgroundScheduler, one lease-holding process at a time.

Two kinds of job:
- deployment jobs (rule windows, rollups, retention purge, reports, alert delivery) must run once per
  deployment, however many collector processes there are: each run first asks the lease (lease.py) and skips,
  logging at debug, when another process holds it;
- process jobs (catalog reload) keep each process's own in-memory state fresh and run in every process.

Every job takes an explicit `now`, so tests call them directly; the scheduler only supplies the clock.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.background import BackgroundScheduler  # type: ignore[import-untyped]
from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from apscheduler.triggers.interval import IntervalTrigger  # type: ignore[import-untyped]

from collector.runtime import Runtime
from collector.scheduling import retention, rollups
from collector.scheduling.destinations import Channel, build_channels, close_all
from collector.scheduling.lease import LeaseKeeper
from collector.scheduling.notices import rule_titles
from collector.scheduling.outbox import Outbox
from collector.scheduling.reports import generate_report
from collector.scheduling.rule_windows import evaluate_rule_windows

log = logging.getLogger(__name__)

Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


@dataclass(frozen=True, slots=True)
class Job:
    id: str
    run: Callable[[datetime], object]
    trigger: Any  # an APScheduler trigger (the library is untyped)
    deployment: bool  # True: runs only in the process holding the lease
    # Also run by `collector scheduler --once` (the cron-scheduled report is not: it has its own time).
    periodic: bool = True


class CollectorScheduler:
    def __init__(self, runtime: Runtime, *, deployment_jobs: bool, clock: Clock = utc_now) -> None:
        """Builds the delivery channels at once, so a bad destination (missing secret file...) fails start-up."""
        self.runtime = runtime
        self._clock = clock
        scheduler_settings = runtime.settings.scheduler
        self.lease = LeaseKeeper(runtime.sessions, timedelta(seconds=scheduler_settings.lease_seconds))
        self._channels: list[Channel] = build_channels(runtime.settings.delivery) if deployment_jobs else []
        self.outbox = Outbox(
            runtime.sessions,
            self._channels,
            runtime.settings.delivery,
            rule_titles() if self._channels else {},
            lambda: runtime.catalog,
        )
        self.jobs = {job.id: job for job in self._build_jobs(deployment_jobs)}
        self._background: BackgroundScheduler | None = None

    def _build_jobs(self, deployment_jobs: bool) -> list[Job]:
        runtime = self.runtime
        settings = runtime.settings
        timing = settings.scheduler

        def every(seconds: float) -> Any:
            return IntervalTrigger(seconds=seconds, timezone=UTC)

        jobs: list[Job] = []
        if deployment_jobs:
            jobs.append(
                Job(
                    "rule_windows",
                    lambda now: evaluate_rule_windows(runtime, now),
                    every(timing.rule_evaluation_seconds),
                    deployment=True,
                )
            )
            jobs += [
                Job(
                    "daily_rollups",
                    lambda now: rollups.roll_up(runtime.sessions, now, timing.rollup_late_days),
                    every(timing.rollup_minutes * 60),
                    deployment=True,
                ),
                Job(
                    "retention_purge",
                    lambda now: retention.purge(runtime.sessions, settings.retention, now),
                    every(timing.purge_minutes * 60),
                    deployment=True,
                ),
                Job("alert_delivery", self.outbox.run, every(timing.delivery_seconds), deployment=True),
            ]
            if settings.reports.enabled:
                jobs.append(
                    Job(
                        "scheduled_report",
                        lambda now: generate_report(
                            runtime.sessions, runtime.catalog, settings.reports, settings.organisation_profile, now
                        ),
                        CronTrigger.from_crontab(settings.reports.schedule, timezone=UTC),
                        deployment=True,
                        periodic=False,
                    )
                )
        if timing.catalog_reload_seconds and settings.catalog_overlays:
            jobs.append(
                Job(
                    "catalog_reload",
                    lambda _now: runtime.catalogs.reload_if_changed(),
                    every(timing.catalog_reload_seconds),
                    deployment=False,
                )
            )
        return jobs

    def run_job(self, job_id: str, now: datetime | None = None) -> object:
        """Run one job now (or as of `now`) if this process may; returns the job's result, None when skipped."""
        job = self.jobs[job_id]
        moment = now or self._clock()
        if job.deployment and not self.lease.holds(moment):
            log.debug("%s skipped: another process holds the scheduler lease", job.id)
            return None
        result = job.run(moment)
        log.debug("%s done: %s", job.id, result)
        return result

    def renew_lease(self, now: datetime | None = None) -> bool:
        return self.lease.renew(now or self._clock())

    def run_once(self, now: datetime | None = None) -> dict[str, object]:
        """Take the lease and run every periodic job once: for `collector scheduler --once` driven by cron."""
        moment = now or self._clock()
        if any(job.deployment for job in self.jobs.values()) and not self.renew_lease(moment):
            log.info("another process holds the scheduler lease; nothing run")
            return {}
        try:
            return {job.id: self.run_job(job.id, moment) for job in self.jobs.values() if job.periodic}
        finally:
            self.lease.release(self._clock())

    def start(self) -> None:
        """Start the background threads. Deployment jobs run at once if the lease is taken, then on their interval."""
        if self._background is not None:
            raise RuntimeError("scheduler already started")
        timing = self.runtime.settings.scheduler
        background = BackgroundScheduler(
            timezone=UTC,
            job_defaults={
                # A run missed while the process was busy or asleep runs once, not once per missed interval.
                "coalesce": True,
                "max_instances": 1,
                "misfire_grace_time": timing.misfire_grace_seconds,
            },
        )
        now = self._clock()
        if any(job.deployment for job in self.jobs.values()):
            self.renew_lease(now)
            background.add_job(
                self.renew_lease,
                IntervalTrigger(seconds=self.lease.renew_every.total_seconds(), timezone=UTC),
                id="lease_renewal",
            )
        for job in self.jobs.values():
            background.add_job(
                self.run_job,
                job.trigger,
                args=(job.id,),
                id=job.id,
                name=job.id,
                # Catch up at start (rollups, purge, delivery) rather than an interval later; reports keep their time.
                **({"next_run_time": now} if job.periodic else {}),
            )
        background.start()
        self._background = background
        log.info("scheduler started: %s", ", ".join(self.jobs) or "no jobs")

    @property
    def running(self) -> bool:
        return self._background is not None and bool(self._background.running)

    def shutdown(self) -> None:
        """Stop taking new runs, wait for running ones, hand the lease back, close the channels."""
        if self._background is not None:
            self._background.shutdown(wait=True)
            self._background = None
        self.lease.release(self._clock())
        close_all(self._channels)
