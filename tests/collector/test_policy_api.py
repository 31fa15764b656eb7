"""/api/v1/policy: admins change it, readers read it, every change is a version with who and why."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from collector.keys import Scope, create_key
from collector.runtime import Runtime
from tests.conftest import Keys


@pytest.fixture
def admin(runtime: Runtime) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        token = create_key(session, Scope.ADMIN, None, "policy admin").token
    return {"Authorization": f"Bearer {token}"}


def test_when_nothing_is_set_then_every_tool_is_unsanctioned_by_default(client: TestClient, keys: Keys) -> None:
    policy = client.get("/api/v1/policy", headers=keys.header(keys.read)).json()

    assert policy == {"version": 0, "default": "unsanctioned", "categories": {}, "tools": {}}


def test_when_tool_category_and_default_are_set_then_the_most_specific_decides(
    client: TestClient, keys: Keys, admin: dict[str, str]
) -> None:
    client.put("/api/v1/policy/default", json={"status": "tolerated"}, headers=admin)
    client.put("/api/v1/policy/categories/chat_assistant", json={"status": "unsanctioned"}, headers=admin)
    client.put(
        "/api/v1/policy/tools/openai-chatgpt", json={"status": "sanctioned", "reason": "DPA signed"}, headers=admin
    )

    def resolve(tool: str) -> dict[str, object]:
        response = client.get("/api/v1/policy/resolve", params={"tool": tool}, headers=keys.header(keys.read))
        assert response.status_code == 200, response.text
        body: dict[str, object] = response.json()
        return body

    assert resolve("openai-chatgpt") | {"policy_version": 0} == {
        "tool_id": "openai-chatgpt",
        "category": "chat_assistant",
        "status": "sanctioned",
        "decided_by": "tool openai-chatgpt",
        "policy_version": 0,
    }
    assert resolve("openai-api")["status"] == "tolerated"
    assert resolve("openai-api")["decided_by"] == "default"
    assert resolve("openai-chatgpt")["policy_version"] == 3


def test_when_policy_changes_then_history_records_who_what_and_why(
    client: TestClient, keys: Keys, admin: dict[str, str]
) -> None:
    client.put("/api/v1/policy/tools/openai-api", json={"status": "sanctioned", "reason": "contract"}, headers=admin)
    client.put("/api/v1/policy/tools/openai-api", json={"status": "sanctioned"}, headers=admin)  # no change
    client.delete("/api/v1/policy/tools/openai-api", headers=admin)

    history = client.get("/api/v1/policy/history", headers=keys.header(keys.read)).json()

    assert [(h["version"], h["old_status"], h["new_status"]) for h in history] == [
        (2, "sanctioned", None),
        (1, None, "sanctioned"),
    ]
    assert history[1]["reason"] == "contract"
    assert history[1]["actor"].startswith("api-key:")


def test_when_a_reader_tries_to_change_policy_then_403(client: TestClient, keys: Keys) -> None:
    response = client.put("/api/v1/policy/default", json={"status": "sanctioned"}, headers=keys.header(keys.read))

    assert response.status_code == 403


@pytest.mark.parametrize(
    ("method", "path", "body", "status"),
    [
        ("put", "/api/v1/policy/tools/no-such-tool", {"status": "sanctioned"}, 404),
        ("put", "/api/v1/policy/categories/astrology", {"status": "sanctioned"}, 422),
        ("put", "/api/v1/policy/default", {"status": "maybe"}, 422),
        ("put", "/api/v1/policy/default", {"status": "sanctioned", "colour": "red"}, 422),
    ],
)
def test_when_a_change_is_malformed_then_a_clear_error(
    client: TestClient, admin: dict[str, str], method: str, path: str, body: dict[str, str], status: int
) -> None:
    response = getattr(client, method)(path, json=body, headers=admin)

    assert response.status_code == status
    if status >= 400:
        assert response.json()["error"]["status"] == status
