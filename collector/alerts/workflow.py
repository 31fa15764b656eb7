"""Changing alerts: status, assignee, comments, and the same over many alerts at once.

Each change writes its audit entry (who, when, from → to, why) in the caller's transaction and bumps the alert's
`updated_at`, so the log and the state cannot disagree. Call these inside `sessions.begin()`; on any exception the
caller's transaction rolls back, which is what makes `bulk_*` all-or-nothing.

Concurrency: every write is a compare-and-set — `UPDATE alerts ... WHERE id = ? AND status = <the status this
change was checked against>` (for assignment, the assignee). If another reviewer changed the alert in between, no
row matches and StaleAlert (409) is raised instead of silently overwriting their decision. The same guard works on
SQLite and PostgreSQL without row locks. A client may also send the status it saw (`expected_status`): if the
alert has moved on since, the change is refused as stale, so nobody closes an alert they have not seen reopened.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collector import audit
from collector.accounts.actor import Actor
from collector.accounts.roles import Permission, Role, allows
from collector.models import Alert, AlertComment, User
from collector.triage import TRANSITIONS, InvalidTransition, Resolution, Status, check_transition

SUBJECT_KIND = "alert"
MAX_BULK = 500
MAX_COMMENT = 4000
MAX_REASON = 1000


class WorkflowError(Exception):
    """A change that cannot be made; the message is safe to show. `code` is the API's error code."""

    code = "workflow_error"


class AlertNotFound(WorkflowError):
    code = "no_such_alert"


class TransitionRefused(WorkflowError):
    """The status change is not in the transition table from the alert's current status (HTTP 409)."""

    code = "invalid_transition"


class StaleAlert(WorkflowError):
    """The alert changed since the caller looked (or during this change); reload and decide again (HTTP 409)."""

    code = "stale_alert"


class ChangeIncomplete(WorkflowError):
    """The change lacks what it needs or carries what it may not: a resolution, a reason, a valid assignee (422)."""

    code = "invalid_change"


class PersonRequired(WorkflowError):
    """Comments are signed by a person; an API key cannot write one (HTTP 403)."""

    code = "person_required"


@dataclass(frozen=True, slots=True)
class BulkFailure:
    alert_id: int
    code: str
    message: str


class BulkRefused(WorkflowError):
    """At least one alert of a bulk change failed, so none was changed; `failures` says which and why."""

    code = "bulk_refused"

    def __init__(self, failures: Sequence[BulkFailure]) -> None:
        self.failures = list(failures)
        super().__init__(f"{len(self.failures)} of the alerts cannot be changed; nothing was changed")


def _now(now: datetime | None) -> datetime:
    return now if now is not None else datetime.now(UTC)


def _load(session: Session, alert_id: int) -> Alert:
    alert = session.get(Alert, alert_id, populate_existing=True)
    if alert is None:
        raise AlertNotFound(f"no alert {alert_id}")
    return alert


def _clean_reason(reason: str | None) -> str | None:
    if reason is None or not reason.strip():
        return None
    if len(reason) > MAX_REASON:
        raise ChangeIncomplete(f"a reason may have at most {MAX_REASON} characters")
    return reason.strip()


