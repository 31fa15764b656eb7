"""POST /api/v1/batches: producers deliver event batches here."""

from __future__ import annotations

from fastapi import APIRouter, Response
from starlette.concurrency import run_in_threadpool

from collector.deps import ProducerDep, RuntimeDep
from collector.errors import ApiError, ErrorResponse
from collector.ingest import IngestForbidden, ingest_batch
from collector.keys import Principal
from collector.runtime import Runtime
from collector.schemas import IngestResponse
from events.models import EventBatch

router = APIRouter(prefix="/api/v1", tags=["ingest"])

_ERRORS: dict[int | str, dict[str, object]] = {
    status: {"model": ErrorResponse, "description": description}
    for status, description in {
        400: "The body is not valid JSON.",
        401: "No API key, or an unknown or revoked one.",
        403: "The key may not send these events (wrong scope, or another sensor's id).",
        413: "The body is larger than the collector accepts.",
        422: "The batch does not match the event contract; the whole batch was refused.",
    }.items()
}


@router.post(
    "/batches",
    status_code=201,
    response_model=IngestResponse,
    responses={200: {"model": IngestResponse, "description": "This batch id was stored before."}, **_ERRORS},
    summary="Deliver a batch of events (stored whole or not at all; re-sending is safe)",
)
async def post_batch(
    batch: EventBatch, principal: ProducerDep, runtime: RuntimeDep, response: Response
) -> IngestResponse:
    return await deliver(batch, principal, runtime, response)


async def deliver(batch: EventBatch, principal: Principal, runtime: Runtime, response: Response) -> IngestResponse:
    """Store a batch for a producer (a sensor, the browser gateway, an enrolled extension) and answer for it."""
    try:
        result = await run_in_threadpool(
            ingest_batch, runtime.sessions, principal, batch, runtime.rows, runtime.catalog
        )
    except IngestForbidden as error:
        raise ApiError(403, "forbidden_events", str(error)) from error
    if result.duplicate_batch:
        response.status_code = 200
    return IngestResponse(
        batch_id=result.batch_id,
        received=result.received,
        stored=result.stored,
        duplicate_batch=result.duplicate_batch,
    )
