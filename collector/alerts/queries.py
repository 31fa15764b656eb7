"""Reading alerts: the review queue (filtered, paged newest activity first) and one alert with its context.

A reviewer should decide in a minute without seeing more personal data than needed, so an alert's detail brings
the rule that fired, the tool's risk facts and policy status, and its evidence events reduced to labels, entity
types and counts and the classifier's redacted snippet. Raw prompt text — which a deployment may have opted to keep
— is never read out of an event's detail here: evidence is built from an allow-list of fields.

Everything returned is a plain frozen dataclass, so the API and the console render the same facts.
"""

from __future__ import annotations

import base64
import binascii
import functools
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, func, select, tuple_
from sqlalchemy.orm import Session, aliased

from collector import audit
from collector.audit import AuditFilter
from collector.models import Alert, AlertComment, AlertEvent, AuditEntry, StoredEvent, User
from collector.policy import current_policy
from collector.triage import Status
from rules.catalog import Catalog
from rules.detection_rules import load_detection_rules

# The assignee filter's two words that are not usernames.
UNASSIGNED = "unassigned"
ME = "me"
# Evidence shown per alert: enough to judge the pattern; the count says how many more were folded in.
EVIDENCE_LIMIT = 50
# An alert's audit trail shown with its detail; older entries are in GET /api/v1/audit.
AUDIT_TRAIL_LIMIT = 200
SUBJECT_KIND = "alert"  # the audit log's subject kind for alerts
MAX_PAGE = 500


class BadCursor(ValueError):
    """The `before` cursor was not made by this module (or was mangled in transit)."""


@dataclass(frozen=True, slots=True)
class AlertFilter:
    """What the queue shows. Every field narrows; the empty filter is every alert.

    `client` matches exactly unless `client_contains` is set (then a case-sensitive substring: an IP prefix such as
    "10.1.", or part of a user name). `assignee` is a username, UNASSIGNED or ME (the `me_user_id` given to
    list_alerts). `since`/`until` bound `last_seen` (since inclusive, until exclusive).
    """

    statuses: tuple[Status, ...] = ()
    severities: tuple[str, ...] = ()
    rule_id: str | None = None
    tool_id: str | None = None
    client: str | None = None
    client_contains: bool = False
    assignee: str | None = None
    since: datetime | None = None
    until: datetime | None = None


@dataclass(frozen=True, slots=True)
class AlertSummary:
    """One row of the queue: what an alert is about, without its evidence."""

    id: int
    rule_id: str
    rule_title: str | None  # None when the rule is no longer loaded (deleted or renamed file)
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
    labels: tuple[str, ...]
    entity_types: tuple[str, ...]
    assignee: str | None  # username
    created_at: datetime
    updated_at: datetime


@dataclass(frozen=True, slots=True)
class AlertPage:
    alerts: tuple[AlertSummary, ...]
    # Pass as `before` for the next (older) page; None on the last page.
    next_before: str | None
    # Alerts per status under the same filter ignoring its statuses: the queue header's tabs.
    status_counts: Mapping[str, int]


@dataclass(frozen=True, slots=True)
class RuleInfo:
    id: str
    title: str
    description: str
    level: str
    status: str
    references: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class ToolInfo:
    id: str
    name: str
    vendor: str
    kind: str
    category: str
    # Each risk fact as {"value": ..., "source": url|None, "as_of": date|None, "note": str|None}; value may be
    # "unknown".
    facts: Mapping[str, Mapping[str, Any]]
    policy_status: str
    policy_decided_by: str


@dataclass(frozen=True, slots=True)
class EvidenceEvent:
    """An event folded into the alert, reduced to what a reviewer needs. Never the text itself."""

    event_id: str
    kind: str
    occurred_at: datetime
    source_id: str
    client: str
    tool_id: str | None
    host: str | None
    bytes_up: int
    labels: tuple[str, ...]
    entity_counts: Mapping[str, int]
    # The classifier's snippet with every entity replaced by its type; None when nothing was found or the text
    # stayed on the device.
    snippet: str | None

    @property
    def entity_types(self) -> tuple[str, ...]:
        return tuple(sorted(self.entity_counts))


@dataclass(frozen=True, slots=True)
class CommentInfo:
    id: int
    author: str
    body: str
    created_at: datetime


@dataclass(frozen=True, slots=True)
class AuditInfo:
    id: int
    occurred_at: datetime
    actor: str
    action: str
    subject_kind: str
    subject_id: str
    from_value: str | None
    to_value: str | None
    reason: str | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditInfo:
        return cls(
            id=entry.id,
            occurred_at=entry.occurred_at,
            actor=entry.actor,
            action=entry.action,
            subject_kind=entry.subject_kind,
            subject_id=entry.subject_id,
            from_value=entry.from_value,
            to_value=entry.to_value,
            reason=entry.reason,
        )


