"""GET /api/v1/events and /api/v1/usage: filters, pagination, aggregation and who may read."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient

from tests.conftest import Keys
from tests.factories import batch, network_event, now


@pytest.fixture
def seeded(client: TestClient, keys: Keys) -> datetime:
    """Five events: three ChatGPT flows from two clients, two Claude flows, spread over five hours."""
    base = now() - timedelta(hours=6)
    rows = [
        ("openai-chatgpt", "10.0.0.1", 100, 0),
        ("openai-chatgpt", "10.0.0.1", 200, 1),
        ("openai-chatgpt", "10.0.0.2", 300, 2),
        ("anthropic-claude", "10.0.0.2", 5000, 3),
        ("anthropic-claude", "10.0.0.3", 7000, 4),
    ]
    events = [
        network_event(
            tool_id=tool,
            client_ip=ip,
            bytes_up=up,
            bytes_down=up * 2,
            first_seen=(base + timedelta(hours=h)).isoformat(),
            last_seen=(base + timedelta(hours=h, minutes=1)).isoformat(),
        )
        for tool, ip, up, h in rows
    ]
    assert client.post("/api/v1/batches", json=batch(*events), headers=keys.header(keys.sensor)).status_code == 201
    return base


def test_when_paging_through_events_then_each_event_appears_once(
    client: TestClient, keys: Keys, seeded: datetime
) -> None:
    seen: list[int] = []
    after = None
    while True:
        params = {"limit": 2} | ({"after": after} if after is not None else {})
        page = client.get("/api/v1/events", params=params, headers=keys.header(keys.read)).json()
        seen += [event["id"] for event in page["events"]]
        after = page["next_after"]
        if after is None:
            break

    assert len(seen) == len(set(seen)) == 5
    assert seen == sorted(seen)


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"tool": "anthropic-claude"}, 2),
        ({"client": "10.0.0.2"}, 2),
        ({"sensor": "tap-test-01"}, 5),
        ({"sensor": "elsewhere"}, 0),
        ({"kind": "prompt"}, 0),
    ],
)
def test_when_filtering_events_then_only_matching_ones_return(
    client: TestClient, keys: Keys, seeded: datetime, params: dict[str, str], expected: int
) -> None:
    page = client.get("/api/v1/events", params=params, headers=keys.header(keys.read)).json()

    assert len(page["events"]) == expected


def test_when_filtering_by_time_then_the_window_is_half_open(client: TestClient, keys: Keys, seeded: datetime) -> None:
    params = {
        "since": (seeded + timedelta(hours=1)).isoformat(),
        "until": (seeded + timedelta(hours=3)).isoformat(),
    }

    page = client.get("/api/v1/events", params=params, headers=keys.header(keys.read)).json()

    assert [e["bytes_up"] for e in page["events"]] == [200, 300]
    assert all(e["occurred_at"].endswith("Z") or e["occurred_at"].endswith("+00:00") for e in page["events"])


def test_when_asking_usage_per_tool_then_bytes_and_clients_are_summed(
    client: TestClient, keys: Keys, seeded: datetime
) -> None:
    usage = client.get("/api/v1/usage", headers=keys.header(keys.read)).json()

    by_tool = {row["tool_id"]: row for row in usage["rows"]}
    assert [row["tool_id"] for row in usage["rows"]] == ["anthropic-claude", "openai-chatgpt"]
    assert by_tool["openai-chatgpt"] | {"first_seen": None, "last_seen": None} == {
        "tool_id": "openai-chatgpt",
        "client": None,
        "events": 3,
        "flows": 3,
        "clients": 2,
        "bytes_up": 600,
        "bytes_down": 1200,
        "first_seen": None,
        "last_seen": None,
    }
    first_seen = datetime.fromisoformat(by_tool["openai-chatgpt"]["first_seen"])
    assert first_seen == seeded.astimezone(UTC)


def test_when_asking_usage_per_tool_and_client_then_rows_split(
    client: TestClient, keys: Keys, seeded: datetime
) -> None:
    usage = client.get("/api/v1/usage", params={"group_by": "tool,client"}, headers=keys.header(keys.read)).json()

    assert {(r["tool_id"], r["client"], r["events"]) for r in usage["rows"]} == {
        ("openai-chatgpt", "10.0.0.1", 2),
        ("openai-chatgpt", "10.0.0.2", 1),
        ("anthropic-claude", "10.0.0.2", 1),
        ("anthropic-claude", "10.0.0.3", 1),
    }


@pytest.mark.parametrize("path", ["/api/v1/events", "/api/v1/usage"])
def test_when_a_sensor_key_tries_to_read_then_403(client: TestClient, keys: Keys, path: str) -> None:
    assert client.get(path, headers=keys.header(keys.sensor)).status_code == 403
    assert client.get(path).status_code == 401


@pytest.mark.parametrize(
    "params",
    [
        {"since": "yesterday"},
        {"since": "2026-11-01T00:00:00"},
        {"limit": 0},
        {"group_by": "weather"},
        {"since": "2026-11-02T00:00:00Z", "until": "2026-11-01T00:00:00Z"},
    ],
)
def test_when_a_filter_is_malformed_then_422(client: TestClient, keys: Keys, params: dict[str, str | int]) -> None:
    path = "/api/v1/usage" if "group_by" in params else "/api/v1/events"

    response = client.get(path, params=params, headers=keys.header(keys.read))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "validation_error"


def test_health_and_readiness(client: TestClient) -> None:
    assert client.get("/healthz").json() == {"status": "ok", "detail": None}
    assert client.get("/readyz").json()["status"] == "ready"


def test_openapi_documents_every_route(client: TestClient) -> None:
    paths = client.get("/openapi.json").json()["paths"]

    assert {"/api/v1/batches", "/api/v1/events", "/api/v1/usage", "/healthz", "/readyz"} <= set(paths)
