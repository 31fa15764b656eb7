"""Local accounts: create, change role or password, disable; sign in with a lockout after repeated failures.

Every change and every failed sign-in goes into the audit log in the same transaction.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from datetime import datetime, timedelta

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector import audit
from collector.accounts import passwords
from collector.accounts.roles import Role
from collector.models import AuditEntry, User

USERNAME = re.compile(r"^[a-z0-9][a-z0-9._@-]{1,63}$")
SUBJECT = "user"


class AccountError(ValueError):
    """A request about an account cannot be done; the message is safe to show."""


class SignInRefused(Exception):
    """Wrong username or password, a disabled account, or a locked one. The message never says which user exists."""


def normalise_username(username: str) -> str:
    name = username.strip().lower()
    if not USERNAME.fullmatch(name):
        raise AccountError("a username is 2-64 characters: lower-case letters, digits and . _ @ -")
    return name


def find(session: Session, username: str) -> User | None:
    return session.scalar(select(User).where(User.username == username.strip().lower()))


def get(session: Session, username: str) -> User:
    user = find(session, username)
    if user is None:
        raise AccountError(f"no user named {username!r}")
    return user


def list_users(session: Session, include_disabled: bool = True) -> Sequence[User]:
    query = select(User).order_by(User.username)
    if not include_disabled:
        query = query.where(User.disabled_at.is_(None))
    return session.scalars(query).all()


def create(
    session: Session, username: str, role: Role, password: str, *, actor: str, display_name: str | None = None
) -> User:
    name = normalise_username(username)
    if find(session, name) is not None:
        raise AccountError(f"a user named {name!r} exists already")
    passwords.check_strength(password, name)
    user = User(
        username=name, display_name=display_name, role=role.value, password_hash=passwords.hash_password(password)
    )
    session.add(user)
    session.flush()
    audit.record(session, actor=actor, action="user.created", subject_kind=SUBJECT, subject_id=name, to_value=role)
    return user


def set_role(session: Session, username: str, role: Role, *, actor: str) -> User:
    user = get(session, username)
    if user.role != role.value:
        if user.role == Role.ADMIN and _active_admins(session) <= 1:
            raise AccountError("the last active admin cannot lose the admin role")
        audit.record(
            session,
            actor=actor,
            action="user.role",
            subject_kind=SUBJECT,
            subject_id=user.username,
            from_value=user.role,
            to_value=role,
        )
        user.role = role.value
    return user


def set_password(session: Session, username: str, password: str, *, actor: str, now: datetime) -> User:
    user = get(session, username)
    passwords.check_strength(password, user.username)
    user.password_hash = passwords.hash_password(password)
    user.password_changed_at = now
    audit.record(session, actor=actor, action="user.password", subject_kind=SUBJECT, subject_id=user.username)
    return user


def set_disabled(session: Session, username: str, disabled: bool, *, actor: str, now: datetime) -> User:
    user = get(session, username)
    if disabled and user.disabled_at is None:
        if user.role == Role.ADMIN and _active_admins(session) <= 1:
            raise AccountError("the last active admin cannot be disabled")
        user.disabled_at = now
        audit.record(session, actor=actor, action="user.disabled", subject_kind=SUBJECT, subject_id=user.username)
    elif not disabled and user.disabled_at is not None:
        user.disabled_at = None
        audit.record(session, actor=actor, action="user.enabled", subject_kind=SUBJECT, subject_id=user.username)
    return user


def sign_in(
    session: Session, username: str, password: str, *, now: datetime, max_failures: int, lockout: timedelta
) -> User:
    """The user, if the password is right and the account is usable; else SignInRefused (and a failure on record).

    The lock counts recent failures in the audit log, so it holds across collector workers and restarts.
    """
    name = username.strip().lower()[:64]
    recent_failures = session.scalar(
        select(func.count())
        .select_from(AuditEntry)
        .where(
            AuditEntry.action == "login.failed",
            AuditEntry.subject_kind == SUBJECT,
            AuditEntry.subject_id == name,
            AuditEntry.occurred_at > now - lockout,
        )
    )
    user = find(session, name)
    # Always verify (against a dummy hash for unknown users): the time taken does not reveal who exists.
    password_ok = passwords.verify(user.password_hash if user is not None else None, password)
    if (recent_failures or 0) >= max_failures:
        raise SignInRefused(f"too many failed sign-ins; try again in {int(lockout.total_seconds() // 60)} minutes")
    if user is None or not password_ok or user.disabled_at is not None:
        audit.record(session, actor="anonymous", action="login.failed", subject_kind=SUBJECT, subject_id=name, at=now)
        raise SignInRefused("wrong username or password")
    if passwords.needs_rehash(user.password_hash):
        user.password_hash = passwords.hash_password(password)
    user.last_login_at = now
    return user


def _active_admins(session: Session) -> int:
    count = session.scalar(
        select(func.count()).select_from(User).where(User.role == Role.ADMIN.value, User.disabled_at.is_(None))
    )
    return int(count or 0)
