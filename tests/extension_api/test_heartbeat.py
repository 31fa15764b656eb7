"""POST /ext/v1/heartbeat on SQLite and PostgreSQL: an enrolled device reports its own health, nobody else's, at a
bounded rate, and the console's producer list shows what it reported."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from fastapi.testclient import TestClient

from collector.keys import Scope, create_key
from collector.producer_health import LagSource, Status, list_producers
from collector.runtime import Runtime
from events.heartbeat import ProducerKind
from tests.conftest import Keys
from tests.extension_api.test_extension_api import _enrol, _token
from tests.factories import batch, prompt_event

URL = "/ext/v1/heartbeat"


@pytest.fixture
def admin(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        key = create_key(session, Scope.ADMIN, None, "test admin")
    return {"Authorization": f"Bearer {key.token}"}


def heartbeat(device_id: str, **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "producer_id": device_id,
        "kind": "extension",
        "version": "0.1.0",
        "sent_at": datetime.now(UTC).isoformat(),
        "spool_batches": 0,
        "spool_bytes": 0,
        "dropped_for_space": 0,
        "rejected": 0,
    }
    body.update(overrides)
    return body


def test_when_a_device_reports_a_backlog_then_the_console_shows_it_with_its_lag(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    now = datetime.now(UTC)
    oldest = now - timedelta(minutes=20)
    body = heartbeat(
        device_id,
        version="0.2.1",
        sent_at=now.isoformat(),
        spool_batches=3,
        spool_bytes=51_200,
        oldest_spooled_at=oldest.isoformat(),
        dropped_for_space=1,
        rejected=2,
        events=250,
    )

    response = client.post(URL, json=body, headers=device)

    assert response.status_code == 200, response.text
    receipt = response.json()
    assert (receipt["kind"], receipt["producer_id"], receipt["current"]) == ("extension", device_id, True)
    with runtime.sessions() as session:
        producers = {p.producer_id: p for p in list_producers(session, now + timedelta(seconds=1))}
    shown = producers[device_id]
    assert shown.kind is ProducerKind.EXTENSION
    assert shown.version == "0.2.1"
    assert (shown.spool_batches, shown.spool_bytes, shown.dropped_for_space, shown.rejected, shown.events) == (
        3,
        51_200,
        1,
        2,
        250,
    )
    assert shown.oldest_spooled_at == oldest
    assert shown.lag_source is LagSource.SPOOL
    assert shown.lag == timedelta(minutes=20, seconds=1)
    assert shown.status is Status.LAGGING  # a backlog older than LAGGING_AFTER (15 min)


def test_when_an_older_heartbeat_arrives_late_then_the_newer_one_is_kept(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    now = datetime.now(UTC)
    newer = heartbeat(device_id, sent_at=now.isoformat(), spool_batches=0)
    older = heartbeat(
        device_id,
        sent_at=(now - timedelta(minutes=5)).isoformat(),
        spool_batches=7,
        oldest_spooled_at=(now - timedelta(minutes=6)).isoformat(),
    )

    assert client.post(URL, json=newer, headers=device).json()["current"] is True
    late = client.post(URL, json=older, headers=device)

    assert late.status_code == 200, late.text
    assert late.json()["current"] is False
    with runtime.sessions() as session:
        shown = next(p for p in list_producers(session, now) if p.producer_id == device_id)
    assert shown.spool_batches == 0
    assert shown.oldest_spooled_at is None


@pytest.mark.parametrize(
    "change",
    [{"producer_id": "dev-someone-else"}, {"kind": "sensor"}],
    ids=["another device", "kind sensor"],
)
def test_when_a_device_reports_for_anyone_but_itself_then_403(
    client: TestClient, admin: dict[str, str], runtime: Runtime, change: dict[str, str]
) -> None:
    device_id, device = _enrol(client, _token(client, admin))

    response = client.post(URL, json=heartbeat(device_id, **change), headers=device)

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "forbidden_heartbeat"
    with runtime.sessions() as session:
        assert [p.producer_id for p in list_producers(session, datetime.now(UTC)) if p.spool_batches is not None] == []


def test_when_another_kind_of_key_or_no_key_reports_then_refused(
    client: TestClient, admin: dict[str, str], keys: Keys
) -> None:
    device_id, _ = _enrol(client, _token(client, admin))
    body = heartbeat(device_id)

    assert client.post(URL, json=body).status_code == 401
    for token in (keys.sensor, keys.browser, keys.read):
        response = client.post(URL, json=body, headers=keys.header(token))
        assert response.status_code == 403, response.text
        assert response.json()["error"]["code"] == "wrong_scope"
    assert client.post(URL, json=body, headers=admin).status_code == 403


def test_when_a_heartbeat_contradicts_itself_then_422(client: TestClient, admin: dict[str, str]) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    now = datetime.now(UTC)
    waiting_but_empty = heartbeat(device_id, spool_batches=0, oldest_spooled_at=now.isoformat())
    spooled_in_the_future = heartbeat(
        device_id,
        sent_at=now.isoformat(),
        spool_batches=1,
        oldest_spooled_at=(now + timedelta(minutes=1)).isoformat(),
    )

    for body in (waiting_but_empty, spooled_in_the_future, {**heartbeat(device_id), "text": "a prompt"}):
        response = client.post(URL, json=body, headers=device)
        assert response.status_code == 422, response.text


def test_when_a_device_heartbeats_too_fast_then_429_and_its_telemetry_is_not_held_up(
    client: TestClient, admin: dict[str, str], runtime: Runtime
) -> None:
    device_id, device = _enrol(client, _token(client, admin))
    burst = max(runtime.settings.extension_batches_per_minute // 4, 1)
    statuses = [client.post(URL, json=heartbeat(device_id), headers=device).status_code for _ in range(burst + 1)]

    assert statuses[:burst] == [200] * burst
    assert statuses[-1] == 429
    refused = client.post(URL, json=heartbeat(device_id), headers=device)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limited"
    assert int(refused.headers["retry-after"]) >= 1
    # Heartbeats have their own bucket: the device's telemetry still goes through.
    findings = {"labels": [], "entity_counts": {}, "text_hmac": "ab" * 32, "text_length": 3}
    event = prompt_event(device_id=device_id, event_id=str(uuid.uuid4()), findings=findings)
    del event["text"]
    assert client.post("/ext/v1/telemetry", json=batch(event), headers=device).status_code == 201
