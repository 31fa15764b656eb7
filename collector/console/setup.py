"""Wire the console into the collector app: its pages, its static files, and HTML answers to refusals."""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import RedirectResponse, Response
from fastapi.staticfiles import StaticFiles

from collector.console.alert_pages import router as alert_router
from collector.console.auth import ConsoleRefused, SignInRequired, sign_in_url
from collector.console.exposure_headline import HeadlineCache
from collector.console.pages import router as page_router
from collector.console.rendering import STATIC, render


async def _to_sign_in(_request: Request, exc: Exception) -> Response:
    assert isinstance(exc, SignInRequired)
    return RedirectResponse(sign_in_url(exc.next_path), status_code=303)


async def _refused(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ConsoleRefused)
    return render(request, "refused.html", exc.actor, {"message": exc.message}, status_code=exc.status)


def install(app: FastAPI) -> None:
    app.state.console_headline = HeadlineCache()
    app.mount("/console/static", StaticFiles(directory=STATIC), name="console-static")
    app.include_router(page_router)
    app.include_router(alert_router)
    app.add_exception_handler(SignInRequired, _to_sign_in)
    app.add_exception_handler(ConsoleRefused, _refused)

    @app.get("/", include_in_schema=False)
    def _home() -> RedirectResponse:
        return RedirectResponse("/console/", status_code=307)
