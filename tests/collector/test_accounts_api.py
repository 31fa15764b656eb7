"""Accounts over HTTP: signing in and out, lockout, session expiry, admins managing users, CSRF on cookie writes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.accounts import passwords, sessions, signin, users
from collector.accounts.roles import Role
from collector.keys import Scope
from collector.models import AuditEntry, User
from collector.runtime import Runtime
from tests.support.people_and_alerts import (
    ORIGIN,
    PASSWORD,
    cheap_password_hashing,
    create_user,
    key_header,
    sign_in,
)


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


def test_passwords_are_hashed_with_argon2id_at_rfc_9106_strength(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.undo()  # the production hasher, not the tests' cheap one

    hashed = passwords.hash_password(PASSWORD)

    assert hashed.startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert passwords.verify(hashed, PASSWORD)
    assert not passwords.verify(hashed, PASSWORD + "!")
    assert not passwords.verify(None, PASSWORD)


@pytest.fixture
def admin(runtime: Runtime, client: TestClient) -> dict[str, str]:
    create_user(runtime, "root", Role.ADMIN)
    return sign_in(client, "root")


def _me(client: TestClient, headers: dict[str, str] | None = None) -> int:
    return client.get("/api/v1/session", headers=headers or {}).status_code


def test_when_signing_in_with_json_then_a_token_and_an_httponly_cookie_are_issued(
    client: TestClient, runtime: Runtime
) -> None:
    create_user(runtime, "alice", Role.REVIEWER)

    response = client.post("/api/v1/session", json={"username": "Alice ", "password": PASSWORD})

    assert response.status_code == 201, response.text
    body = response.json()
    assert body["username"] == "alice"
    assert body["role"] == "reviewer"
    assert body["token"].startswith("sess_")
    cookie = response.headers["set-cookie"]
    assert "shadowscope_session=" in cookie
    assert "HttpOnly" in cookie
    assert "SameSite=strict" in cookie
    bearer = {"Authorization": f"Bearer {body['token']}"}
    assert client.get("/api/v1/session", headers=bearer).json() == {"kind": "user", "name": "alice", "role": "reviewer"}
    assert client.get("/api/v1/session").json()["name"] == "alice"  # by the cookie alone


def test_when_signing_out_then_the_session_token_stops_working(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    bearer = sign_in(client, "alice")
    client.cookies.clear()

    assert client.delete("/api/v1/session", headers=bearer).status_code == 204

    assert _me(client, bearer) == 401


def test_when_signing_out_with_the_cookie_then_the_cookie_is_cleared_and_the_session_ended(
    client: TestClient, runtime: Runtime
) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    bearer = sign_in(client, "alice")

    response = client.delete("/api/v1/session", headers=ORIGIN)

    assert response.status_code == 204
    assert "shadowscope_session=" in response.headers["set-cookie"]
    assert _me(client) == 401
    assert _me(client, bearer) == 401


def test_when_the_password_is_wrong_or_the_user_unknown_then_the_same_refusal(
    client: TestClient, runtime: Runtime
) -> None:
    create_user(runtime, "alice", Role.REVIEWER)

    wrong = client.post("/api/v1/session", json={"username": "alice", "password": "not the password at all"})
    unknown = client.post("/api/v1/session", json={"username": "mallory", "password": "not the password at all"})

    assert wrong.status_code == unknown.status_code == 401
    assert wrong.json() == unknown.json()
    assert wrong.json()["error"]["code"] == "sign_in_refused"
    assert "set-cookie" not in wrong.headers
    with runtime.sessions() as session:
        failed = session.scalars(select(AuditEntry.subject_id).where(AuditEntry.action == "login.failed")).all()
    assert sorted(failed) == ["alice", "mallory"]


def test_when_sign_ins_fail_repeatedly_then_the_account_is_locked_even_for_the_right_password(
    client: TestClient, runtime: Runtime
) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    limit = runtime.settings.login_max_failures
    for _ in range(limit):
        client.post("/api/v1/session", json={"username": "alice", "password": "guess guess guess"})

    locked = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})

    assert locked.status_code == 401
    assert "too many failed sign-ins" in locked.json()["error"]["message"]


def test_when_the_lockout_has_passed_then_the_right_password_works_again(runtime: Runtime) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    settings = runtime.settings
    start = datetime.now(UTC)
    for _ in range(settings.login_max_failures):
        with pytest.raises(users.SignInRefused):
            signin.sign_in(runtime.sessions, settings, "alice", "guess guess guess", start)
    lockout = timedelta(minutes=settings.login_lockout_minutes)

    with pytest.raises(users.SignInRefused, match="too many"):
        signin.sign_in(runtime.sessions, settings, "alice", PASSWORD, start + lockout - timedelta(seconds=5))
    signed_in = signin.sign_in(runtime.sessions, settings, "alice", PASSWORD, start + lockout + timedelta(seconds=1))

    assert signed_in.username == "alice"


def test_when_an_unknown_user_fails_repeatedly_then_it_is_locked_the_same_way(runtime: Runtime) -> None:
    settings = runtime.settings
    now = datetime.now(UTC)
    messages = []
    for _ in range(settings.login_max_failures + 1):
        with pytest.raises(users.SignInRefused) as refused:
            signin.sign_in(runtime.sessions, settings, "ghost", "guess guess guess", now)
        messages.append(str(refused.value))

    assert messages[-1].startswith("too many failed sign-ins")
    assert set(messages[:-1]) == {"wrong username or password"}


def _session_at(runtime: Runtime, username: str, start: datetime) -> str:
    with runtime.sessions.begin() as session:
        user = users.get(session, username)
        return sessions.start(session, user, start, signin.lifetimes(runtime.settings)).token


def test_when_a_session_is_idle_too_long_then_it_ends(runtime: Runtime) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    lifetimes = signin.lifetimes(runtime.settings)
    start = datetime.now(UTC)
    token = _session_at(runtime, "alice", start)

    with runtime.sessions.begin() as session:
        assert sessions.resolve(session, token, start + lifetimes.idle - timedelta(seconds=1), lifetimes)
    with runtime.sessions.begin() as session, pytest.raises(sessions.SessionInvalid, match="ended"):
        sessions.resolve(session, token, start + 2 * lifetimes.idle + timedelta(seconds=2), lifetimes)


def test_when_a_session_stays_active_then_it_still_ends_at_its_maximum_age(runtime: Runtime) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    lifetimes = signin.lifetimes(runtime.settings)
    start = datetime.now(UTC)
    token = _session_at(runtime, "alice", start)
    now = start
    # Active every few minutes: the idle limit never bites, so only the absolute limit can end the session.
    while now + lifetimes.idle / 2 < start + lifetimes.maximum:
        now += lifetimes.idle / 2
        with runtime.sessions.begin() as session:
            sessions.resolve(session, token, now, lifetimes)

    with runtime.sessions.begin() as session, pytest.raises(sessions.SessionInvalid):
        sessions.resolve(session, token, start + lifetimes.maximum, lifetimes)


def test_when_a_user_is_disabled_then_their_sessions_end_and_they_cannot_sign_in(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    alice = sign_in(client, "alice")

    response = client.patch("/api/v1/users/alice", json={"disabled": True}, headers=admin)

    assert response.status_code == 200, response.text
    assert response.json()["disabled"] is True
    assert _me(client, alice) == 401
    refused = client.post("/api/v1/session", json={"username": "alice", "password": PASSWORD})
    assert refused.status_code == 401
    assert refused.json()["error"]["message"] == "wrong username or password"


def test_when_a_role_changes_then_the_users_sessions_end(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    alice = sign_in(client, "alice")

    assert client.patch("/api/v1/users/alice", json={"role": "read_only"}, headers=admin).json()["role"] == "read_only"

    assert _me(client, alice) == 401
    assert client.get("/api/v1/session", headers=sign_in(client, "alice")).json()["role"] == "read_only"


@pytest.mark.parametrize("change", [{"role": "reviewer"}, {"disabled": True}])
def test_when_the_last_admin_would_be_demoted_or_disabled_then_409(
    client: TestClient, admin: dict[str, str], change: dict[str, object]
) -> None:
    response = client.patch("/api/v1/users/root", json=change, headers=admin)

    assert response.status_code == 409
    assert "last active admin" in response.json()["error"]["message"]
    assert _me(client, admin) == 200  # nothing changed, the session lives on


def test_when_another_admin_exists_then_an_admin_may_be_demoted(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    create_user(runtime, "second", Role.ADMIN)

    assert client.patch("/api/v1/users/root", json={"role": "reviewer"}, headers=admin).status_code == 200


@pytest.mark.parametrize(
    ("password", "problem"),
    [("short1!", "at least 12"), ("carol-is-my-password", "may not contain the username"), ("x" * 1025, "")],
)
def test_when_a_password_is_weak_then_the_user_is_not_created(
    client: TestClient, admin: dict[str, str], password: str, problem: str
) -> None:
    response = client.post(
        "/api/v1/users", json={"username": "carol", "role": "reviewer", "password": password}, headers=admin
    )

    assert response.status_code == 422
    assert problem in response.json()["error"]["message"]
    assert password not in response.text
    assert "carol" not in [u["username"] for u in client.get("/api/v1/users", headers=admin).json()]


def test_when_a_password_is_changed_to_a_weak_one_then_422_and_the_old_one_still_works(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    create_user(runtime, "alice", Role.REVIEWER)

    response = client.patch("/api/v1/users/alice", json={"password": "tooshort"}, headers=admin)

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "weak_password"
    sign_in(client, "alice")


def test_when_users_are_created_then_only_an_argon2id_hash_is_stored_and_it_is_never_returned(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    created = client.post(
        "/api/v1/users",
        json={"username": "Carol", "role": "read_only", "password": PASSWORD, "display_name": "Carol C."},
        headers=admin,
    )

    assert created.status_code == 201, created.text
    assert created.json()["username"] == "carol"
    with runtime.sessions() as session:
        stored = session.scalars(select(User.password_hash)).all()
    assert all(hash_.startswith("$argon2id$") for hash_ in stored)
    assert PASSWORD not in stored
    listing = client.get("/api/v1/users", headers=admin)
    assert {u["username"] for u in listing.json()} == {"root", "carol"}
    for text in (created.text, listing.text):
        assert "password" not in text
        assert "$argon2" not in text


def test_when_a_username_is_taken_then_409(client: TestClient, admin: dict[str, str]) -> None:
    body = {"username": "root", "role": "reviewer", "password": PASSWORD}

    response = client.post("/api/v1/users", json=body, headers=admin)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "account_conflict"


def test_when_an_unknown_user_is_changed_then_404(client: TestClient, admin: dict[str, str]) -> None:
    assert client.patch("/api/v1/users/nobody", json={"disabled": True}, headers=admin).status_code == 404


def test_when_a_reviewer_manages_users_then_403(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "alice", Role.REVIEWER)
    alice = sign_in(client, "alice")

    response = client.post(
        "/api/v1/users", json={"username": "eve", "role": "admin", "password": PASSWORD}, headers=alice
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "forbidden"


def test_when_account_changes_are_made_then_each_is_in_the_audit_log(
    client: TestClient, runtime: Runtime, admin: dict[str, str]
) -> None:
    client.post("/api/v1/users", json={"username": "carol", "role": "reviewer", "password": PASSWORD}, headers=admin)
    client.patch("/api/v1/users/carol", json={"role": "read_only"}, headers=admin)
    client.patch("/api/v1/users/carol", json={"disabled": True}, headers=admin)

    log = client.get("/api/v1/audit", params={"subject_kind": "user", "subject_id": "carol"}, headers=admin).json()

    assert [(e["action"], e["from_value"], e["to_value"]) for e in log["entries"]] == [
        ("user.disabled", None, None),
        ("user.role", "reviewer", "read_only"),
        ("user.created", None, "reviewer"),
    ]
    assert {e["actor"] for e in log["entries"]} == {"user:root"}


def test_when_a_cookie_write_comes_without_our_origin_then_it_is_refused(client: TestClient, runtime: Runtime) -> None:
    create_user(runtime, "root", Role.ADMIN)
    sign_in(client, "root")  # the client now holds the session cookie, as a browser would
    body = {"username": "eve", "role": "admin", "password": PASSWORD}

    no_origin = client.post("/api/v1/users", json=body)
    other_site = client.post("/api/v1/users", json=body, headers={"Origin": "https://evil.example"})
    other_referer = client.post("/api/v1/users", json=body, headers={"Referer": "https://evil.example/page"})

    for refused in (no_origin, other_site, other_referer):
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "cross_origin"
    assert client.get("/api/v1/users").status_code == 200  # reading by cookie needs no Origin
    assert client.post("/api/v1/users", json=body, headers=ORIGIN).status_code == 201


def test_when_an_api_key_asks_who_it_is_then_it_is_named_with_its_role(client: TestClient, runtime: Runtime) -> None:
    me = client.get("/api/v1/session", headers=key_header(runtime, Scope.READ)).json()

    assert me["kind"] == "api-key"
    assert me["role"] == "read_only"
