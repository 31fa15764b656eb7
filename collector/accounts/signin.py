"""Signing in and out, as one transaction each: shared by the JSON API and the console's HTML form."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy.orm import Session, sessionmaker

from collector.accounts import sessions, users
from collector.accounts.roles import Role
from collector.settings import CollectorSettings


@dataclass(frozen=True, slots=True)
class SignedIn:
    username: str
    role: Role
    display_name: str | None
    token: str  # the session token: the cookie's value, or a Bearer token for scripts
    expires_at: datetime


def lifetimes(settings: CollectorSettings) -> sessions.Lifetimes:
    return sessions.Lifetimes(
        idle=timedelta(minutes=settings.session_idle_minutes), maximum=timedelta(hours=settings.session_max_hours)
    )


def sign_in(
    factory: sessionmaker[Session], settings: CollectorSettings, username: str, password: str, now: datetime
) -> SignedIn:
    """A new session, or users.SignInRefused. A refusal is committed too: the failure counts towards the lock."""
    with factory() as session:
        try:
            user = users.sign_in(
                session,
                username,
                password,
                now=now,
                max_failures=settings.login_max_failures,
                lockout=timedelta(minutes=settings.login_lockout_minutes),
            )
        except users.SignInRefused:
            session.commit()
            raise
        issued = sessions.start(session, user, now, lifetimes(settings))
        signed_in = SignedIn(user.username, Role(user.role), user.display_name, issued.token, issued.expires_at)
        session.commit()
        return signed_in


def sign_out(factory: sessionmaker[Session], token: str, now: datetime) -> None:
    with factory.begin() as session:
        sessions.end(session, token, now)
