"""/api/v1/alerts: the review queue, one alert in context, and the triage workflow; /api/v1/audit: the log.

Reading needs Permission.READ (every role); changing needs Permission.TRIAGE (reviewer, admin). The audit log can
only be read here: no route updates or deletes an entry. Entries about alerts are open to every reader; entries
about accounts and sign-ins (which may hold a mistyped username) only to admins.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Body, Path, Query
from sqlalchemy.orm import Session

from collector.accounts.roles import Permission
from collector.alerts import queries, workflow
from collector.alerts.schemas import (
    BULK_EXAMPLES,
    AlertDetailOut,
    AlertOut,
    AlertPageOut,
    AssigneeChange,
    AuditEntryOut,
    AuditPageOut,
    BulkAssign,
    BulkChange,
    BulkOut,
    CommentIn,
    CommentOut,
    StatusChange,
)
from collector.audit import AuditFilter
from collector.deps import ReaderDep, ReadSessionDep, RuntimeDep, TriagerDep
from collector.errors import ApiError, ErrorDetail, ErrorResponse
from collector.routes.query import Time
from collector.runtime import Runtime
from collector.triage import Status

router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])
audit_router = APIRouter(prefix="/api/v1/audit", tags=["audit"])

_NO_NUL = r"^[^\x00]*$"  # PostgreSQL text cannot hold NUL
_READ_ERRORS: dict[int | str, dict[str, object]] = {
    401: {"model": ErrorResponse, "description": "Not signed in, or no valid API key."},
    403: {"model": ErrorResponse, "description": "Your role or key may not read this."},
    422: {"model": ErrorResponse, "description": "A filter or cursor is malformed."},
}
_CHANGE_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
    401: {"model": ErrorResponse, "description": "Not signed in, or no valid API key."},
    403: {
        "model": ErrorResponse,
        "description": "Your role may not triage, a cookie write came from another site, or a comment was sent "
        "with an API key (comments are signed by people).",
    },
    404: {"model": ErrorResponse, "description": "No such alert."},
    409: {
        "model": ErrorResponse,
        "description": "The change is not in the transition table from the alert's status, or the alert changed "
        "since you saw it (`stale_alert`), or (bulk) some alert cannot be changed: nothing was.",
    },
    422: {"model": ErrorResponse, "description": "A resolution or reason is missing or does not fit; bad assignee."},
}
_STATUS_CODES: dict[type[workflow.WorkflowError], int] = {
    workflow.AlertNotFound: 404,
    workflow.TransitionRefused: 409,
    workflow.StaleAlert: 409,
    workflow.BulkRefused: 409,
    workflow.ChangeIncomplete: 422,
    workflow.PersonRequired: 403,
}

AlertId = Annotated[int, Path(ge=1, le=2**63 - 1, description="The alert's id.")]
Name = Annotated[str | None, Query(max_length=256, pattern=_NO_NUL)]


def _api_error(error: workflow.WorkflowError) -> ApiError:
    details = []
    if isinstance(error, workflow.BulkRefused):
        details = [ErrorDetail(field=f"alert {f.alert_id}", problem=f"{f.code}: {f.message}") for f in error.failures]
    return ApiError(_STATUS_CODES.get(type(error), 409), error.code, str(error), details)


def _summary(session: Session, runtime: Runtime, alert_id: int) -> AlertOut:
    summary = queries.get_summary(session, runtime.catalog, alert_id)
    if summary is None:
        raise ApiError(404, "no_such_alert", f"no alert {alert_id}")
    return AlertOut.model_validate(summary, from_attributes=True)


@router.get("", response_model=AlertPageOut, responses=_READ_ERRORS, summary="The review queue, newest activity first")
def list_alerts(
    actor: ReaderDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    status: Annotated[list[Status] | None, Query(description="One or more statuses (repeat the parameter).")] = None,
    severity: Annotated[
        list[Literal["low", "medium", "high", "critical"]] | None, Query(description="One or more severities.")
    ] = None,
    rule_id: Annotated[str | None, Query(max_length=36, pattern=_NO_NUL)] = None,
    tool_id: Annotated[str | None, Query(max_length=128, pattern=_NO_NUL)] = None,
    client: Annotated[str | None, Query(max_length=256, pattern=_NO_NUL, description="Client IP or user.")] = None,
    client_match: Annotated[
        Literal["exact", "contains"], Query(description="`contains`: `client` is a substring (an IP prefix).")
    ] = "exact",
    assignee: Annotated[
        str | None, Query(max_length=64, pattern=_NO_NUL, description="A username, `unassigned` or `me`.")
    ] = None,
    since: Annotated[Time | None, Query(alias="from", description="Last activity at or after (RFC 3339).")] = None,
    until: Annotated[Time | None, Query(alias="to", description="Last activity before (RFC 3339).")] = None,
    before: Annotated[str | None, Query(max_length=200, description="`next_before` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 50,
) -> AlertPageOut:
    if since is not None and until is not None and until <= since:
        raise ApiError(422, "validation_error", "to must be later than from")
    where = queries.AlertFilter(
        statuses=tuple(status or ()),
        severities=tuple(severity or ()),
        rule_id=rule_id,
        tool_id=tool_id,
        client=client,
        client_contains=client_match == "contains",
        assignee=assignee,
        since=since,
        until=until,
    )
    try:
        page = queries.list_alerts(
            session, runtime.catalog, where, before=before, limit=limit, me_user_id=actor.user_id
        )
    except queries.BadCursor as error:
        raise ApiError(422, "bad_cursor", str(error), [ErrorDetail(field="before", problem=str(error))]) from error
    return AlertPageOut(
        alerts=[AlertOut.model_validate(alert, from_attributes=True) for alert in page.alerts],
        next_before=page.next_before,
        status_counts=dict(page.status_counts),
    )


# `:int` keeps /api/v1/alerts/bulk from matching the alert routes' paths: a GET there would answer 422 instead of
# 405, and the Allow header would name GET.
@router.get(
    "/{alert_id:int}",
    response_model=AlertDetailOut,
    responses={**_READ_ERRORS, 404: {"model": ErrorResponse, "description": "No such alert."}},
    summary="One alert with its rule, tool facts, redacted evidence, comments and audit trail",
)
def get_alert(alert_id: AlertId, _reader: ReaderDep, session: ReadSessionDep, runtime: RuntimeDep) -> AlertDetailOut:
    detail = queries.get_alert(session, runtime.catalog, alert_id)
    if detail is None:
        raise ApiError(404, "no_such_alert", f"no alert {alert_id}")
    return AlertDetailOut.model_validate(detail, from_attributes=True)


@router.post(
    "/{alert_id:int}/status",
    response_model=AlertOut,
    responses=_CHANGE_ERRORS,
    summary="Move an alert along the workflow (new → triaged → escalated → resolved / dismissed; reopen)",
)
def change_status(alert_id: AlertId, body: StatusChange, actor: TriagerDep, runtime: RuntimeDep) -> AlertOut:
    try:
        with runtime.sessions.begin() as session:
            workflow.change_status(
                session,
                alert_id,
                body.status,
                actor=actor,
                resolution=body.resolution,
                reason=body.reason,
                expected_status=body.expected_status,
            )
            return _summary(session, runtime, alert_id)
    except workflow.WorkflowError as error:
        raise _api_error(error) from error


@router.put(
    "/{alert_id:int}/assignee",
    response_model=AlertOut,
    responses=_CHANGE_ERRORS,
    summary="Assign an alert to a reviewer (or `me`), or unassign it with null",
)
def change_assignee(alert_id: AlertId, body: AssigneeChange, actor: TriagerDep, runtime: RuntimeDep) -> AlertOut:
    try:
        with runtime.sessions.begin() as session:
            workflow.assign(session, alert_id, body.assignee, actor=actor, reason=body.reason)
            return _summary(session, runtime, alert_id)
    except workflow.WorkflowError as error:
        raise _api_error(error) from error


@router.post(
    "/{alert_id:int}/comments",
    status_code=201,
    response_model=CommentOut,
    responses=_CHANGE_ERRORS,
    summary="Comment on an alert (signed-in people only)",
)
def add_comment(alert_id: AlertId, body: CommentIn, actor: TriagerDep, runtime: RuntimeDep) -> CommentOut:
    try:
        with runtime.sessions.begin() as session:
            comment = workflow.add_comment(session, alert_id, body.body, actor=actor)
            return CommentOut(id=comment.id, author=actor.name, body=comment.body, created_at=comment.created_at)
    except workflow.WorkflowError as error:
        raise _api_error(error) from error


@router.post(
    "/bulk",
    response_model=BulkOut,
    responses=_CHANGE_ERRORS,
    summary=f"Change the status or assignee of up to {workflow.MAX_BULK} alerts, all or nothing",
)
def bulk_change(
    body: Annotated[BulkChange, Body(openapi_examples=BULK_EXAMPLES)], actor: TriagerDep, runtime: RuntimeDep
) -> BulkOut:
    try:
        with runtime.sessions.begin() as session:
            if isinstance(body, BulkAssign):
                changed = workflow.bulk_assign(session, body.alert_ids, body.assignee, actor=actor, reason=body.reason)
            else:
                changed = workflow.bulk_change_status(
                    session, body.alert_ids, body.status, actor=actor, resolution=body.resolution, reason=body.reason
                )
            return BulkOut(changed=[alert.id for alert in changed])
    except workflow.WorkflowError as error:
        raise _api_error(error) from error


# Account and sign-in entries name users (and a failed sign-in keeps whatever was typed as the username).
_OPEN_KINDS = (queries.SUBJECT_KIND,)


@audit_router.get(
    "",
    response_model=AuditPageOut,
    responses=_READ_ERRORS,
    summary="The audit log, newest first (read only: nothing can change or delete an entry)",
)
def list_audit(
    actor: ReaderDep,
    session: ReadSessionDep,
    subject_kind: Annotated[
        str | None, Query(max_length=32, pattern=_NO_NUL, description="alert, user, ... (non-admins: alert only).")
    ] = None,
    subject_id: Annotated[str | None, Query(max_length=64, pattern=_NO_NUL)] = None,
    actor_name: Annotated[str | None, Query(alias="actor", max_length=256, pattern=_NO_NUL)] = None,
    action: Annotated[str | None, Query(max_length=48, pattern=_NO_NUL, description="e.g. alert.status")] = None,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="`next_before` of the previous page.")] = None,
    limit: Annotated[int, Query(ge=1, le=queries.MAX_PAGE)] = 100,
) -> AuditPageOut:
    if actor.may(Permission.ADMINISTER):
        kinds: tuple[str, ...] = (subject_kind,) if subject_kind is not None else ()
    elif subject_kind is None or subject_kind in _OPEN_KINDS:
        kinds = (subject_kind,) if subject_kind is not None else _OPEN_KINDS
    else:
        raise ApiError(403, "forbidden", f"entries about {subject_kind} are for admins; readers see alert entries")
    where = AuditFilter(subject_kinds=kinds, subject_id=subject_id, actor=actor_name, action=action)
    page = queries.list_audit(session, where, before=before, limit=limit)
    return AuditPageOut(
        entries=[AuditEntryOut.model_validate(entry, from_attributes=True) for entry in page.entries],
        next_before=page.next_before,
    )
