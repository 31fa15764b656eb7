"""GET /api/v1/events and /api/v1/usage: what was seen, for readers (the console, consultants, SIEM pulls)."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal

from fastapi import APIRouter, Query
from pydantic import AwareDatetime, BeforeValidator

from collector import queries
from collector.deps import ReaderDep, ReadSessionDep, RuntimeDep
from collector.errors import ApiError, ErrorResponse
from collector.schemas import EventPageOut, StoredEventOut, UsageOut, UsageRowOut

router = APIRouter(prefix="/api/v1", tags=["query"])

_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ErrorResponse, "description": "The key has no read scope."},
    422: {"model": ErrorResponse, "description": "A filter is malformed."},
}

MAX_ID = 2**63 - 1  # the database's BIGINT: larger cursors and offsets are refused, not sent to SQL
_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL


def _rfc3339_only(value: object) -> object:
    # pydantic would also read "1700000000" as a Unix time; the API promises RFC 3339.
    if isinstance(value, str):
        try:
            float(value)
        except ValueError:
            return value
        raise ValueError("times are RFC 3339 (2026-11-02T08:00:00Z), not numbers")
    return value


Time = Annotated[AwareDatetime, BeforeValidator(_rfc3339_only)]
Since = Annotated[Time | None, Query(description="Events at or after this time (RFC 3339 with offset).")]
Until = Annotated[Time | None, Query(description="Events before this time.")]
Tool = Annotated[str | None, Query(max_length=128, pattern=_NO_NUL, description="Catalog id of the AI tool.")]
Client = Annotated[
    str | None, Query(max_length=256, pattern=_NO_NUL, description="Client IP, or user/device for browser events.")
]
Sensor = Annotated[str | None, Query(max_length=128, pattern=_NO_NUL, description="Sensor id (or device id).")]
Kind = Annotated[
    Literal["network_usage", "visit", "prompt", "paste", "upload"] | None, Query(description="Event kind.")
]


def _filter(
    since: datetime | None,
    until: datetime | None,
    tool: str | None,
    client: str | None,
    sensor: str | None,
    kind: str | None = None,
) -> queries.EventFilter:
    if since is not None and until is not None and until <= since:
        raise ApiError(422, "validation_error", "until must be later than since")
    return queries.EventFilter(since=since, until=until, tool_id=tool, client=client, source_id=sensor, kind=kind)


@router.get("/events", response_model=EventPageOut, responses=_ERRORS, summary="Stored events, page by page")
def list_events(
    _reader: ReaderDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    since: Since = None,
    until: Until = None,
    tool: Tool = None,
    client: Client = None,
    sensor: Sensor = None,
    kind: Kind = None,
    after: Annotated[int | None, Query(ge=0, le=MAX_ID, description="Cursor: next_after of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> EventPageOut:
    limit = min(limit, runtime.settings.query_page_max)
    page = queries.list_events(session, _filter(since, until, tool, client, sensor, kind), after, limit)
    return EventPageOut(
        events=[StoredEventOut.model_validate(event) for event in page.events], next_after=page.next_after
    )


@router.get("/usage", response_model=UsageOut, responses=_ERRORS, summary="Usage per AI tool and/or client")
def usage(
    _reader: ReaderDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    since: Since = None,
    until: Until = None,
    tool: Tool = None,
    client: Client = None,
    sensor: Sensor = None,
    group_by: Annotated[queries.UsageGrouping, Query()] = queries.UsageGrouping.TOOL,
    offset: Annotated[int, Query(ge=0, le=MAX_ID)] = 0,
    limit: Annotated[int, Query(ge=1, le=10_000)] = 100,
) -> UsageOut:
    limit = min(limit, runtime.settings.query_page_max)
    rows = queries.usage(session, _filter(since, until, tool, client, sensor), group_by, offset, limit)
    return UsageOut(grouping=group_by.value, rows=[UsageRowOut.model_validate(row) for row in rows])
