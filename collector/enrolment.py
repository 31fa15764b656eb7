"""Enrolling browser extensions: admins issue enrolment tokens; a device exchanges one for its own credential.

A device credential is an API key of scope `device` bound to the device id, so it authenticates like every other
key, may send browser events for that device only, and stops working the moment an admin revokes it.
"""

from __future__ import annotations

import hashlib
import re
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collector.keys import ApiKeyError, IssuedKey, Scope, create_key, revoke_key
from collector.models import ApiKey, EnrolmentToken

TOKEN_PREFIX = "sse"  # noqa: S105 - a public prefix that marks enrolment tokens, not a secret
_NAME = re.compile(r"[^A-Za-z0-9._-]+")


class EnrolmentRefused(Exception):
    """The token is unknown, used up or expired; the message never contains it."""


@dataclass(frozen=True, slots=True)
class IssuedEnrolmentToken:
    token: str  # shown once
    expires_at: datetime
    uses: int


@dataclass(frozen=True, slots=True)
class Enrolled:
    device_id: str
    credential: IssuedKey


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def create_enrolment_token(
    session: Session, *, uses: int, ttl: timedelta, now: datetime, description: str | None = None
) -> IssuedEnrolmentToken:
    token = f"{TOKEN_PREFIX}_{secrets.token_urlsafe(24)}"
    expires_at = now + ttl
    session.add(
        EnrolmentToken(token_sha256=_sha256(token), description=description, expires_at=expires_at, uses_left=uses)
    )
    return IssuedEnrolmentToken(token, expires_at, uses)


def enrol_device(session: Session, token: str, *, device_name: str, extension_version: str, now: datetime) -> Enrolled:
    """Spend one use of the token (atomically: two devices racing for the last use cannot both win)."""
    spent = session.execute(
        update(EnrolmentToken)
        .where(
            EnrolmentToken.token_sha256 == _sha256(token),
            EnrolmentToken.uses_left > 0,
            EnrolmentToken.expires_at > now,
        )
        .values(uses_left=EnrolmentToken.uses_left - 1)
    )
    if spent.rowcount != 1:  # type: ignore[attr-defined]
        raise EnrolmentRefused("unknown, used or expired enrolment token")
    slug = _NAME.sub("-", device_name).strip("-")[:40] or "device"
    device_id = f"dev-{slug}-{secrets.token_hex(4)}"
    description = f"browser extension {extension_version} on {device_name}"[:256]
    return Enrolled(device_id, create_key(session, Scope.DEVICE, device_id, description))


def list_devices(session: Session, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).where(ApiKey.scope == Scope.DEVICE.value).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_device(session: Session, device_id: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.scope == Scope.DEVICE.value, ApiKey.sensor_id == device_id))
    if key is None:
        raise ApiKeyError(f"no enrolled device {device_id}")
    return revoke_key(session, key.key_id)
