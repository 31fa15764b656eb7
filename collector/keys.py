"""API keys for producers (sensors, the extension gateway) and readers: create, list, revoke, authenticate.

A key reads ``ss_<key_id>_<secret>``. The key id is public (it shows in listings and logs); the secret is 256
random bits, kept only as its SHA-256. A slow password hash buys nothing for secrets this long and would cost
the ingest path a few milliseconds per request.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from enum import StrEnum

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from collector.models import ApiKey

KEY_PREFIX = "ss"
# Recording every use would add a write to each ingest request; a minute's resolution is enough for health.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class Scope(StrEnum):
    SENSOR = "sensor"  # may send network usage events for its own sensor id
    BROWSER = "browser"  # may send browser events (the extension API's gateway)
    DEVICE = "device"  # an enrolled browser extension: may send browser events for its own device id
    READ = "read"  # may query events, usage and the policy
    ADMIN = "admin"  # may change the organisation's policy (and read)


class ApiKeyError(Exception):
    """A key could not be used; the message is safe to show (it never contains the secret)."""


@dataclass(frozen=True, slots=True)
class IssuedKey:
    key_id: str
    token: str  # shown once, at creation; never stored


@dataclass(frozen=True, slots=True)
class Principal:
    api_key_pk: int
    key_id: str
    scope: Scope
    sensor_id: str | None


def _sha256(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def create_key(session: Session, scope: Scope, sensor_id: str | None, description: str | None) -> IssuedKey:
    bound = scope in (Scope.SENSOR, Scope.DEVICE)
    if bound and not sensor_id:
        raise ValueError(f"a {scope} key needs --sensor-id: it may only send events for that sensor or device")
    if not bound and sensor_id:
        raise ValueError("only sensor and device keys are bound to an id")
    key_id = secrets.token_hex(8)
    secret = secrets.token_urlsafe(32)
    session.add(
        ApiKey(
            key_id=key_id,
            secret_sha256=_sha256(secret),
            scope=scope.value,
            sensor_id=sensor_id,
            description=description,
        )
    )
    return IssuedKey(key_id=key_id, token=f"{KEY_PREFIX}_{key_id}_{secret}")


def list_keys(session: Session, include_revoked: bool = False) -> list[ApiKey]:
    query = select(ApiKey).order_by(ApiKey.id)
    if not include_revoked:
        query = query.where(ApiKey.revoked_at.is_(None))
    return list(session.scalars(query))


def revoke_key(session: Session, key_id: str) -> ApiKey:
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    if key is None:
        raise ApiKeyError(f"no API key with id {key_id}")
    if key.revoked_at is None:
        key.revoked_at = datetime.now(UTC)
    return key


def authenticate(session: Session, token: str, now: datetime) -> Principal:
    """Check a presented token; raise ApiKeyError with a reason a client may see."""
    parts = token.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        raise ApiKeyError("malformed API key")
    _, key_id, secret = parts
    key = session.scalar(select(ApiKey).where(ApiKey.key_id == key_id))
    # Compare even when the key id is unknown, so timing does not tell which key ids exist.
    expected = key.secret_sha256 if key is not None else _sha256("")
    if not hmac.compare_digest(expected, _sha256(secret)) or key is None:
        raise ApiKeyError("unknown API key")
    if key.revoked_at is not None:
        raise ApiKeyError(f"API key {key_id} was revoked")
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_RESOLUTION:
        session.execute(update(ApiKey).where(ApiKey.id == key.id).values(last_used_at=now))
    return Principal(api_key_pk=key.id, key_id=key.key_id, scope=Scope(key.scope), sensor_id=key.sensor_id)