@dataclass(frozen=True, slots=True)
class AlertDetail:
    alert: AlertSummary
    rule: RuleInfo | None
    tool: ToolInfo | None
    evidence: tuple[EvidenceEvent, ...]  # newest first, at most EVIDENCE_LIMIT
    evidence_linked: int  # evidence rows kept for the alert (the alert's event_count may be higher)
    comments: tuple[CommentInfo, ...]  # oldest first: a conversation
    audit_trail: tuple[AuditInfo, ...]  # newest first, at most AUDIT_TRAIL_LIMIT


@dataclass(frozen=True, slots=True)
class AuditPage:
    entries: tuple[AuditInfo, ...]
    next_before: int | None = field(default=None)


# --- rules --------------------------------------------------------------------------------------------------


@functools.cache
def _rules() -> dict[str, RuleInfo]:
    # The rule files ship with the code: read once per process, not per request.
    return {
        str(loaded.rule.id): RuleInfo(
            id=str(loaded.rule.id),
            title=loaded.rule.title,
            description=loaded.rule.description,
            level=loaded.rule.level,
            status=loaded.rule.status,
            references=tuple(str(url) for url in loaded.rule.references),
        )
        for loaded in load_detection_rules()
    }


def rule_info(rule_id: str) -> RuleInfo | None:
    return _rules().get(rule_id)


# --- the queue ----------------------------------------------------------------------------------------------


