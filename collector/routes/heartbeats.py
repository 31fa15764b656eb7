"""POST /api/v1/heartbeats: sensors and browser extensions report that they are alive and what they hold back."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends
from pydantic import BaseModel, Field
from starlette.concurrency import run_in_threadpool

from collector.deps import RuntimeDep, require_scope
from collector.errors import ApiError, ErrorResponse
from collector.keys import Principal, Scope
from collector.producer_health import HeartbeatForbidden, record_heartbeat
from collector.runtime import Runtime
from events.heartbeat import HEARTBEATS_PATH, Heartbeat, ProducerKind

router = APIRouter(tags=["ingest"])

HeartbeatSenderDep = Annotated[Principal, Depends(require_scope(Scope.SENSOR, Scope.BROWSER, Scope.DEVICE))]

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "The body is not valid JSON.",
        401: "No API key, or an unknown or revoked one.",
        403: "The key may not report for this producer (wrong scope, or another sensor's or device's id).",
        413: "The body is larger than the collector accepts.",
        422: "The heartbeat does not match the contract (events/heartbeat.py).",
    }.items()
}


class HeartbeatReceipt(BaseModel):
    kind: ProducerKind
    producer_id: str
    received_at: datetime
    current: bool = Field(description="False when a heartbeat sent later was already kept; this one changed nothing.")


def _record(runtime: Runtime, principal: Principal, heartbeat: Heartbeat) -> HeartbeatReceipt:
    received_at = datetime.now(UTC)
    with runtime.sessions.begin() as session:
        current = record_heartbeat(session, principal, heartbeat, received_at)
    return HeartbeatReceipt(
        kind=heartbeat.kind, producer_id=heartbeat.producer_id, received_at=received_at, current=current
    )


@router.post(
    HEARTBEATS_PATH,
    status_code=200,
    response_model=HeartbeatReceipt,
    responses=_ERRORS,
    summary="Report a producer's health (the newest heartbeat per producer is kept)",
)
async def post_heartbeat(heartbeat: Heartbeat, principal: HeartbeatSenderDep, runtime: RuntimeDep) -> HeartbeatReceipt:
    return await deliver_heartbeat(heartbeat, principal, runtime)


async def deliver_heartbeat(heartbeat: Heartbeat, principal: Principal, runtime: Runtime) -> HeartbeatReceipt:
    """Keep a producer's heartbeat and answer for it (here, and for the extension API's /ext/v1/heartbeat)."""
    try:
        return await run_in_threadpool(_record, runtime, principal, heartbeat)
    except HeartbeatForbidden as error:
        raise ApiError(403, "forbidden_heartbeat", str(error)) from error
