"""One JSON error shape for every 4xx/5xx the collector returns, naming the field that was wrong."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from fastapi.routing import APIRoute
from pydantic import BaseModel
from starlette.exceptions import HTTPException as StarletteHTTPException

from events.models import BROWSER_KINDS

log = logging.getLogger(__name__)

# Discriminated unions put the tag into error locations ("events", 3, "network_usage", "bytes_up"); a producer
# wants "events[3].bytes_up".
_UNION_TAGS = BROWSER_KINDS | {"network_usage"}
# Request parts FastAPI prefixes to locations; the field path after them is what the client knows.
_LOCATION_ROOTS = {"body", "query", "path", "header"}


class ErrorDetail(BaseModel):
    field: str
    problem: str


class ErrorInfo(BaseModel):
    status: int
    code: str
    message: str
    details: list[ErrorDetail] = []


class ErrorResponse(BaseModel):
    error: ErrorInfo


class ApiError(Exception):
    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        details: Sequence[ErrorDetail] = (),
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.details = list(details)
        self.headers = dict(headers or {})


def error_response(error: ApiError, headers: Mapping[str, str] | None = None) -> JSONResponse:
    body = ErrorResponse(
        error=ErrorInfo(status=error.status, code=error.code, message=error.message, details=error.details)
    )
    return JSONResponse(body.model_dump(), status_code=error.status, headers=dict(headers or {}))


def field_path(location: Iterable[Any]) -> str:
    path = ""
    parts = list(location)
    for index, part in enumerate(parts):
        if index == 0 and part in _LOCATION_ROOTS:
            continue
        if isinstance(part, int):
            path += f"[{part}]"
        elif _is_union_tag(parts, index) or (isinstance(part, str) and part.startswith("function-")):
            continue
        else:
            path += f".{part}" if path else str(part)
    return path or "body"


def _is_union_tag(parts: list[Any], index: int) -> bool:
    """The tag pydantic inserts right after an event's index: events, 3, "network_usage", ... (a field or dict key
    that happens to read "prompt" elsewhere is kept)."""
    return (
        index >= 2
        and parts[index] in _UNION_TAGS
        and isinstance(parts[index - 1], int)
        and parts[index - 2] == "events"
    )


def _is_echo(error: Any, errors: Sequence[Any]) -> bool:
    """A tuple whose bad item was dropped also reports 'too short'; that says nothing the item's error does not."""
    location = tuple(error.get("loc", ()))
    return error.get("type") == "too_short" and any(
        tuple(other.get("loc", ()))[: len(location)] == location and other is not error for other in errors
    )


def _validation_details(errors: Sequence[Any], limit: int = 20) -> list[ErrorDetail]:
    # A batch of a thousand bad events would make a megabyte of errors; the first few say what is wrong.
    meaningful = [e for e in errors if not _is_echo(e, errors)]
    return [ErrorDetail(field=field_path(e.get("loc", ())), problem=str(e.get("msg", ""))) for e in meaningful[:limit]]


async def _on_validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    errors = exc.errors()
    if any(e.get("type") == "json_invalid" for e in errors):
        first = next(e for e in errors if e.get("type") == "json_invalid")
        reason = (first.get("ctx") or {}).get("error", "not valid JSON")
        return error_response(ApiError(400, "malformed_json", f"request body is not valid JSON: {reason}"))
    details = _validation_details(errors)
    summary = f"{details[0].field}: {details[0].problem}" if details else "invalid request"
    more = f" (and {len(details) - 1} more)" if len(details) > 1 else ""
    return error_response(ApiError(422, "validation_error", summary + more, details))


async def _on_api_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, ApiError)
    headers = {"WWW-Authenticate": "Bearer", **exc.headers} if exc.status == 401 else exc.headers
    return error_response(exc, headers or None)


def _allowed_methods(request: Request) -> str:
    """Every method some route serves for this path. Starlette's 405 names only the first route that matched the
    path, so a path with PUT and DELETE on two routes would claim to allow PUT alone."""
    methods: set[str] = set()
    pending = list(request.app.routes)
    while pending:
        route = pending.pop()
        # Included routers wrap their routes (our routers carry their prefix in the routes' own paths).
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending += inner.routes
        elif isinstance(route, APIRoute) and route.path_regex.match(request.url.path):
            methods |= route.methods or set()
    return ", ".join(sorted(methods))


async def _on_http_error(request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, StarletteHTTPException)
    code = {404: "not_found", 405: "method_not_allowed", 413: "body_too_large"}.get(exc.status_code, "http_error")
    headers = dict(exc.headers or {})
    if exc.status_code == 405:
        headers["Allow"] = _allowed_methods(request) or headers.get("Allow", "")
    return error_response(ApiError(exc.status_code, code, str(exc.detail)), headers)


async def _on_unexpected(request: Request, exc: Exception) -> JSONResponse:
    # Log the type and route, never the request body: it may carry prompt text.
    log.error("unhandled error on %s %s: %s", request.method, request.url.path, type(exc).__name__, exc_info=exc)
    return error_response(ApiError(500, "internal_error", "internal error; the request was not stored"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(RequestValidationError, _on_validation_error)
    app.add_exception_handler(ApiError, _on_api_error)
    app.add_exception_handler(StarletteHTTPException, _on_http_error)
    app.add_exception_handler(Exception, _on_unexpected)
