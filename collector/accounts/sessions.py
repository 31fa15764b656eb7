"""Sessions for people: an opaque token (256 random bits) in an HttpOnly cookie or a Bearer header.

Only the token's SHA-256 is stored, so a database copy cannot be replayed. A session ends when idle for
`session_idle_minutes`, `session_max_hours` after sign-in, at sign-out, or when its user is disabled.
"""

from __future__ import annotations

import hashlib
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collector.models import User, UserSession

TOKEN_PREFIX = "sess_"  # noqa: S105 - a prefix that tells session tokens from API keys, not a secret
COOKIE_NAME = "shadowscope_session"
# Recording every request would add a write to each page view; a minute's resolution is enough for the idle limit.
TOUCH_RESOLUTION = timedelta(minutes=1)


class SessionInvalid(Exception):
    """No such session, or it ended; the message is safe to show."""


@dataclass(frozen=True, slots=True)
class Lifetimes:
    idle: timedelta
    maximum: timedelta


@dataclass(frozen=True, slots=True)
class IssuedSession:
    token: str  # handed to the client once; never stored
    expires_at: datetime


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def is_session_token(token: str) -> bool:
    return token.startswith(TOKEN_PREFIX)


def start(session: Session, user: User, now: datetime, lifetimes: Lifetimes) -> IssuedSession:
    token = TOKEN_PREFIX + secrets.token_urlsafe(32)
    expires_at = now + lifetimes.maximum
    session.add(UserSession(token_sha256=_sha256(token), user_id=user.id, last_seen_at=now, expires_at=expires_at))
    return IssuedSession(token, expires_at)


def resolve(session: Session, token: str, now: datetime, lifetimes: Lifetimes) -> User:
    """The signed-in user, or SessionInvalid."""
    row = session.scalar(select(UserSession).where(UserSession.token_sha256 == _sha256(token)))
    if row is None or row.revoked_at is not None:
        raise SessionInvalid("not signed in")
    if now >= row.expires_at or now - row.last_seen_at > lifetimes.idle:
        raise SessionInvalid("the session has ended; sign in again")
    user = session.get(User, row.user_id)
    if user is None or user.disabled_at is not None:
        raise SessionInvalid("this account is disabled")
    if now - row.last_seen_at > TOUCH_RESOLUTION:
        session.execute(update(UserSession).where(UserSession.id == row.id).values(last_seen_at=now))
    return user


def end(session: Session, token: str, now: datetime) -> None:
    session.execute(
        update(UserSession)
        .where(UserSession.token_sha256 == _sha256(token), UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )


def end_all_for(session: Session, user: User, now: datetime) -> None:
    """Sign a user out everywhere: on disabling, on a password or role change."""
    session.execute(
        update(UserSession)
        .where(UserSession.user_id == user.id, UserSession.revoked_at.is_(None))
        .values(revoked_at=now)
    )
