"""The collector's ASGI application, built by create_app(settings): no engine or settings exist at import."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI
from starlette.concurrency import run_in_threadpool

from collector import console, migrate
from collector.body_limit import BodySizeLimit
from collector.errors import install_error_handlers
from collector.routes import accounts, alerts, health, heartbeats, ingest, policy, query, reports
from collector.runtime import Runtime
from collector.scheduling.scheduler import CollectorScheduler
from collector.settings import CollectorSettings
from extension_api import routes as extension_routes

log = logging.getLogger(__name__)

DESCRIPTION = """\
ShadowScope's collector: sensors and the browser extension's gateway deliver AI-tool usage events here;
reviewers and consultants read them back.

Authenticate with an API key created by `shadowscope collector keys create`:
`Authorization: Bearer ss_<key id>_<secret>`. Sensor keys send network events for their own sensor id,
browser keys send browser events, read keys query. Every error is JSON: `{"error": {"status", "code",
"message", "details": [{"field", "problem"}]}}`.
"""


def create_app(settings: CollectorSettings) -> FastAPI:
    runtime = Runtime.start(settings)
    # Built here so a bad alert destination stops start-up; with run_scheduler off only per-process jobs remain.
    scheduler = CollectorScheduler(runtime, deployment_jobs=settings.run_scheduler)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if settings.auto_migrate:
            await run_in_threadpool(migrate.upgrade, runtime.engine)
        if scheduler.jobs:
            await run_in_threadpool(scheduler.start)
        log.info("collector ready", extra={"database": runtime.engine.url.render_as_string(hide_password=True)})
        yield
        await run_in_threadpool(scheduler.shutdown)
        runtime.engine.dispose()

    app = FastAPI(
        title="ShadowScope collector",
        version="0.1.0",
        description=DESCRIPTION,
        lifespan=lifespan,
    )
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_body_bytes)
    app.state.runtime = runtime
    app.state.scheduler = scheduler
    install_error_handlers(app)
    app.include_router(ingest.router)
    app.include_router(heartbeats.router)
    app.include_router(query.router)
    app.include_router(policy.router)
    app.include_router(reports.router)
    app.include_router(extension_routes.router)
    app.include_router(extension_routes.admin_router)
    app.include_router(accounts.session_router)
    app.include_router(accounts.users_router)
    app.include_router(alerts.router)
    app.include_router(alerts.audit_router)
    app.include_router(health.router)
    console.install(app)
    return app
