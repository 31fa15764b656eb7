"""The extension API over HTTP: enrolment, policy, telemetry, revocation and rate limits, on SQLite and PostgreSQL."""

from __future__ import annotations

import base64
import hashlib
import hmac
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.enrolment import create_enrolment_token
from collector.keys import Scope, create_key
from collector.models import StoredEvent
from collector.runtime import Runtime
from tests.factories import batch, prompt_event

TEXT = "Employee SSN: 536-22-8741, please fill the form"


@pytest.fixture
def admin(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        key = create_key(session, Scope.ADMIN, None, "test admin")
    return {"Authorization": f"Bearer {key.token}"}


def _token(client: TestClient, admin: dict[str, str], uses: int = 1) -> str:
    response = client.post("/api/v1/enrolment-tokens", json={"uses": uses, "ttl_hours": 1}, headers=admin)
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def _enrol(client: TestClient, token: str) -> tuple[str, dict[str, str]]:
    response = client.post(
        "/ext/v1/enrol", json={"token": token, "device_name": "laptop 7", "extension_version": "0.1.0"}
    )
    assert response.status_code == 201, response.text
    enrolled = response.json()
    return enrolled["device_id"], {"Authorization": f"Bearer {enrolled['credential']}"}


def _findings(policy: dict[str, Any], text: str) -> dict[str, Any]:
    digest = hmac.new(base64.b64decode(policy["hash_key"]), text.encode(), hashlib.sha256).hexdigest()
    return {"labels": ["pii"], "entity_counts": {"us_ssn": 1}, "text_hmac": digest, "text_length": len(text)}


def _event(device_id: str, **changes: Any) -> dict[str, Any]:
    event = prompt_event(device_id=device_id, **changes)
    if "findings" in changes:
        del event["text"]  # findings replace the text: the contract takes one or the other
    return event


def test_when_a_device_enrols_then_it_gets_the_policy_and_its_findings_are_stored_without_text(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    policy = client.get("/ext/v1/policy", headers=device).json()

    assert policy["send_text"] is False
    assert policy["actions"]["unsanctioned"]["pii"] == "block"
    chatgpt = next(tool for tool in policy["tools"] if tool["id"] == "openai-chatgpt")
    assert "chatgpt.com" in chatgpt["hosts"]
    verdict = {"action": "warn", "user_choice": "proceeded"}
    event = _event(device_id, findings=_findings(policy, TEXT), verdict=verdict)
    response = client.post("/ext/v1/telemetry", json=batch(event), headers=device)

    assert response.status_code == 201, response.text
    with runtime.sessions() as session:
        stored = session.scalars(select(StoredEvent)).one()
    assert stored.source_id == device_id
    assert stored.detail["findings"]["labels"] == ["pii"]
    assert stored.detail["findings"]["text_hmac"] == runtime.rows.hasher.hexdigest(TEXT)  # the same key on both sides
    assert stored.detail["verdict"]["user_choice"] == "proceeded"


def test_when_the_policy_keeps_text_on_the_device_then_text_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    response = client.post("/ext/v1/telemetry", json=batch(_event(device_id, text=TEXT)), headers=device)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "text_not_allowed"
    assert "536-22-8741" not in response.text


def test_when_a_token_is_used_up_or_unknown_then_enrolment_is_refused(
    client: TestClient, admin: dict[str, str]
) -> None:
    token = _token(client, admin, uses=1)
    _enrol(client, token)
    body = {"token": token, "device_name": "second", "extension_version": "0.1.0"}

    assert client.post("/ext/v1/enrol", json=body).status_code == 401
    assert client.post("/ext/v1/enrol", json={**body, "token": "sse_" + "x" * 32}).status_code == 401


def test_when_an_admin_revokes_a_device_then_its_credential_stops_at_once(
    client: TestClient, admin: dict[str, str]
) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    listed = client.get("/api/v1/devices", headers=admin).json()
    assert [d["device_id"] for d in listed] == [device_id]

    assert client.delete(f"/api/v1/devices/{device_id}", headers=admin).status_code == 204
    assert client.get("/ext/v1/policy", headers=device).status_code == 401
    assert client.get("/api/v1/devices", headers=admin).json() == []
    assert client.delete("/api/v1/devices/dev-nobody", headers=admin).status_code == 404


def test_when_a_device_sends_another_devices_events_then_403(client: TestClient, admin: dict[str, str]) -> None:
    _, device = _enrol(client, _token(client, admin))
    policy = client.get("/ext/v1/policy", headers=device).json()
    event = _event("dev-someone-else", findings=_findings(policy, TEXT))

    assert client.post("/ext/v1/telemetry", json=batch(event), headers=device).status_code == 403


def test_when_a_device_sends_too_fast_then_429_with_retry_after(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    policy = client.get("/ext/v1/policy", headers=device).json()
    burst = max(runtime.settings.extension_batches_per_minute // 4, 1)
    statuses = []
    for _ in range(burst + 1):
        event = _event(device_id, event_id=str(uuid.uuid4()), findings=_findings(policy, TEXT))
        response = client.post("/ext/v1/telemetry", json=batch(event), headers=device)
        statuses.append(response.status_code)

    assert statuses[:burst] == [201] * burst
    assert statuses[-1] == 429
    assert int(response.headers["retry-after"]) >= 1


@pytest.mark.parametrize("path", ["/ext/v1/policy", "/api/v1/devices"])
def test_when_a_key_of_another_kind_asks_then_403(client: TestClient, runtime: Runtime, path: str) -> None:
    with runtime.sessions.begin() as session:
        reader = create_key(session, Scope.READ, None, "reader")

    assert client.get(path, headers={"Authorization": f"Bearer {reader.token}"}).status_code == 403


def test_when_tokens_are_asked_for_without_an_admin_key_then_401(client: TestClient) -> None:
    response = client.post("/api/v1/enrolment-tokens", json={"uses": 1})

    assert response.status_code == 401
    assert response.headers["www-authenticate"] == "Bearer"


def test_when_a_token_has_expired_then_enrolment_is_refused(client: TestClient, runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        issued = create_enrolment_token(
            session, uses=5, ttl=timedelta(hours=1), now=datetime.now(UTC) - timedelta(hours=2)
        )
    body = {"token": issued.token, "device_name": "late", "extension_version": "0.1.0"}

    assert client.post("/ext/v1/enrol", json=body).status_code == 401
