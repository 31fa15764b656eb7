"""POST /api/v1/batches on SQLite and PostgreSQL: stored once, whole or not at all, bad input refused clearly."""

from __future__ import annotations

import json
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select

from collector import store
from collector.models import IngestBatch, StoredEvent
from collector.runtime import Runtime
from tests.conftest import Keys
from tests.factories import batch, network_event, prompt_event

URL = "/api/v1/batches"


def stored_counts(runtime: Runtime) -> tuple[int, int]:
    with runtime.sessions() as session:
        events = session.scalar(select(func.count()).select_from(StoredEvent))
        batches = session.scalar(select(func.count()).select_from(IngestBatch))
    return int(events or 0), int(batches or 0)


def error_of(response: Any) -> dict[str, Any]:
    body = response.json()
    assert set(body) == {"error"}, body
    error: dict[str, Any] = body["error"]
    assert error["status"] == response.status_code
    return error


def test_when_a_valid_batch_arrives_then_every_event_is_stored(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    body = batch(network_event(), network_event(bytes_up=99_000))

    response = client.post(URL, json=body, headers=keys.header(keys.sensor))

    assert response.status_code == 201
    assert response.json() == {
        "batch_id": body["batch_id"],
        "received": 2,
        "stored": 2,
        "duplicate_batch": False,
    }
    assert stored_counts(runtime) == (2, 1)


def test_when_a_batch_is_sent_twice_then_it_is_stored_once(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    body = batch(network_event(), network_event())

    first = client.post(URL, json=body, headers=keys.header(keys.sensor))
    second = client.post(URL, json=body, headers=keys.header(keys.sensor))

    assert (first.status_code, second.status_code) == (201, 200)
    assert second.json()["duplicate_batch"] is True
    assert second.json()["stored"] == 0
    assert stored_counts(runtime) == (2, 1)


def test_when_events_are_rebatched_then_already_stored_events_are_skipped(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    old, new = network_event(), network_event()
    client.post(URL, json=batch(old), headers=keys.header(keys.sensor))

    response = client.post(URL, json=batch(old, new), headers=keys.header(keys.sensor))

    assert response.json()["stored"] == 1
    assert stored_counts(runtime) == (2, 2)


def test_when_one_event_is_invalid_then_the_whole_batch_is_refused_naming_the_field(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    body = batch(network_event(), network_event(), network_event(bytes_up=-1))

    response = client.post(URL, json=body, headers=keys.header(keys.sensor))

    assert response.status_code == 422
    error = error_of(response)
    assert error["details"][0]["field"] == "events[2].bytes_up"
    assert "events[2].bytes_up" in error["message"]
    assert stored_counts(runtime) == (0, 0)


def test_when_storing_fails_midway_then_nothing_of_the_batch_remains(
    client: TestClient, keys: Keys, runtime: Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    body = batch(network_event(), network_event())

    def fail_after_events_inserted(*_args: object) -> None:
        raise RuntimeError("simulated crash between inserts")

    with monkeypatch.context() as patch:
        patch.setattr(store, "set_stored_count", fail_after_events_inserted)
        failed = TestClient(client.app, raise_server_exceptions=False).post(
            URL, json=body, headers=keys.header(keys.sensor)
        )
    assert failed.status_code == 500
    assert error_of(failed)["code"] == "internal_error"
    assert stored_counts(runtime) == (0, 0)

    retried = client.post(URL, json=body, headers=keys.header(keys.sensor))
    assert retried.status_code == 201
    assert stored_counts(runtime) == (2, 1)


@pytest.mark.parametrize(
    ("mutate", "field", "hint"),
    [
        (lambda b: b.update(schema_version="2.0"), "schema_version", "not supported"),
        (lambda b: b["events"][0].update(colour="red"), "events[0].colour", "Extra inputs"),
        (
            lambda b: b["events"][0].update(first_seen="2026-13-45T00:00:00Z"),
            "events[0].first_seen",
            "datetime",
        ),
        (
            lambda b: b["events"][0].update(first_seen="2026-11-01T10:00:00"),
            "events[0].first_seen",
            "timezone",
        ),
        (
            lambda b: b["events"][0].update(first_seen="1970-01-01T00:00:00Z"),
            "events[0].first_seen",
            "clock error",
        ),
        (lambda b: b["events"][0].update(kind="telepathy"), "events[0]", "tag"),
        (lambda b: b.pop("batch_id"), "batch_id", "Field required"),
        (lambda b: b.update(events=[]), "events", "at least 1"),
    ],
    ids=[
        "schema-major",
        "unknown-field",
        "bad-date",
        "naive-time",
        "epoch-time",
        "unknown-kind",
        "no-id",
        "empty",
    ],
)
def test_when_the_batch_breaks_the_contract_then_422_names_the_problem(
    client: TestClient, keys: Keys, runtime: Runtime, mutate: Any, field: str, hint: str
) -> None:
    body = batch(network_event())
    mutate(body)

    response = client.post(URL, json=body, headers=keys.header(keys.sensor))

    assert response.status_code == 422
    detail = error_of(response)["details"][0]
    assert detail["field"] == field
    assert hint in detail["problem"]
    assert stored_counts(runtime) == (0, 0)


def test_when_the_body_is_not_json_then_400_and_the_server_keeps_serving(client: TestClient, keys: Keys) -> None:
    headers = {**keys.header(keys.sensor), "Content-Type": "application/json"}

    response = client.post(URL, content=b'{"schema_version": "1.0", ', headers=headers)

    assert response.status_code == 400
    assert error_of(response)["code"] == "malformed_json"
    assert client.post(URL, json=batch(), headers=keys.header(keys.sensor)).status_code == 201


def test_when_the_body_is_too_large_then_413(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    limit = runtime.settings.max_body_bytes
    padding = "x" * (limit + 1)
    headers = {**keys.header(keys.sensor), "Content-Type": "application/json"}

    response = client.post(URL, content=json.dumps({"pad": padding}).encode(), headers=headers)

    assert response.status_code == 413
    assert error_of(response)["status"] == 413


def test_when_a_batch_has_more_events_than_the_cap_then_422(client: TestClient, keys: Keys) -> None:
    body = batch(*[network_event() for _ in range(1001)])

    response = client.post(URL, json=body, headers=keys.header(keys.sensor))

    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == "events"


def test_when_no_key_is_sent_then_401(client: TestClient) -> None:
    response = client.post(URL, json=batch())

    assert response.status_code == 401
    assert error_of(response)["code"] == "missing_api_key"
    assert response.headers["WWW-Authenticate"] == "Bearer"


@pytest.mark.parametrize("token", ["nonsense", "ss_deadbeefdeadbeef_wrongsecret", "ss__"])
def test_when_the_key_is_unknown_then_401(client: TestClient, token: str) -> None:
    response = client.post(URL, json=batch(), headers={"Authorization": f"Bearer {token}"})

    assert response.status_code == 401
    assert error_of(response)["code"] == "invalid_api_key"


def test_when_the_key_is_revoked_then_it_is_refused_at_once(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    from collector.keys import revoke_key

    assert client.post(URL, json=batch(), headers=keys.header(keys.sensor)).status_code == 201
    with runtime.sessions.begin() as session:
        revoke_key(session, keys.sensor_key_id)

    response = client.post(URL, json=batch(), headers=keys.header(keys.sensor))

    assert response.status_code == 401
    assert "revoked" in error_of(response)["message"]


def test_when_a_sensor_sends_another_sensors_events_then_403(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    response = client.post(URL, json=batch(network_event(sensor_id="tap-other")), headers=keys.header(keys.sensor))

    assert response.status_code == 403
    assert "tap-other" in error_of(response)["message"]
    assert stored_counts(runtime) == (0, 0)


@pytest.mark.parametrize(
    ("key_name", "event_factory"),
    [("browser", network_event), ("sensor", prompt_event), ("read", network_event)],
)
def test_when_a_key_sends_events_outside_its_scope_then_403(
    client: TestClient, keys: Keys, key_name: str, event_factory: Any
) -> None:
    response = client.post(URL, json=batch(event_factory()), headers=keys.header(getattr(keys, key_name)))

    assert response.status_code == 403


def test_when_prompt_text_arrives_then_only_a_keyed_hash_and_length_are_stored(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    secret_text = "Patient Jane Roe, DOB 1980-02-03, diagnosed with ..."
    client.post(URL, json=batch(prompt_event(text=secret_text)), headers=keys.header(keys.browser))

    with runtime.sessions() as session:
        event = session.scalars(select(StoredEvent)).one()
    assert "text" not in event.detail
    assert event.detail["text_length"] == len(secret_text)
    assert len(event.detail["text_hmac"]) == 64
    with runtime.engine.connect() as connection:
        dump = " ".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM events"))
    assert "Jane Roe" not in dump


def test_when_a_chunked_body_grows_too_large_then_413(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    limit = runtime.settings.max_body_bytes
    chunks = iter([b'{"pad": "', b"x" * limit, b'"}'])
    headers = {**keys.header(keys.sensor), "Content-Type": "application/json"}

    response = client.post(URL, content=chunks, headers=headers)

    assert response.status_code == 413
    assert error_of(response)["code"] == "body_too_large"


@pytest.mark.parametrize(
    ("event", "field"),
    [
        (prompt_event(user="j.doe\u0000"), "events[0].user"),
        (prompt_event(text="a\u0000b"), "events[0].text"),
        (network_event(bytes_up=2**63), "events[0].bytes_up"),
    ],
    ids=["nul-in-user", "nul-in-text", "beyond-int64"],
)
def test_when_values_the_database_cannot_hold_arrive_then_422_not_500(
    client: TestClient, keys: Keys, event: dict[str, Any], field: str
) -> None:
    token = keys.sensor if event["kind"] == "network_usage" else keys.browser

    response = client.post(URL, json=batch(event), headers=keys.header(token))

    assert response.status_code == 422
    assert error_of(response)["details"][0]["field"] == field


def test_when_the_schema_version_is_longer_than_any_real_one_then_422(client: TestClient, keys: Keys) -> None:
    response = client.post(URL, json=batch(schema_version="1.000000000000000"), headers=keys.header(keys.sensor))

    assert response.status_code == 422


def test_when_a_filter_carries_a_nul_then_422_not_500(client: TestClient, keys: Keys) -> None:
    response = client.get("/api/v1/events", params={"client": "a\u0000b"}, headers=keys.header(keys.read))

    assert response.status_code == 422
