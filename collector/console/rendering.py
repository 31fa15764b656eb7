"""The console's Jinja2 environment (autoescape always on) and the filters its templates share."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.templating import Jinja2Templates
from jinja2 import Environment, FileSystemLoader, StrictUndefined
from starlette.responses import HTMLResponse

from collector.accounts.actor import Actor
from collector.accounts.roles import Permission

TEMPLATES = Path(__file__).parent / "templates"
STATIC = Path(__file__).parent / "static"

_UNITS = ("B", "KB", "MB", "GB", "TB")


def human_bytes(value: int | float | None) -> str:
    if value is None:
        return "—"
    amount = float(value)
    for unit in _UNITS:
        if abs(amount) < 1024 or unit == _UNITS[-1]:
            return f"{amount:.0f} {unit}" if unit == "B" else f"{amount:.1f} {unit}"
        amount /= 1024
    return f"{amount:.1f} TB"  # unreachable: the loop returns at the last unit


def ago(moment: datetime | None, now: datetime | None = None) -> str:
    """'4 min ago': reviewers scan for staleness; the exact time goes in the <time> element's title."""
    if moment is None:
        return "never"
    seconds = ((now or datetime.now(UTC)) - moment).total_seconds()
    if seconds < 0:
        return "in the future"
    for size, unit in ((86_400, "d"), (3_600, "h"), (60, "min")):
        if seconds >= size:
            return f"{int(seconds // size)} {unit} ago"
    return "just now"


def utc(moment: datetime | None) -> str:
    return moment.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC") if moment is not None else "—"


def iso(moment: datetime | None) -> str:
    return moment.astimezone(UTC).isoformat() if moment is not None else ""


def dollars(value: float | None) -> str:
    if value is None:
        return "—"
    for size, suffix in ((1e9, "B"), (1e6, "M"), (1e3, "k")):
        if abs(value) >= size:
            return f"${value / size:.1f}{suffix}"
    return f"${value:,.0f}"


def label(value: str | None) -> str:
    """'accepted_risk' -> 'Accepted risk': enum values as words."""
    if not value:
        return "—"
    words = ["API" if word == "api" else word for word in value.split("_")]
    text = " ".join(words)
    return text[:1].upper() + text[1:]


def _environment() -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,  # every value is escaped: tool names, clients and comments come from outside
        undefined=StrictUndefined,  # a misspelt variable fails the page (and its test), not renders blank
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(human_bytes=human_bytes, ago=ago, utc=utc, iso=iso, dollars=dollars, label=label)
    return env


templates = Jinja2Templates(env=_environment())


def render(
    request: Request, name: str, actor: Actor | None, context: dict[str, Any], status_code: int = 200
) -> HTMLResponse:
    base: dict[str, Any] = {
        "actor": actor,
        "may_triage": actor is not None and actor.may(Permission.TRIAGE),
        "may_administer": actor is not None and actor.may(Permission.ADMINISTER),
        "path": request.url.path,
        "now": datetime.now(UTC),
    }
    response = templates.TemplateResponse(request, name, {**base, **context}, status_code=status_code)
    # Pages show alerts about people: no shared cache may keep them, and no other site may frame them.
    response.headers["Cache-Control"] = "no-store"
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Content-Security-Policy"] = (
        "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; frame-ancestors 'none'"
    )
    response.headers["Referrer-Policy"] = "same-origin"
    return response
