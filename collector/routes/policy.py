"""/api/v1/policy: the organisation's AI-tool policy, its history, and what applies to a given tool."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Query
from pydantic import BaseModel, ConfigDict, Field

from collector import policy
from collector.accounts.actor import Actor
from collector.deps import AdminDep, ReaderDep, ReadSessionDep, RuntimeDep
from collector.errors import ApiError, ErrorResponse
from collector.runtime import Runtime
from rules.catalog_schema import Category

router = APIRouter(prefix="/api/v1/policy", tags=["policy"])

_ERRORS: dict[int | str, dict[str, object]] = {
    400: {"model": ErrorResponse, "description": "The body is not valid JSON."},
    401: {"model": ErrorResponse, "description": "No API key, or an unknown or revoked one."},
    403: {"model": ErrorResponse, "description": "The key lacks the scope (reading: read or admin; changing: admin)."},
    404: {"model": ErrorResponse, "description": "No such tool in the catalog."},
    422: {"model": ErrorResponse, "description": "Malformed request."},
}


class PolicyOut(BaseModel):
    version: int
    default: policy.ToolStatus
    categories: dict[str, policy.ToolStatus]
    tools: dict[str, policy.ToolStatus]


class StatusIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: policy.ToolStatus
    reason: str | None = Field(default=None, max_length=1000, description="Why; kept in the policy history.")


class ChangeOut(BaseModel):
    version: int
    subject_kind: str
    subject: str
    old_status: str | None
    new_status: str | None
    actor: str
    reason: str | None
    changed_at: datetime


class ResolvedOut(BaseModel):
    tool_id: str
    category: str
    status: policy.ToolStatus
    decided_by: str
    policy_version: int


def _policy_out(current: policy.Policy) -> PolicyOut:
    return PolicyOut(
        version=current.version, default=current.default, categories=current.categories, tools=current.tools
    )


def _actor(principal: Actor) -> str:
    return principal.audit_name


def _apply(
    runtime: Runtime, principal: Actor, kind: policy.SubjectKind, subject: str, body: StatusIn | None
) -> PolicyOut:
    with runtime.sessions.begin() as session:
        policy.change(
            session,
            kind,
            subject,
            body.status if body else None,
            actor=_actor(principal),
            reason=body.reason if body else None,
        )
        return _policy_out(policy.current_policy(session))


def _known_tool(runtime: Runtime, tool_id: str) -> str:
    entry = runtime.catalog.tools.get(tool_id)
    if entry is None:
        raise ApiError(404, "unknown_tool", f"no tool {tool_id!r} in the catalog")
    return entry.tool.category.value


ToolId = Annotated[str, Path(max_length=64, description="Catalog id of the tool.")]


@router.get("", response_model=PolicyOut, responses=_ERRORS, summary="The policy in force")
def get_policy(_reader: ReaderDep, session: ReadSessionDep) -> PolicyOut:
    return _policy_out(policy.current_policy(session))


@router.get("/resolve", response_model=ResolvedOut, responses=_ERRORS, summary="What applies to one tool, and why")
def resolve(
    _reader: ReaderDep,
    session: ReadSessionDep,
    runtime: RuntimeDep,
    tool: Annotated[str, Query(max_length=64, pattern=r"^[^\x00]*$")],
) -> ResolvedOut:
    category = _known_tool(runtime, tool)
    current = policy.current_policy(session)
    status, decided_by = current.resolve(tool, category)
    return ResolvedOut(
        tool_id=tool, category=category, status=status, decided_by=decided_by, policy_version=current.version
    )


@router.get("/history", response_model=list[ChangeOut], responses=_ERRORS, summary="Who changed what, newest first")
def get_history(
    _reader: ReaderDep,
    session: ReadSessionDep,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
    before: Annotated[int | None, Query(ge=1, le=2**63 - 1, description="Only versions older than this.")] = None,
) -> list[ChangeOut]:
    return [
        ChangeOut(
            version=c.id,
            subject_kind=c.subject_kind,
            subject=c.subject,
            old_status=c.old_status,
            new_status=c.new_status,
            actor=c.actor,
            reason=c.reason,
            changed_at=c.changed_at,
        )
        for c in policy.history(session, limit, before)
    ]


@router.put("/default", response_model=PolicyOut, responses=_ERRORS, summary="Set the status of unlisted tools")
def put_default(principal: AdminDep, runtime: RuntimeDep, body: StatusIn) -> PolicyOut:
    return _apply(runtime, principal, policy.SubjectKind.DEFAULT, policy.DEFAULT_SUBJECT, body)


@router.put("/categories/{category}", response_model=PolicyOut, responses=_ERRORS, summary="Set a category")
def put_category(principal: AdminDep, runtime: RuntimeDep, category: Category, body: StatusIn) -> PolicyOut:
    return _apply(runtime, principal, policy.SubjectKind.CATEGORY, category.value, body)


@router.delete("/categories/{category}", response_model=PolicyOut, responses=_ERRORS, summary="Unset a category")
def delete_category(principal: AdminDep, runtime: RuntimeDep, category: Category) -> PolicyOut:
    return _apply(runtime, principal, policy.SubjectKind.CATEGORY, category.value, None)


@router.put("/tools/{tool_id}", response_model=PolicyOut, responses=_ERRORS, summary="Set one tool")
def put_tool(principal: AdminDep, runtime: RuntimeDep, tool_id: ToolId, body: StatusIn) -> PolicyOut:
    _known_tool(runtime, tool_id)
    return _apply(runtime, principal, policy.SubjectKind.TOOL, tool_id, body)


@router.delete("/tools/{tool_id}", response_model=PolicyOut, responses=_ERRORS, summary="Unset one tool")
def delete_tool(principal: AdminDep, runtime: RuntimeDep, tool_id: ToolId) -> PolicyOut:
    return _apply(runtime, principal, policy.SubjectKind.TOOL, tool_id, None)
