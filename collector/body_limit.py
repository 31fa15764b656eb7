"""Refuse request bodies over a size cap with a JSON 413, before they are buffered whole in memory.

Starlette's own limiter answers in plain text; every error of this API is JSON, so the cap lives here.
"""

from __future__ import annotations

from starlette.exceptions import HTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from collector.errors import ApiError, error_response


class BodyTooLarge(HTTPException):
    """Raised while a streamed body is read; an HTTPException so FastAPI hands it to our handler unchanged."""

    def __init__(self, max_bytes: int) -> None:
        super().__init__(413, f"request body exceeds {max_bytes} bytes")


class BodySizeLimit:
    """Pure ASGI middleware: checks Content-Length up front and counts chunked bodies as they arrive."""

    def __init__(self, app: ASGIApp, max_bytes: int) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        declared = dict(scope.get("headers") or []).get(b"content-length")
        if declared is not None:
            try:
                too_large = int(declared) > self.max_bytes
            except ValueError:
                response = error_response(ApiError(400, "bad_content_length", "Content-Length is not a number"))
                await response(scope, receive, send)
                return
            if too_large:
                error = ApiError(413, "body_too_large", f"request body exceeds {self.max_bytes} bytes")
                await error_response(error)(scope, receive, send)
                return

        received = 0

        async def counting_receive() -> Message:
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_bytes:
                    raise BodyTooLarge(self.max_bytes)
            return message

        await self.app(scope, counting_receive, send)
