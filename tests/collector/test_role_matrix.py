"""Every route of the app against every kind of caller: allowed or refused exactly as the table below says.

The table is the whole access policy in one place. A route that is added without a line here fails
test_every_route_is_in_the_table, so nobody ships an endpoint whose access was never decided.

Refused means 401/403 (for console pages also the redirect to the sign-in page). Allowed means anything else short
of a server error: the requests carry empty bodies, so an allowed caller mostly meets a 404 or 422 — past the
role check, which is what this test is about.
"""

from __future__ import annotations

from collections.abc import Iterator
from enum import StrEnum

import pytest
from fastapi import FastAPI
from fastapi.routing import APIRoute
from fastapi.testclient import TestClient
from starlette.routing import Mount, Route

from collector.accounts import sessions
from collector.accounts.roles import Role
from collector.keys import Scope
from collector.runtime import Runtime
from tests.factories import SENSOR_ID
from tests.support.people_and_alerts import (
    ORIGIN,
    AlertRows,
    cheap_password_hashing,
    create_user,
    key_header,
    sign_in,
)


class Caller(StrEnum):
    ANONYMOUS = "anonymous"
    READ_ONLY_USER = "read_only user"
    REVIEWER_USER = "reviewer user"
    ADMIN_USER = "admin user"
    READ_KEY = "read key"
    ADMIN_KEY = "admin key"
    SENSOR_KEY = "sensor key"
    BROWSER_KEY = "browser key"
    DEVICE_KEY = "device key"


PEOPLE = {
    Caller.READ_ONLY_USER: ("carl", Role.READ_ONLY),
    Caller.REVIEWER_USER: ("alice", Role.REVIEWER),
    Caller.ADMIN_USER: ("root", Role.ADMIN),
}
EVERYONE = frozenset(Caller)
READERS = frozenset(
    {
        Caller.READ_ONLY_USER,
        Caller.REVIEWER_USER,
        Caller.ADMIN_USER,
        Caller.READ_KEY,
        Caller.ADMIN_KEY,
    }
)
TRIAGERS = frozenset({Caller.REVIEWER_USER, Caller.ADMIN_USER, Caller.ADMIN_KEY})
ADMINS = frozenset({Caller.ADMIN_USER, Caller.ADMIN_KEY})
# Comments are signed by a person: an admin key may triage but not comment.
PEOPLE_TRIAGING = frozenset({Caller.REVIEWER_USER, Caller.ADMIN_USER})
# The console is for people signed in with the cookie; API keys are strangers there.
CONSOLE_READERS = frozenset({Caller.READ_ONLY_USER, Caller.REVIEWER_USER, Caller.ADMIN_USER})
CONSOLE_TRIAGERS = PEOPLE_TRIAGING
CONSOLE_ADMINS = frozenset({Caller.ADMIN_USER})
PRODUCERS = frozenset({Caller.SENSOR_KEY, Caller.BROWSER_KEY})
HEARTBEAT_SENDERS = frozenset({Caller.SENSOR_KEY, Caller.BROWSER_KEY, Caller.DEVICE_KEY})
DEVICES = frozenset({Caller.DEVICE_KEY})

