"""Liveness and readiness for load balancers and orchestrators."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError
from starlette.concurrency import run_in_threadpool

from collector import migrate
from collector.deps import RuntimeDep
from collector.runtime import Runtime
from collector.schemas import Health

router = APIRouter(tags=["health"])


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health(status="ok")


def _readiness(runtime: Runtime) -> Health:
    try:
        with runtime.engine.connect() as connection:
            connection.execute(text("SELECT 1"))
        current = migrate.current_revision(runtime.engine)
    except SQLAlchemyError as error:
        return Health(status="unavailable", detail=f"database unreachable: {type(error).__name__}")
    head = migrate.head_revision()
    if current != head:
        return Health(status="unavailable", detail=f"schema at {current}, code expects {head}")
    return Health(status="ready")


@router.get(
    "/readyz",
    response_model=Health,
    responses={503: {"model": Health, "description": "Database unreachable or schema not migrated."}},
    summary="The database answers and its schema is at the code's revision",
)
async def readyz(runtime: RuntimeDep) -> JSONResponse:
    health = await run_in_threadpool(_readiness, runtime)
    return JSONResponse(health.model_dump(), status_code=200 if health.status == "ready" else 503)
