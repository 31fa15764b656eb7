"""API keys: shown once, stored only as a hash, never logged, revocable."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.keys import ApiKeyError, Scope, authenticate, create_key, list_keys, revoke_key
from collector.models import ApiKey
from collector.runtime import Runtime
from tests.factories import batch


def test_when_a_key_is_created_then_only_its_hash_is_stored(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        issued = create_key(session, Scope.SENSOR, "tap-9", "rack 4")

    with runtime.sessions() as session:
        stored = session.scalars(select(ApiKey)).one()
    secret = issued.token.split("_", 2)[2]
    assert stored.key_id == issued.key_id
    assert secret not in stored.secret_sha256
    assert len(stored.secret_sha256) == 64


def test_when_keys_are_used_then_the_token_never_reaches_the_logs(
    client: TestClient, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    with runtime.sessions.begin() as session:
        issued = create_key(session, Scope.SENSOR, "tap-test-01", None)
    caplog.set_level(logging.DEBUG)

    client.post("/api/v1/batches", json=batch(), headers={"Authorization": f"Bearer {issued.token}"})
    client.post("/api/v1/batches", json=batch(), headers={"Authorization": f"Bearer {issued.token}x"})

    secret = issued.token.split("_", 2)[2]
    assert secret not in caplog.text


def test_when_a_key_is_revoked_then_it_no_longer_authenticates_and_leaves_the_default_listing(
    runtime: Runtime,
) -> None:
    with runtime.sessions.begin() as session:
        issued = create_key(session, Scope.READ, None, None)
        keep = create_key(session, Scope.READ, None, None)
    with runtime.sessions.begin() as session:
        revoke_key(session, issued.key_id)

    with runtime.sessions.begin() as session, pytest.raises(ApiKeyError, match="revoked"):
        authenticate(session, issued.token, datetime.now(UTC))
    with runtime.sessions() as session:
        assert [k.key_id for k in list_keys(session)] == [keep.key_id]
        assert len(list_keys(session, include_revoked=True)) == 2


def test_when_authenticated_then_last_use_is_recorded(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        issued = create_key(session, Scope.READ, None, None)
    moment = datetime.now(UTC).replace(microsecond=0)

    with runtime.sessions.begin() as session:
        principal = authenticate(session, issued.token, moment)
    with runtime.sessions() as session:
        assert session.get_one(ApiKey, principal.api_key_pk).last_used_at == moment


@pytest.mark.parametrize(
    ("scope", "sensor_id", "message"),
    [(Scope.SENSOR, None, "needs --sensor-id"), (Scope.READ, "tap-1", "only sensor and device keys")],
)
def test_when_scope_and_sensor_disagree_then_no_key_is_made(
    runtime: Runtime, scope: Scope, sensor_id: str | None, message: str
) -> None:
    with runtime.sessions.begin() as session, pytest.raises(ValueError, match=message):
        create_key(session, scope, sensor_id, None)


def test_when_revoking_an_unknown_key_then_the_error_says_so(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session, pytest.raises(ApiKeyError, match="no API key"):
        revoke_key(session, "0000")