ACCESS: dict[tuple[str, str], frozenset[Caller]] = {
    # Public: health, docs, the sign-in forms and device enrolment (which checks its own one-time token).
    ("GET", "/healthz"): EVERYONE,
    ("GET", "/readyz"): EVERYONE,
    ("GET", "/docs"): EVERYONE,
    ("GET", "/docs/oauth2-redirect"): EVERYONE,
    ("GET", "/redoc"): EVERYONE,
    ("GET", "/openapi.json"): EVERYONE,
    ("GET", "/"): EVERYONE,
    ("MOUNT", "/console/static"): EVERYONE,
    ("POST", "/api/v1/session"): EVERYONE,
    ("GET", "/console/login"): EVERYONE,
    ("POST", "/console/login"): EVERYONE,
    ("POST", "/ext/v1/enrol"): EVERYONE,
    # Producers.
    ("POST", "/api/v1/batches"): PRODUCERS,
    ("POST", "/api/v1/heartbeats"): HEARTBEAT_SENDERS,
    ("GET", "/ext/v1/policy"): DEVICES,
    ("POST", "/ext/v1/telemetry"): DEVICES,
    ("POST", "/ext/v1/heartbeat"): DEVICES,
    # Reading.
    ("GET", "/api/v1/events"): READERS,
    ("GET", "/api/v1/usage"): READERS,
    ("GET", "/api/v1/policy"): READERS,
    ("GET", "/api/v1/policy/resolve"): READERS,
    ("GET", "/api/v1/policy/history"): READERS,
    ("GET", "/api/v1/reports/exposure"): READERS,
    ("GET", "/api/v1/session"): READERS,
    ("GET", "/api/v1/alerts"): READERS,
    ("GET", "/api/v1/alerts/{alert_id}"): READERS,
    ("GET", "/api/v1/audit"): READERS,
    # Triage.
    ("POST", "/api/v1/alerts/{alert_id}/status"): TRIAGERS,
    ("PUT", "/api/v1/alerts/{alert_id}/assignee"): TRIAGERS,
    ("POST", "/api/v1/alerts/bulk"): TRIAGERS,
    ("POST", "/api/v1/alerts/{alert_id}/comments"): PEOPLE_TRIAGING,
    # Administration.
    ("PUT", "/api/v1/policy/default"): ADMINS,
    ("PUT", "/api/v1/policy/categories/{category}"): ADMINS,
    ("DELETE", "/api/v1/policy/categories/{category}"): ADMINS,
    ("PUT", "/api/v1/policy/tools/{tool_id}"): ADMINS,
    ("DELETE", "/api/v1/policy/tools/{tool_id}"): ADMINS,
    ("GET", "/api/v1/users"): ADMINS,
    ("POST", "/api/v1/users"): ADMINS,
    ("PATCH", "/api/v1/users/{username}"): ADMINS,
    ("POST", "/api/v1/enrolment-tokens"): ADMINS,
    ("GET", "/api/v1/devices"): ADMINS,
    ("DELETE", "/api/v1/devices/{device_id}"): ADMINS,
    # The console.
    ("GET", "/console/"): CONSOLE_READERS,
    ("GET", "/console/alerts"): CONSOLE_READERS,
    ("GET", "/console/alerts/{alert_id}"): CONSOLE_READERS,
    ("GET", "/console/tools"): CONSOLE_READERS,
    ("GET", "/console/tools/{tool_id}"): CONSOLE_READERS,
    ("GET", "/console/producers"): CONSOLE_READERS,
    ("POST", "/console/alerts/{alert_id}/status"): CONSOLE_TRIAGERS,
    ("POST", "/console/alerts/{alert_id}/assign"): CONSOLE_TRIAGERS,
    ("POST", "/console/alerts/{alert_id}/comment"): CONSOLE_TRIAGERS,
    ("POST", "/console/alerts/bulk"): CONSOLE_TRIAGERS,
    ("POST", "/console/tools/{tool_id}/policy"): CONSOLE_ADMINS,
    # Signing out ends the caller's session, so these run last (see _ordered).
    ("DELETE", "/api/v1/session"): READERS,
    ("POST", "/console/logout"): CONSOLE_READERS,
}
_LAST = {("DELETE", "/api/v1/session"), ("POST", "/console/logout")}
# Sign-in forms answer wrong credentials with 401 by design: for them a 401 means the form was reached.
_SIGN_IN = {("POST", "/console/login")}
# Bodies for routes whose check comes after validation: with an empty body the 422 would hide the refusal.
_BODIES: dict[tuple[str, str], dict[str, object]] = {
    ("POST", "/api/v1/alerts/{alert_id}/comments"): {"json": {"body": "checked with the team"}},
    ("POST", "/console/login"): {"data": {"username": "nobody", "password": "not a password"}},
}


def app_routes(app: FastAPI) -> set[tuple[str, str]]:
    """(method, path) of every route (converters such as `:int` left out, as in OpenAPI), looking inside included
    routers; a mount is ("MOUNT", its path)."""
    found: set[tuple[str, str]] = set()
    pending = list(app.routes)
    while pending:
        route = pending.pop()
        inner = getattr(route, "original_router", None)
        if inner is not None:
            pending += inner.routes
        elif isinstance(route, Mount):
            found.add(("MOUNT", route.path))
        elif isinstance(route, APIRoute | Route):
            found |= {(method, route.path_format) for method in route.methods or () if method != "HEAD"}
    return found


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def test_every_route_is_in_the_table(client: TestClient) -> None:
    routes = app_routes(client.app)  # type: ignore[arg-type]

    assert sorted(routes - ACCESS.keys()) == [], "new routes: decide who may call them in ACCESS"
    assert sorted(ACCESS.keys() - routes) == [], "routes in ACCESS that no longer exist"


