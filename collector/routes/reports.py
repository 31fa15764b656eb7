"""GET /api/v1/reports/exposure: the board exposure report, as JSON, CSV, XLSX or PDF, for readers."""

from __future__ import annotations

import re
from datetime import date
from typing import Annotated, Literal

from fastapi import APIRouter, Query, Response
from pydantic import BeforeValidator

from collector.deps import ReaderDep, ReadSessionDep, RuntimeDep
from collector.errors import ApiError, ErrorResponse
from collector.exposure_report import InvalidWindow, exposure_report
from rules.exposure_parameters import ExposureRulesError, load_profile

router = APIRouter(prefix="/api/v1/reports", tags=["reports"])

MEDIA_TYPES = {
    "json": "application/json",
    "csv": "text/csv; charset=utf-8",
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "pdf": "application/pdf",
}


def _iso_date_only(value: object) -> object:
    # pydantic would also read "0" or "1700000000" as a date (Unix time); the API promises YYYY-MM-DD.
    if isinstance(value, str) and not _ISO_DATE.fullmatch(value):
        raise ValueError("dates are YYYY-MM-DD")
    return value


_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
IsoDate = Annotated[date, BeforeValidator(_iso_date_only)]
_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ErrorResponse, "description": "The key has no read scope."},
    422: {"model": ErrorResponse, "description": "A parameter is malformed, or the window ends before it starts."},
}


@router.get(
    "/exposure",
    responses={
        **_ERRORS,
        200: {
            "description": "The report in the chosen format (aggregates only: no text, snippet or identifier).",
            "content": {media: {} for media in MEDIA_TYPES.values()},
        },
    },
)
def exposure(
    _: ReaderDep,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    format: Annotated[Literal["json", "csv", "xlsx", "pdf"], Query(description="Export format.")] = "json",
    start: Annotated[
        IsoDate | None, Query(alias="from", description="First day, YYYY-MM-DD (default: first stored).")
    ] = None,
    end: Annotated[
        IsoDate | None, Query(alias="to", description="Last day, YYYY-MM-DD (default: last stored).")
    ] = None,
    seed: Annotated[int, Query(ge=0, le=2**32 - 1, description="Same data and seed, same figures.")] = 20261125,
    trials: Annotated[int, Query(ge=1_000, le=1_000_000, description="Monte Carlo trials.")] = 100_000,
) -> Response:
    """Dollar exposure per regulation over a window: expected annual loss, percentiles, tools, trend, sources."""
    # The plotting and PDF stack loads when a report is first asked for, not with every collector worker.
    from exposure.exports import export_bytes  # noqa: PLC0415

    if start is not None and end is not None and end < start:
        raise ApiError(422, "invalid_window", "to must not be before from")
    try:
        profile_file = runtime.settings.organisation_profile
        profile = load_profile(profile_file) if profile_file else load_profile()
    except ExposureRulesError as error:
        raise ApiError(500, "profile_invalid", f"the organisation profile is invalid: {error}") from error
    try:
        report = exposure_report(
            session,
            runtime.catalog,
            profile,
            start=start,
            end=end,
            trials=trials,
            seed=seed,
        )
    except InvalidWindow as error:
        raise ApiError(422, "invalid_window", str(error)) from error
    content = export_bytes(report, format)
    disposition = f'attachment; filename="exposure-{report.window_from}-{report.window_to}.{format}"'
    return Response(content, media_type=MEDIA_TYPES[format], headers={"Content-Disposition": disposition})