def _apply_status(
    session: Session,
    alert: Alert,
    target: Status,
    *,
    actor: Actor,
    resolution: Resolution | None,
    reason: str | None,
    expected_status: Status | None,
    now: datetime,
) -> None:
    current = Status(alert.status)
    if expected_status is not None and expected_status != current:
        raise StaleAlert(f"alert {alert.id} is {current} now, not {expected_status}; reload it")
    reason = _clean_reason(reason)
    try:
        check_transition(current, target, resolution=resolution, reason=reason)
    except InvalidTransition as error:
        # Not in the table at all is a conflict with the alert's state; a missing resolution or reason is a bad request.
        refusal = TransitionRefused if target not in TRANSITIONS[current] else ChangeIncomplete
        raise refusal(str(error)) from error
    new_resolution = resolution.value if resolution is not None else None
    changed = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, Alert.status == current.value)
        .values(status=target.value, resolution=new_resolution, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleAlert(f"alert {alert.id} was changed by someone else meanwhile; reload it")
    audit.record(
        session,
        actor=actor.audit_name,
        action="alert.status",
        subject_kind=SUBJECT_KIND,
        subject_id=alert.id,
        from_value=current.value,
        to_value=target.value,
        reason=reason,
        at=now,
    )
    if new_resolution != alert.resolution:
        audit.record(
            session,
            actor=actor.audit_name,
            action="alert.resolution",
            subject_kind=SUBJECT_KIND,
            subject_id=alert.id,
            from_value=alert.resolution,
            to_value=new_resolution,
            reason=reason,
            at=now,
        )
    session.refresh(alert)


def change_status(
    session: Session,
    alert_id: int,
    target: Status,
    *,
    actor: Actor,
    resolution: Resolution | None = None,
    reason: str | None = None,
    expected_status: Status | None = None,
    now: datetime | None = None,
) -> Alert:
    """Move an alert along the transition table (collector.triage) and record it.

    Closing (resolved/dismissed) needs a resolution that fits; reopening a closed alert needs a reason; other
    moves take an optional reason. Reopening clears the resolution. Raises AlertNotFound, TransitionRefused (not in
    the table), ChangeIncomplete (resolution/reason), StaleAlert (expected_status differs, or a concurrent change).
    """
    alert = _load(session, alert_id)
    _apply_status(
        session,
        alert,
        target,
        actor=actor,
        resolution=resolution,
        reason=reason,
        expected_status=expected_status,
        now=_now(now),
    )
    return alert


def _assignee(session: Session, username: str | None, actor: Actor) -> User | None:
    if username is None:
        return None
    if username == "me":
        if actor.user_id is None:
            raise ChangeIncomplete("'me' needs a signed-in person, not an API key")
        user = session.get(User, actor.user_id)
    else:
        user = session.scalar(select(User).where(User.username == username.strip().lower()))
    if user is None:
        raise ChangeIncomplete(f"no user named {username!r}")
    if user.disabled_at is not None:
        raise ChangeIncomplete(f"{user.username} is disabled")
    if not allows(Role(user.role), Permission.TRIAGE):
        raise ChangeIncomplete(f"{user.username} is {user.role} and cannot triage alerts")
    return user


def _apply_assignee(
    session: Session, alert: Alert, user: User | None, *, actor: Actor, reason: str | None, now: datetime
) -> None:
    new_id = user.id if user is not None else None
    if alert.assignee_id == new_id:
        return  # no change, nothing to record
    previous = session.get(User, alert.assignee_id) if alert.assignee_id is not None else None
    guard = Alert.assignee_id.is_(None) if alert.assignee_id is None else Alert.assignee_id == alert.assignee_id
    changed = session.execute(
        update(Alert)
        .where(Alert.id == alert.id, guard)
        .values(assignee_id=new_id, updated_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        raise StaleAlert(f"alert {alert.id} was reassigned by someone else meanwhile; reload it")
    audit.record(
        session,
        actor=actor.audit_name,
        action="alert.assigned",
        subject_kind=SUBJECT_KIND,
        subject_id=alert.id,
        from_value=previous.username if previous is not None else None,
        to_value=user.username if user is not None else None,
        reason=_clean_reason(reason),
        at=now,
    )
    session.refresh(alert)


def assign(
    session: Session,
    alert_id: int,
    assignee: str | None,
    *,
    actor: Actor,
    reason: str | None = None,
    now: datetime | None = None,
) -> Alert:
    """Assign an alert to a username ("me" for the acting person), or unassign it with None.

    The assignee must be an active user whose role may triage. Assigning to the current assignee changes and
    records nothing. Raises AlertNotFound, ChangeIncomplete (no such user, disabled, read-only), StaleAlert.
    """
    alert = _load(session, alert_id)
    user = _assignee(session, assignee, actor)
    _apply_assignee(session, alert, user, actor=actor, reason=reason, now=_now(now))
    return alert


def add_comment(
    session: Session, alert_id: int, body: str, *, actor: Actor, now: datetime | None = None
) -> AlertComment:
    """Add a comment by the acting person. Raises AlertNotFound, PersonRequired (API key), ChangeIncomplete (empty
    or longer than MAX_COMMENT). The audit entry names the comment id, not its text."""
    if actor.user_id is None:
        raise PersonRequired("comments are signed by a person: sign in to comment")
    text = body.strip()
    if not text:
        raise ChangeIncomplete("a comment needs some text")
    if len(text) > MAX_COMMENT:
        raise ChangeIncomplete(f"a comment may have at most {MAX_COMMENT} characters")
    at = _now(now)
    alert = _load(session, alert_id)
    comment = AlertComment(alert_id=alert.id, author_id=actor.user_id, body=text, created_at=at)
    session.add(comment)
    alert.updated_at = at
    session.flush()
    audit.record(
        session,
        actor=actor.audit_name,
        action="alert.commented",
        subject_kind=SUBJECT_KIND,
        subject_id=alert.id,
        to_value=f"comment {comment.id}",
        at=at,
    )
    return comment


def _bulk_alerts(session: Session, alert_ids: Sequence[int]) -> tuple[list[int], dict[int, Alert]]:
    ids = list(dict.fromkeys(alert_ids))  # a repeated id is one alert, changed once
    if not ids:
        raise ChangeIncomplete("name at least one alert")
    if len(ids) > MAX_BULK:
        raise ChangeIncomplete(f"at most {MAX_BULK} alerts at once")
    found = {
        alert.id: alert
        for alert in session.scalars(select(Alert).where(Alert.id.in_(ids)).execution_options(populate_existing=True))
    }
    return ids, found


def bulk_change_status(
    session: Session,
    alert_ids: Sequence[int],
    target: Status,
    *,
    actor: Actor,
    resolution: Resolution | None = None,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Alert]:
    """change_status for up to MAX_BULK alerts, all or nothing: BulkRefused lists every alert that could not move
    (and the caller's transaction must roll back). Each changed alert gets its own audit entry."""
    ids, found = _bulk_alerts(session, alert_ids)
    at = _now(now)
    failures: list[BulkFailure] = []
    for alert_id in ids:
        alert = found.get(alert_id)
        if alert is None:
            failures.append(BulkFailure(alert_id, AlertNotFound.code, f"no alert {alert_id}"))
            continue
        try:
            _apply_status(
                session,
                alert,
                target,
                actor=actor,
                resolution=resolution,
                reason=reason,
                expected_status=None,
                now=at,
            )
        except WorkflowError as error:
            failures.append(BulkFailure(alert_id, error.code, str(error)))
    if failures:
        raise BulkRefused(failures)
    return [found[alert_id] for alert_id in ids]


def bulk_assign(
    session: Session,
    alert_ids: Sequence[int],
    assignee: str | None,
    *,
    actor: Actor,
    reason: str | None = None,
    now: datetime | None = None,
) -> list[Alert]:
    """assign for up to MAX_BULK alerts, all or nothing (see bulk_change_status)."""
    ids, found = _bulk_alerts(session, alert_ids)
    user = _assignee(session, assignee, actor)
    at = _now(now)
    failures: list[BulkFailure] = []
    for alert_id in ids:
        alert = found.get(alert_id)
        if alert is None:
            failures.append(BulkFailure(alert_id, AlertNotFound.code, f"no alert {alert_id}"))
            continue
        try:
            _apply_assignee(session, alert, user, actor=actor, reason=reason, now=at)
        except WorkflowError as error:
            failures.append(BulkFailure(alert_id, error.code, str(error)))
    if failures:
        raise BulkRefused(failures)
    return [found[alert_id] for alert_id in ids]