def test_the_openapi_document_lists_no_route_the_table_lacks(client: TestClient) -> None:
    documented = {
        (method.upper(), path)
        for path, operations in client.app.openapi()["paths"].items()  # type: ignore[attr-defined]
        for method in operations
    }

    assert documented - ACCESS.keys() == set()


@pytest.fixture
def callers(client: TestClient, runtime: Runtime) -> Iterator[dict[Caller, TestClient]]:
    """A client per kind of caller: people by their session cookie (as a browser, same origin), machines by key."""
    keys = {
        Caller.READ_KEY: (Scope.READ, None),
        Caller.ADMIN_KEY: (Scope.ADMIN, None),
        Caller.SENSOR_KEY: (Scope.SENSOR, SENSOR_ID),
        Caller.BROWSER_KEY: (Scope.BROWSER, None),
        Caller.DEVICE_KEY: (Scope.DEVICE, "device-0001"),
    }
    built: dict[Caller, TestClient] = {Caller.ANONYMOUS: TestClient(client.app, follow_redirects=False)}
    for caller, (name, role) in PEOPLE.items():
        create_user(runtime, name, role)
        built[caller] = TestClient(
            client.app, headers=ORIGIN, cookies={sessions.COOKIE_NAME: _session(client, name)}, follow_redirects=False
        )
    for caller, (scope, bound_to) in keys.items():
        built[caller] = TestClient(client.app, headers=key_header(runtime, scope, bound_to), follow_redirects=False)
    client.cookies.clear()
    yield built
    for built_client in built.values():
        built_client.close()


def _session(client: TestClient, username: str) -> str:
    token = sign_in(client, username)["Authorization"].removeprefix("Bearer ")
    client.cookies.clear()
    return token


def _ordered() -> list[tuple[str, str]]:
    return sorted(ACCESS, key=lambda route: (route in _LAST, route))


def _concrete(path: str, alert_id: int) -> str:
    return (
        path.replace("{alert_id}", str(alert_id))
        .replace("{username}", "nobody")
        .replace("{device_id}", "no-such-device")
        .replace("{tool_id}", "openai-chatgpt")
        .replace("{category}", "chat_assistant")
    )


def _refused(method: str, path: str, response: object) -> bool:
    status = getattr(response, "status_code", 0)
    headers = getattr(response, "headers", {})
    if status in {401, 403}:
        return True
    # A console page sends a stranger to the sign-in form (and back afterwards) instead of answering 401; signing
    # out also ends on the form, but without a page to return to.
    location = headers.get("location", "")
    return path.startswith("/console/") and status == 303 and location.startswith("/console/login?next=")


@pytest.mark.parametrize("caller", list(Caller), ids=[caller.value for caller in Caller])
def test_each_caller_is_allowed_or_refused_as_the_table_says(
    client: TestClient, callers: dict[Caller, TestClient], runtime: Runtime, caller: Caller
) -> None:
    with runtime.sessions.begin() as session:
        alert_id = AlertRows(session, "874f5ad6-f0c4-4e09-8813-b21f6dc6651e").alert().id
    api = callers[caller]
    wrong: list[str] = []
    for method, path in _ordered():
        url = "/console/static/console.css" if method == "MOUNT" else _concrete(path, alert_id)
        verb = "GET" if method == "MOUNT" else method
        if (method, path) in _LAST and caller in PEOPLE:
            api.cookies.set(sessions.COOKIE_NAME, _session(client, PEOPLE[caller][0]))  # the last one signed out
        body = _BODIES.get((method, path)) or (
            {"json": {}} if verb in {"POST", "PUT", "PATCH"} and not path.startswith("/console/") else {}
        )
        response = api.request(verb, url, **body)  # type: ignore[arg-type]
        allowed = caller in ACCESS[(method, path)]
        if response.status_code >= 500:
            wrong.append(f"{method} {path}: {response.status_code}")
        elif (method, path) in _SIGN_IN and response.status_code == 401:
            continue
        elif allowed == _refused(method, path, response):
            expected = "allowed" if allowed else "refused"
            wrong.append(f"{method} {path}: expected {expected}, got {response.status_code}")

    assert wrong == [], "\n".join(wrong)
