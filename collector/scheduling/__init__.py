"""Scheduled jobs: rule windows, daily rollups, retention purge, scheduled reports, catalog reload, alert delivery.

`CollectorScheduler` runs them on APScheduler; a lease row in the database makes one process per deployment run
the deployment-wide jobs. See docs/scheduler.md.
"""
