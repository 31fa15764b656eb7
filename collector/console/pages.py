"""Console pages other than alerts: sign-in and sign-out, the overview, the tool catalog, sensors and devices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from collector import policy
from collector.accounts import passwords, sessions, signin, users
from collector.accounts.actor import Actor
from collector.alerts.queries import AlertFilter, list_alerts
from collector.console import producers as producer_view
from collector.console.auth import AdminActor, ConsoleActor, safe_next
from collector.console.exposure_headline import HeadlineCache
from collector.console.overview import UNCATALOGUED, build_overview
from collector.console.rendering import render
from collector.console.tools import ToolFilter, tool_page, tool_row
from collector.deps import CookieDep, ReadSessionDep, RuntimeDep
from collector.producer_health import Status as HealthStatus
from collector.producer_health import list_producers
from collector.routes.accounts import set_session_cookie
from collector.runtime import Runtime
from collector.triage import Status
from rules.catalog_schema import Category

router = APIRouter(prefix="/console", include_in_schema=False)

MAX_USERNAME = 64  # the users table's column: longer cannot be anyone
OPEN_STATUSES = (Status.NEW, Status.TRIAGED, Status.ESCALATED)
NOTICES = {"policy": "Policy changed and recorded in the policy history."}


@router.get("/login", response_class=HTMLResponse)
def login_form(*, request: Request, next: str = "/console/") -> HTMLResponse:
    return render(request, "login.html", None, {"next": safe_next(next), "error": None, "username": ""})


@router.post("/login", response_model=None)
async def login(
    *,
    request: Request,
    runtime: RuntimeDep,
    username: Annotated[str, Form()] = "",
    password: Annotated[str, Form()] = "",
    next: Annotated[str, Form()] = "/console/",
) -> Response:
    target = safe_next(next)
    # Longer than any account allows: refused with the same words as a wrong password, without hashing it.
    refusal = "wrong username or password"
    if len(username) <= MAX_USERNAME and len(password) <= passwords.MAX_LENGTH:
        try:
            signed_in = await run_in_threadpool(
                signin.sign_in, runtime.sessions, runtime.settings, username, password, datetime.now(UTC)
            )
        except users.SignInRefused as error:
            # The page repeats the refusal as it is: it never tells who has an account.
            refusal = str(error)
        else:
            response = RedirectResponse(target, status_code=303)
            set_session_cookie(response, request, signed_in)
            return response
    context = {"next": target, "error": refusal, "username": username[:MAX_USERNAME]}
    return render(request, "login.html", None, context, status_code=401)


@router.post("/logout")
def logout(_actor: ConsoleActor, runtime: RuntimeDep, cookie: CookieDep) -> RedirectResponse:
    if cookie is not None and sessions.is_session_token(cookie):
        signin.sign_out(runtime.sessions, cookie, datetime.now(UTC))
    response = RedirectResponse("/console/login", status_code=303)
    response.delete_cookie(sessions.COOKIE_NAME, path="/")
    return response


@router.get("/", response_class=HTMLResponse)
def overview(*, request: Request, actor: ConsoleActor, runtime: RuntimeDep, session: ReadSessionDep) -> HTMLResponse:
    now = datetime.now(UTC)
    current = policy.current_policy(session)
    usage = build_overview(session, runtime.catalog, current, now.date())
    alerts = list_alerts(
        session, runtime.catalog, AlertFilter(statuses=OPEN_STATUSES), limit=6, me_user_id=actor.user_id
    )
    cache: HeadlineCache = request.app.state.console_headline
    context = {
        "usage": usage,
        "alerts": alerts,
        "open_count": sum(alerts.status_counts.get(status.value, 0) for status in OPEN_STATUSES),
        "headline": cache.current(runtime, now),
        "uncatalogued": UNCATALOGUED,
    }
    return render(request, "overview.html", actor, context)


@router.get("/tools", response_class=HTMLResponse)
def tools(
    *,
    request: Request,
    actor: ConsoleActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    q: Annotated[str, Query(max_length=128)] = "",
    status: Annotated[str, Query(max_length=32)] = "",
    category: Annotated[str, Query(max_length=64)] = "",
    in_use: Annotated[str, Query(max_length=8)] = "",
    page: Annotated[int, Query(ge=1, le=10_000)] = 1,
) -> HTMLResponse:
    current = policy.current_policy(session)
    usage = build_overview(session, runtime.catalog, current, datetime.now(UTC).date())
    where = ToolFilter(text=q, status=status, category=category, in_use=bool(in_use))
    listing = tool_page(runtime.catalog, current, {tool.tool_id: tool for tool in usage.tools}, where, page)
    context = {
        "listing": listing,
        "where": where,
        "statuses": [s.value for s in policy.ToolStatus],
        "categories": [c.value for c in Category],
        "window_days": (usage.last - usage.first).days + 1,
    }
    return render(request, "tools.html", actor, context)


def _tool_detail(
    request: Request,
    actor: Actor,
    runtime: Runtime,
    session: Session,
    tool_id: str,
    *,
    error: str | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    entry = runtime.catalog.tools.get(tool_id)
    if entry is None:
        return render(request, "refused.html", actor, {"message": f"no tool {tool_id!r} in the catalog"}, 404)
    current = policy.current_policy(session)
    usage = build_overview(session, runtime.catalog, current, datetime.now(UTC).date())
    row = tool_row(entry.tool, current, {tool.tool_id: tool for tool in usage.tools})
    context = {
        "row": row,
        "statuses": [s.value for s in policy.ToolStatus],
        "error": error,
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "tool_alerts": list_alerts(session, runtime.catalog, AlertFilter(tool_id=tool_id), limit=10),
    }
    return render(request, "tool.html", actor, context, status_code=status_code)


@router.get("/tools/{tool_id}", response_class=HTMLResponse)
def tool(
    *, request: Request, actor: ConsoleActor, runtime: RuntimeDep, session: ReadSessionDep, tool_id: str
) -> HTMLResponse:
    return _tool_detail(request, actor, runtime, session, tool_id)


@router.post("/tools/{tool_id}/policy", response_model=None)
def set_tool_policy(
    *,
    request: Request,
    actor: AdminActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    tool_id: str,
    status: Annotated[str, Form(max_length=32)] = "",
    reason: Annotated[str, Form(max_length=1000)] = "",
) -> Response:
    if tool_id not in runtime.catalog.tools:
        return render(request, "refused.html", actor, {"message": f"no tool {tool_id!r} in the catalog"}, 404)
    try:
        new_status = policy.ToolStatus(status) if status != "inherit" else None
    except ValueError:
        return _tool_detail(request, actor, runtime, session, tool_id, error="choose a status", status_code=422)
    with runtime.sessions.begin() as writing:
        policy.change(
            writing, policy.SubjectKind.TOOL, tool_id, new_status, actor=actor.audit_name, reason=reason.strip() or None
        )
    return RedirectResponse(f"/console/tools/{tool_id}?done=policy", status_code=303)


@router.get("/producers", response_class=HTMLResponse)
def producers(
    *,
    request: Request,
    actor: ConsoleActor,
    session: ReadSessionDep,
    kind: Annotated[str, Query(max_length=16)] = "",
    status: Annotated[str, Query(max_length=16)] = "",
    page: Annotated[int, Query(ge=1, le=100_000)] = 1,
) -> HTMLResponse:
    now = datetime.now(UTC)
    kind = kind if kind in ("sensor", "extension") else ""
    status = status if status in {s.value for s in HealthStatus} else ""
    listing = producer_view.producer_page(list_producers(session, now), kind, status, page)
    return render(request, "producers.html", actor, {"listing": listing, "kind": kind, "status": status})
