"""The alert API's request and response bodies, built from collector.alerts.queries' dataclasses."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from collector.alerts import queries
from collector.alerts.workflow import MAX_BULK, MAX_COMMENT, MAX_REASON
from collector.triage import Resolution, Status

_ALERT_EXAMPLE: dict[str, Any] = {
    "id": 42,
    "rule_id": "5b0d6c1e-3f3e-4a53-9c55-0f3f2f1f2a10",
    "rule_title": "Personal, health or card data sent to an unsanctioned AI tool",
    "severity": "high",
    "status": "new",
    "resolution": None,
    "client": "j.doe",
    "tool_id": "openai-chatgpt",
    "tool_name": "ChatGPT",
    "source_id": "laptop-0001",
    "first_seen": "2026-11-02T08:01:00Z",
    "last_seen": "2026-11-02T08:14:00Z",
    "event_count": 3,
    "labels": ["pii"],
    "entity_types": ["email_address", "us_ssn"],
    "assignee": None,
    "created_at": "2026-11-02T08:01:05Z",
    "updated_at": "2026-11-02T08:14:02Z",
}

Reason = Annotated[str | None, Field(default=None, max_length=MAX_REASON, description="Why; kept in the audit log.")]


class AlertOut(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [_ALERT_EXAMPLE]})

    id: int
    rule_id: str
    rule_title: str | None
    severity: str
    status: Status
    resolution: str | None
    client: str | None
    tool_id: str | None
    tool_name: str | None
    source_id: str | None
    first_seen: datetime
    last_seen: datetime
    event_count: int
    labels: list[str]
    entity_types: list[str]
    assignee: str | None = Field(description="Username of the reviewer the alert is assigned to.")
    created_at: datetime
    updated_at: datetime


class AlertPageOut(BaseModel):
    alerts: list[AlertOut]
    next_before: str | None = Field(description="Pass as `before` for the next (older) page; null on the last.")
    status_counts: dict[str, int] = Field(
        description="Alerts per status under the same filters, ignoring `status`: the queue's tabs."
    )


class RuleOut(BaseModel):
    id: str
    title: str
    description: str
    level: str
    status: str
    references: list[str]


class ToolOut(BaseModel):
    id: str
    name: str
    vendor: str
    kind: str
    category: str
    facts: dict[str, dict[str, Any]] = Field(
        description="Risk facts from the catalog: {value, source, as_of, note}; value may be `unknown`."
    )
    policy_status: str = Field(description="sanctioned, tolerated or unsanctioned under the policy in force.")
    policy_decided_by: str


class EvidenceOut(BaseModel):
    """An event folded into the alert. Raw text is never part of it, even where the deployment stores text."""

    event_id: str
    kind: str
    occurred_at: datetime
    source_id: str
    client: str
    tool_id: str | None
    host: str | None
    bytes_up: int
    labels: list[str]
    entity_types: list[str]
    entity_counts: dict[str, int]
    snippet: str | None = Field(description="The classifier's snippet with every entity replaced by its type.")


class CommentOut(BaseModel):
    id: int
    author: str
    body: str
    created_at: datetime


class AuditEntryOut(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "id": 913,
                    "occurred_at": "2026-11-02T09:30:12Z",
                    "actor": "user:alice",
                    "action": "alert.status",
                    "subject_kind": "alert",
                    "subject_id": "42",
                    "from_value": "triaged",
                    "to_value": "dismissed",
                    "reason": "test data from the QA team",
                }
            ]
        }
    )

    id: int
    occurred_at: datetime
    actor: str
    action: str
    subject_kind: str
    subject_id: str
    from_value: str | None
    to_value: str | None
    reason: str | None


class AuditPageOut(BaseModel):
    entries: list[AuditEntryOut]
    next_before: int | None = Field(description="Pass as `before` for older entries; null on the last page.")


class AlertDetailOut(BaseModel):
    alert: AlertOut
    rule: RuleOut | None = Field(description="The detection rule that raised the alert; null if no longer loaded.")
    tool: ToolOut | None = Field(description="The AI tool's catalog entry and policy; null for uncatalogued tools.")
    evidence: list[EvidenceOut] = Field(description=f"Newest first, at most {queries.EVIDENCE_LIMIT}.")
    evidence_linked: int = Field(description="Evidence events kept for the alert.")
    comments: list[CommentOut]
    audit_trail: list[AuditEntryOut] = Field(description="This alert's audit entries, newest first.")


class StatusChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {"status": "triaged"},
                {"status": "dismissed", "resolution": "false_positive", "reason": "synthetic test data"},
                {"status": "triaged", "reason": "the same person sent more records", "expected_status": "resolved"},
            ]
        },
    )

    status: Status
    resolution: Resolution | None = Field(
        default=None,
        description="Required when closing: resolved takes remediated or accepted_risk; dismissed takes "
        "false_positive, duplicate or benign.",
    )
    reason: Reason = Field(default=None, description="Why; required to reopen a closed alert.")
    expected_status: Status | None = Field(
        default=None,
        description="The status you saw. If the alert has moved on since, the change is refused with 409.",
    )


class AssigneeChange(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"assignee": "alice"}, {"assignee": "me"}, {"assignee": None}]}
    )

    assignee: str | None = Field(
        max_length=64, description="A username with a triaging role, `me`, or null to unassign."
    )
    reason: Reason = None


class CommentIn(BaseModel):
    model_config = ConfigDict(
        extra="forbid", json_schema_extra={"examples": [{"body": "Asked the team lead; they use synthetic data."}]}
    )

    body: str = Field(min_length=1, max_length=MAX_COMMENT)


AlertIds = Annotated[list[Annotated[int, Field(ge=1, le=2**63 - 1)]], Field(min_length=1, max_length=MAX_BULK)]


class BulkStatus(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["status"]
    alert_ids: AlertIds
    status: Status
    resolution: Resolution | None = None
    reason: Reason = None


class BulkAssign(BaseModel):
    model_config = ConfigDict(extra="forbid")

    action: Literal["assign"]
    alert_ids: AlertIds
    assignee: str | None = Field(max_length=64)
    reason: Reason = None


BulkChange = Annotated[BulkStatus | BulkAssign, Field(discriminator="action")]
BULK_EXAMPLES: dict[str, Any] = {
    "status": {
        "summary": "Dismiss duplicates",
        "value": {
            "action": "status",
            "alert_ids": [41, 42, 43],
            "status": "dismissed",
            "resolution": "duplicate",
            "reason": "same incident as #40",
        },
    },
    "assign": {
        "summary": "Assign to a reviewer",
        "value": {"action": "assign", "alert_ids": [41, 42], "assignee": "alice"},
    },
}


class BulkOut(BaseModel):
    changed: list[int] = Field(description="The alerts changed (each one audited).")
