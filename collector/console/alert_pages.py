"""The alert queue and one alert: filters, paging, bulk actions, and triage (status, assignment, comments).

Every read goes through collector.alerts.queries and every change through collector.alerts.workflow; this module
only turns forms into calls and outcomes into pages. A refused change re-renders the page with the message and
what the reviewer typed (nothing is lost); a done change redirects (303), so a reload never repeats it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any
from urllib.parse import parse_qsl, quote

from fastapi import APIRouter, Form, Query, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from sqlalchemy.orm import Session

from collector.accounts import users
from collector.accounts.actor import Actor
from collector.accounts.roles import Permission, Role, allows
from collector.alerts import queries, workflow
from collector.console.alert_filters import ASSIGNEE_CHOICES, SEVERITIES, TABS, QueueQuery
from collector.console.auth import ConsoleActor, TriagerActor
from collector.console.rendering import render
from collector.console.tools import shown_facts
from collector.deps import ReadSessionDep, RuntimeDep
from collector.runtime import Runtime
from collector.triage import CLOSED, RESOLUTIONS, TRANSITIONS, Resolution, Status

router = APIRouter(prefix="/console/alerts", include_in_schema=False)

PAGE_SIZE = 50
# Fixed messages for a done change (?done=...): the page never echoes text from the URL.
NOTICES = {
    "status": "Status changed.",
    "assigned": "Assignment changed.",
    "comment": "Comment added.",
    "bulk": "The selected alerts were changed.",
}
# Bulk actions offered on the queue: a status move, or an assignment.
BULK_STATUS = {
    "triage": Status.TRIAGED,
    "escalate": Status.ESCALATED,
    "resolve": Status.RESOLVED,
    "dismiss": Status.DISMISSED,
}
BULK_ASSIGN = {"assign_me": queries.ME, "unassign": None}
# HTTP statuses for refused changes: a conflict with the alert's state, or a form that lacks something.
_CONFLICT = (workflow.TransitionRefused, workflow.StaleAlert)


def _http_status(error: workflow.WorkflowError) -> int:
    if isinstance(error, workflow.AlertNotFound):
        return 404
    if isinstance(error, workflow.PersonRequired):
        return 403
    return 409 if isinstance(error, _CONFLICT) else 422


def triagers(session: Session) -> list[str]:
    """Who an alert can be assigned to: active users whose role may triage (a handful of people, not a scan)."""
    return [
        user.username
        for user in users.list_users(session, include_disabled=False)
        if allows(Role(user.role), Permission.TRIAGE)
    ]


# --- the queue ----------------------------------------------------------------------------------------------


def _queue(
    request: Request,
    actor: Actor,
    runtime: Runtime,
    session: Session,
    query: QueueQuery,
    *,
    before: str | None = None,
    error: str | None = None,
    failures: list[workflow.BulkFailure] | None = None,
    form: dict[str, Any] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    try:
        page = queries.list_alerts(
            session, runtime.catalog, query.to_filter(), before=before, limit=PAGE_SIZE, me_user_id=actor.user_id
        )
    except queries.BadCursor:
        before = None
        page = queries.list_alerts(
            session, runtime.catalog, query.to_filter(), limit=PAGE_SIZE, me_user_id=actor.user_id
        )
    counts = dict(page.status_counts)
    counts["open"] = sum(counts.get(status.value, 0) for status in (Status.NEW, Status.TRIAGED, Status.ESCALATED))
    counts["all"] = sum(counts.get(status.value, 0) for status in Status)
    context = {
        "page": page,
        "query": query,
        "before": before,
        "counts": counts,
        "tabs": TABS,
        "severities": SEVERITIES,
        "assignee_choices": ASSIGNEE_CHOICES,
        "people": triagers(session),
        "tools": sorted({(a.tool_id, a.tool_name or a.tool_id) for a in page.alerts if a.tool_id}),
        "error": error,
        "failures": failures or [],
        "form": form or {},
        "selected": {int(i) for i in (form or {}).get("alert", []) if str(i).isdigit()},
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "bulk_status": BULK_STATUS,
        "resolutions": _resolution_groups(),
    }
    return render(request, "alerts.html", actor, context, status_code=status_code)


@router.get("", response_class=HTMLResponse)
def queue(
    *,
    request: Request,
    actor: ConsoleActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    before: Annotated[str | None, Query(max_length=200)] = None,
) -> HTMLResponse:
    return _queue(request, actor, runtime, session, QueueQuery.parse(request.query_params), before=before)


@router.post("/bulk", response_model=None)
def bulk(
    *,
    request: Request,
    actor: TriagerActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    action: Annotated[str, Form()] = "",
    alert: Annotated[list[str], Form()] = [],  # noqa: B006 - FastAPI copies form defaults per request
    resolution: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    query = QueueQuery.parse(dict(_pairs(back)))
    form = {"action": action, "alert": alert, "resolution": resolution, "reason": reason}
    ids = [int(value) for value in alert if value.isdigit()]

    def refuse(message: str, failures: list[workflow.BulkFailure] | None = None, code: int = 422) -> HTMLResponse:
        return _queue(
            request, actor, runtime, session, query, error=message, failures=failures, form=form, status_code=code
        )

    if not ids:
        return refuse("Select at least one alert.")
    if action not in BULK_STATUS and action not in BULK_ASSIGN:
        return refuse("Choose an action.")
    try:
        with runtime.sessions.begin() as writing:
            if action in BULK_STATUS:
                workflow.bulk_change_status(
                    writing, ids, BULK_STATUS[action], actor=actor, resolution=_resolution(resolution), reason=reason
                )
            else:
                workflow.bulk_assign(writing, ids, BULK_ASSIGN[action], actor=actor, reason=reason)
    except workflow.BulkRefused as error:
        return refuse(str(error), error.failures, 409)
    except workflow.WorkflowError as error:
        return refuse(str(error), code=_http_status(error))
    except ValueError:
        return refuse("Choose a resolution from the list.")
    suffix = query.query_string()
    return RedirectResponse(f"/console/alerts?{suffix}&done=bulk" if suffix else "/console/alerts?done=bulk", 303)


def _pairs(query_string: str) -> list[tuple[str, str]]:
    return parse_qsl(query_string[:2000], keep_blank_values=False)


# --- one alert ----------------------------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class NextStatus:
    status: Status
    closes: bool  # needs a resolution
    reopens: bool  # needs a reason


def next_statuses(current: Status) -> list[NextStatus]:
    """The moves the transition table allows from here, in workflow order: the page offers nothing else."""
    order = list(Status)
    return [
        NextStatus(target, target in CLOSED, current in CLOSED)
        for target in sorted(TRANSITIONS[current], key=order.index)
    ]


def _resolution_groups() -> list[tuple[Status, list[Resolution]]]:
    order = list(Resolution)
    return [(status, sorted(RESOLUTIONS[status], key=order.index)) for status in (Status.RESOLVED, Status.DISMISSED)]


def _resolution(value: str) -> Resolution | None:
    """'' is no resolution; anything else must be one (ValueError otherwise)."""
    return Resolution(value) if value else None


def _detail(
    request: Request,
    actor: Actor,
    runtime: Runtime,
    session: Session,
    alert_id: int,
    *,
    error: str | None = None,
    form: dict[str, str] | None = None,
    status_code: int = 200,
) -> HTMLResponse:
    detail = queries.get_alert(session, runtime.catalog, alert_id)
    if detail is None:
        return render(request, "refused.html", actor, {"message": f"There is no alert {alert_id}."}, 404)
    back = request.query_params.get("back") or (form or {}).get("back", "")
    entry = runtime.catalog.tools.get(detail.alert.tool_id) if detail.alert.tool_id else None
    context = {
        "detail": detail,
        "tool_facts": list(shown_facts(entry.tool.facts).values()) if entry is not None else [],
        "next_statuses": next_statuses(detail.alert.status),
        "resolutions": _resolution_groups(),
        "people": triagers(session),
        "error": error,
        "form": form or {},
        "notice": NOTICES.get(request.query_params.get("done", "")),
        "back": QueueQuery.parse(dict(_pairs(back))).query_string() if back else "",
    }
    return render(request, "alert.html", actor, context, status_code=status_code)


@router.get("/{alert_id}", response_class=HTMLResponse)
def alert(
    *,
    request: Request,
    actor: ConsoleActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    alert_id: int,
) -> HTMLResponse:
    return _detail(request, actor, runtime, session, alert_id)


def _after_change(alert_id: int, done: str, back: str) -> RedirectResponse:
    keep = f"&back={_quote(back)}" if back else ""
    return RedirectResponse(f"/console/alerts/{alert_id}?done={done}{keep}#actions", status_code=303)


def _quote(text: str) -> str:
    return quote(text[:2000], safe="")


@router.post("/{alert_id}/status", response_model=None)
def change_status(
    *,
    request: Request,
    actor: TriagerActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    alert_id: int,
    status: Annotated[str, Form()] = "",
    resolution: Annotated[str, Form()] = "",
    reason: Annotated[str, Form()] = "",
    expected_status: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    form = {"status": status, "resolution": resolution, "reason": reason, "back": back}
    try:
        target = Status(status)
        chosen = _resolution(resolution)
        seen = Status(expected_status) if expected_status else None
    except ValueError:
        return _detail(
            request,
            actor,
            runtime,
            session,
            alert_id,
            error="Choose a status (and a resolution) from the lists.",
            form=form,
            status_code=422,
        )
    if target not in CLOSED:
        chosen = None  # the form's resolution list stays filled when another status is picked
    try:
        with runtime.sessions.begin() as writing:
            workflow.change_status(
                writing, alert_id, target, actor=actor, resolution=chosen, reason=reason, expected_status=seen
            )
    except workflow.WorkflowError as error:
        return _detail(
            request, actor, runtime, session, alert_id, error=str(error), form=form, status_code=_http_status(error)
        )
    return _after_change(alert_id, "status", back)


@router.post("/{alert_id}/assign", response_model=None)
def assign(
    *,
    request: Request,
    actor: TriagerActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    alert_id: int,
    assignee: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    form = {"assignee": assignee, "back": back}
    try:
        with runtime.sessions.begin() as writing:
            workflow.assign(writing, alert_id, assignee.strip() or None, actor=actor)
    except workflow.WorkflowError as error:
        return _detail(
            request, actor, runtime, session, alert_id, error=str(error), form=form, status_code=_http_status(error)
        )
    return _after_change(alert_id, "assigned", back)


@router.post("/{alert_id}/comment", response_model=None)
def comment(
    *,
    request: Request,
    actor: TriagerActor,
    runtime: RuntimeDep,
    session: ReadSessionDep,
    alert_id: int,
    body: Annotated[str, Form()] = "",
    back: Annotated[str, Form()] = "",
) -> Response:
    form = {"body": body, "back": back}
    try:
        with runtime.sessions.begin() as writing:
            workflow.add_comment(writing, alert_id, body, actor=actor)
    except workflow.WorkflowError as error:
        return _detail(
            request, actor, runtime, session, alert_id, error=str(error), form=form, status_code=_http_status(error)
        )
    return _after_change(alert_id, "comment", back)