def encode_cursor(last_seen: datetime, alert_id: int) -> str:
    return base64.urlsafe_b64encode(f"{last_seen.isoformat()}|{alert_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, int]:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        stamp, alert_id = raw.split("|")
        last_seen, number = datetime.fromisoformat(stamp), int(alert_id)
    except (binascii.Error, UnicodeDecodeError, ValueError) as error:
        raise BadCursor("not a cursor from a previous page") from error
    if last_seen.tzinfo is None:
        raise BadCursor("not a cursor from a previous page")
    return last_seen, number


def _conditions(where: AlertFilter, me_user_id: int | None, assignee_id: int | None) -> list[ColumnElement[bool]]:
    conditions: list[ColumnElement[bool]] = []
    if where.severities:
        conditions.append(Alert.severity.in_(where.severities))
    if where.rule_id is not None:
        conditions.append(Alert.rule_id == where.rule_id)
    if where.tool_id is not None:
        conditions.append(Alert.tool_id == where.tool_id)
    if where.client is not None:
        if where.client_contains:
            conditions.append(Alert.client.contains(where.client, autoescape=True))
        else:
            conditions.append(Alert.client == where.client)
    if where.assignee == UNASSIGNED:
        conditions.append(Alert.assignee_id.is_(None))
    elif where.assignee is not None:
        # ME without a person (an API key), or an unknown username: nothing matches rather than everything.
        wanted = me_user_id if where.assignee == ME else assignee_id
        conditions.append(Alert.assignee_id == wanted if wanted is not None else Alert.id.is_(None))
    if where.since is not None:
        conditions.append(Alert.last_seen >= where.since)
    if where.until is not None:
        conditions.append(Alert.last_seen < where.until)
    return conditions


def _summary_query() -> Select[Alert, str | None]:
    assignee = aliased(User)
    return select(Alert, assignee.username).outerjoin(assignee, assignee.id == Alert.assignee_id)


def _summary(alert: Alert, assignee: str | None, catalog: Catalog) -> AlertSummary:
    rule = rule_info(alert.rule_id)
    entry = catalog.tools.get(alert.tool_id) if alert.tool_id is not None else None
    return AlertSummary(
        id=alert.id,
        rule_id=alert.rule_id,
        rule_title=rule.title if rule is not None else None,
        severity=alert.severity,
        status=Status(alert.status),
        resolution=alert.resolution,
        client=alert.client,
        tool_id=alert.tool_id,
        tool_name=entry.tool.name if entry is not None else None,
        source_id=alert.source_id,
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
        event_count=alert.event_count,
        labels=tuple(alert.labels or ()),
        entity_types=tuple(alert.entity_types or ()),
        assignee=assignee,
        created_at=alert.created_at,
        updated_at=alert.updated_at,
    )


def list_alerts(
    session: Session,
    catalog: Catalog,
    where: AlertFilter = AlertFilter(),  # frozen, so one shared default is safe
    *,
    before: str | None = None,
    limit: int = 50,
    me_user_id: int | None = None,
) -> AlertPage:
    """The review queue, most recent activity (`last_seen`) first, ties broken by id.

    `before` is the previous page's `next_before` (keyset paging: stable while new alerts arrive, and as fast on
    page 200 as on page 1). Raises BadCursor for a cursor this module did not make. `limit` is capped at MAX_PAGE.
    """
    limit = max(1, min(limit, MAX_PAGE))
    assignee_id = None
    if where.assignee not in (None, UNASSIGNED, ME):
        assignee_id = session.scalar(select(User.id).where(User.username == str(where.assignee).strip().lower()))
    common = _conditions(where, me_user_id, assignee_id)
    query = _summary_query().where(*common)
    if where.statuses:
        query = query.where(Alert.status.in_([status.value for status in where.statuses]))
    if before is not None:
        last_seen, alert_id = decode_cursor(before)
        query = query.where(tuple_(Alert.last_seen, Alert.id) < tuple_(last_seen, alert_id))
    query = query.order_by(Alert.last_seen.desc(), Alert.id.desc()).limit(limit + 1)
    rows = session.execute(query).all()
    page = [_summary(alert, assignee, catalog) for alert, assignee in rows[:limit]]
    next_before = encode_cursor(page[-1].last_seen, page[-1].id) if len(rows) > limit and page else None
    counted = session.execute(select(Alert.status, func.count()).where(*common).group_by(Alert.status)).all()
    counts = {status.value: 0 for status in Status} | {status: int(count) for status, count in counted}
    return AlertPage(tuple(page), next_before, counts)


def get_summary(session: Session, catalog: Catalog, alert_id: int) -> AlertSummary | None:
    """One alert as a queue row (after a change, say); None if absent."""
    row = session.execute(_summary_query().where(Alert.id == alert_id)).first()
    return _summary(row[0], row[1], catalog) if row is not None else None


# --- one alert ----------------------------------------------------------------------------------------------


def _evidence(event: StoredEvent) -> EvidenceEvent:
    # An allow-list of detail fields: "text" (kept only when a deployment opted in) can never slip through.
    detail: Mapping[str, Any] = event.detail or {}
    content: Mapping[str, Any] = detail.get("classification") or detail.get("findings") or {}
    counts = content.get("entity_counts") or {}
    snippet = content.get("snippet")
    host = detail.get("host") or detail.get("server_name")
    return EvidenceEvent(
        event_id=str(event.event_id),
        kind=event.kind,
        occurred_at=event.occurred_at,
        source_id=event.source_id,
        client=event.client,
        tool_id=event.tool_id,
        host=str(host) if host else None,
        bytes_up=event.bytes_up,
        labels=tuple(str(label) for label in content.get("labels") or ()),
        entity_counts={str(name): int(count) for name, count in counts.items()},
        snippet=str(snippet) if isinstance(snippet, str) else None,
    )


def _tool(session: Session, catalog: Catalog, tool_id: str | None) -> ToolInfo | None:
    entry = catalog.tools.get(tool_id) if tool_id is not None else None
    if entry is None:
        return None
    tool = entry.tool
    status, decided_by = current_policy(session).resolve(tool.id, tool.category.value)
    facts = {name: fact.model_dump(mode="json") for name, fact in tool.facts}
    return ToolInfo(
        id=tool.id,
        name=tool.name,
        vendor=tool.vendor,
        kind=tool.kind.value,
        category=tool.category.value,
        facts=facts,
        policy_status=status.value,
        policy_decided_by=decided_by,
    )


def get_alert(session: Session, catalog: Catalog, alert_id: int) -> AlertDetail | None:
    """One alert with the rule, tool facts and policy, evidence (redacted), comments and audit trail; None if absent.

    A bounded number of small queries whatever the alert's size: evidence is capped at EVIDENCE_LIMIT and found
    through alert_events' (alert_id, event_id) unique index.
    """
    row = session.execute(_summary_query().where(Alert.id == alert_id)).first()
    if row is None:
        return None
    alert, assignee = row
    events = session.scalars(
        select(StoredEvent)
        .join(AlertEvent, AlertEvent.event_id == StoredEvent.event_id)
        .where(AlertEvent.alert_id == alert_id)
        .order_by(StoredEvent.occurred_at.desc(), StoredEvent.id.desc())
        .limit(EVIDENCE_LIMIT)
    ).all()
    linked = session.scalar(select(func.count()).select_from(AlertEvent).where(AlertEvent.alert_id == alert_id))
    comments = session.execute(
        select(AlertComment, User.username)
        .join(User, User.id == AlertComment.author_id)
        .where(AlertComment.alert_id == alert_id)
        .order_by(AlertComment.id)
    ).all()
    trail = audit.entries(
        session, AuditFilter(subject_kinds=(SUBJECT_KIND,), subject_id=str(alert_id)), limit=AUDIT_TRAIL_LIMIT
    )
    return AlertDetail(
        alert=_summary(alert, assignee, catalog),
        rule=rule_info(alert.rule_id),
        tool=_tool(session, catalog, alert.tool_id),
        evidence=tuple(_evidence(event) for event in events),
        evidence_linked=int(linked or 0),
        comments=tuple(
            CommentInfo(id=comment.id, author=author, body=comment.body, created_at=comment.created_at)
            for comment, author in comments
        ),
        audit_trail=tuple(AuditInfo.of(entry) for entry in trail),
    )


# --- the audit log ------------------------------------------------------------------------------------------


def list_audit(session: Session, where: AuditFilter, *, before: int | None = None, limit: int = 100) -> AuditPage:
    """Audit entries newest first; `before` is the previous page's `next_before` (an entry id)."""
    limit = max(1, min(limit, MAX_PAGE))
    rows = audit.entries(session, where, limit=limit + 1, before=before)  # one more: is there a next page?
    page = tuple(AuditInfo.of(entry) for entry in rows[:limit])
    return AuditPage(page, page[-1].id if len(rows) > limit and page else None)
