"""The alert API: the queue and its filters, one alert in context without raw text, the workflow, and its audit log."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select, text, update
from sqlalchemy.exc import DBAPIError

from collector.accounts.roles import Role
from collector.alerts import queries
from collector.keys import Scope
from collector.models import Alert, AlertEvent, AuditEntry, StoredEvent, User
from collector.runtime import Runtime
from collector.settings import CollectorSettings
from collector.triage import RESOLUTIONS, TRANSITIONS, Status
from rules.detection_rules import load_detection_rules
from tests.factories import batch, prompt_event
from tests.support.people_and_alerts import (
    RAW_TEXT,
    AlertRows,
    cheap_password_hashing,
    create_user,
    key_header,
    sign_in,
)

RULE = load_detection_rules()[0].rule
SECRETS = ("536-22-8741", "jane@example.com", RAW_TEXT)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> CollectorSettings:
    # A deployment that opted in to keeping prompt text: the alert API must still never show it.
    return CollectorSettings(
        data_dir=tmp_path / "data",
        database_url=database_url,
        run_scheduler=False,
        store_prompt_text=True,
        classifier_ner=False,
    )


@pytest.fixture(autouse=True)
def _cheap_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    cheap_password_hashing(monkeypatch)


@pytest.fixture
def people(client: TestClient, runtime: Runtime) -> dict[str, dict[str, str]]:
    for name, role in (("alice", Role.REVIEWER), ("bob", Role.REVIEWER), ("carl", Role.READ_ONLY)):
        create_user(runtime, name, role)
    create_user(runtime, "root", Role.ADMIN)
    headers = {name: sign_in(client, name) for name in ("alice", "bob", "carl", "root")}
    client.cookies.clear()  # every request below authenticates by its Bearer header
    return headers


def _alert(runtime: Runtime, **columns: Any) -> int:
    with runtime.sessions.begin() as session:
        return AlertRows(session, str(RULE.id)).alert(**columns).id


def _ids(api: TestClient, headers: dict[str, str], **params: Any) -> list[int]:
    response = api.get("/api/v1/alerts", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return [alert["id"] for alert in response.json()["alerts"]]


def _status(client: TestClient, headers: dict[str, str], alert_id: int, **body: Any) -> Any:
    return client.post(f"/api/v1/alerts/{alert_id}/status", json=body, headers=headers)


def _audit(runtime: Runtime, alert_id: int) -> list[AuditEntry]:
    with runtime.sessions() as session:
        return list(
            session.scalars(
                select(AuditEntry)
                .where(AuditEntry.subject_kind == "alert", AuditEntry.subject_id == str(alert_id))
                .order_by(AuditEntry.id)
            )
        )


# --- the queue ----------------------------------------------------------------------------------------------


def test_when_filtering_the_queue_then_each_filter_narrows_and_the_counts_ignore_status(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    with runtime.sessions() as session:
        alice_id = session.scalar(select(User.id).where(User.username == "alice"))
    old = _alert(runtime, minutes_ago=600, severity="low", client="10.1.2.3", tool_id="deepseek")
    mine = _alert(runtime, minutes_ago=30, status="triaged", assignee_id=alice_id)
    escalated = _alert(runtime, minutes_ago=20, status="escalated", severity="critical", client="10.1.9.9")
    fresh = _alert(runtime, minutes_ago=10, client="j.doe")
    reader = people["carl"]

    assert _ids(client, reader) == [fresh, escalated, mine, old]
    assert _ids(client, reader, status=["new", "escalated"]) == [fresh, escalated, old]
    assert _ids(client, reader, severity=["low", "critical"]) == [escalated, old]
    assert _ids(client, reader, tool_id="deepseek") == [old]
    assert _ids(client, reader, rule_id=str(RULE.id)) == [fresh, escalated, mine, old]
    assert _ids(client, reader, client="10.1.9.9") == [escalated]
    assert _ids(client, reader, client="10.1.") == []
    assert _ids(client, reader, client="10.1.", client_match="contains") == [escalated, old]
    assert _ids(client, reader, assignee="alice") == [mine]
    assert _ids(client, reader, assignee="unassigned") == [fresh, escalated, old]
    assert _ids(client, people["alice"], assignee="me") == [mine]
    assert _ids(client, reader, assignee="me") == []
    assert _ids(client, reader, assignee="nobody") == []
    now = datetime.now(UTC)
    window = {"from": (now - timedelta(minutes=45)).isoformat(), "to": (now - timedelta(minutes=15)).isoformat()}
    assert _ids(client, reader, **window) == [escalated, mine]
    counts = client.get("/api/v1/alerts", params={"status": "new", "severity": "high"}, headers=reader).json()
    assert counts["status_counts"] == {"new": 1, "triaged": 1, "escalated": 0, "resolved": 0, "dismissed": 0}


def test_when_paging_the_queue_then_every_alert_comes_once_newest_first_ties_by_id(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    ids = [_alert(runtime, minutes_ago=minutes) for minutes in (5, 5, 5, 1, 9, 9, 2)]
    expected = sorted(ids, key=lambda i: ([5, 5, 5, 1, 9, 9, 2][ids.index(i)], -i))
    seen: list[int] = []
    before = None
    pages = 0
    while True:
        params: dict[str, Any] = {"limit": 3} | ({"before": before} if before else {})
        page = client.get("/api/v1/alerts", params=params, headers=people["carl"]).json()
        seen += [alert["id"] for alert in page["alerts"]]
        pages += 1
        before = page["next_before"]
        if before is None:
            break

    assert seen == expected
    assert pages == 3


@pytest.mark.parametrize(
    "params",
    [
        {"before": "not-a-cursor"},
        {"status": "open"},
        {"severity": "urgent"},
        {"limit": 0},
        {"from": "1700000000"},
        {"from": "2026-11-02T10:00:00Z", "to": "2026-11-02T09:00:00Z"},
    ],
)
def test_when_a_queue_filter_is_malformed_then_422(
    client: TestClient, people: dict[str, dict[str, str]], params: dict[str, Any]
) -> None:
    response = client.get("/api/v1/alerts", params=params, headers=people["carl"])

    assert response.status_code == 422
    assert response.json()["error"]["status"] == 422


# --- one alert ----------------------------------------------------------------------------------------------


def test_when_an_alert_is_opened_then_it_brings_rule_tool_facts_and_redacted_evidence_but_no_text(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime, evidence=3)
    with runtime.sessions() as session:
        stored = session.scalars(select(StoredEvent.detail)).all()
    assert all(detail["text"] == RAW_TEXT for detail in stored)  # the deployment did keep the text

    response = client.get(f"/api/v1/alerts/{alert_id}", headers=people["carl"])

    assert response.status_code == 200, response.text
    detail = response.json()
    assert detail["alert"]["rule_title"] == RULE.title
    assert detail["rule"]["description"] == RULE.description
    assert detail["rule"]["level"] == RULE.level
    assert detail["tool"]["name"] == "ChatGPT"
    assert detail["tool"]["policy_status"] == "unsanctioned"
    assert detail["tool"]["facts"]["trains_on_input_by_default"]["value"] is True
    assert detail["evidence_linked"] == 3
    assert len(detail["evidence"]) == 3
    first = detail["evidence"][0]
    assert first["labels"] == ["pii"]
    assert first["entity_types"] == ["email_address", "us_ssn"]
    assert first["entity_counts"] == {"us_ssn": 1, "email_address": 1}
    assert first["snippet"] == "Employee SSN <US_SSN> for <EMAIL_ADDRESS>"
    assert "text" not in first
    for secret in SECRETS:
        assert secret not in response.text


def test_when_evidence_was_ingested_with_text_kept_then_only_the_classifiers_snippet_is_shown(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    text_sent = "Please check SSN 536-22-8741 and mail jane@example.com about the contract"
    event = prompt_event(text=text_sent)
    delivered = client.post("/api/v1/batches", json=batch(event), headers=key_header(runtime, Scope.BROWSER))
    assert delivered.status_code == 201, delivered.text
    alert_id = _alert(runtime, evidence=0)
    with runtime.sessions.begin() as session:
        stored = session.scalar(select(StoredEvent).where(StoredEvent.event_id == uuid.UUID(event["event_id"])))
        assert stored is not None
        assert stored.detail["text"] == text_sent
        session.add(AlertEvent(alert_id=alert_id, event_id=stored.event_id))

    response = client.get(f"/api/v1/alerts/{alert_id}", headers=people["alice"])

    evidence = response.json()["evidence"]
    assert [e["event_id"] for e in evidence] == [event["event_id"]]
    assert "us_ssn" in [name.lower() for name in evidence[0]["entity_types"]]
    assert evidence[0]["snippet"] is not None
    assert "536-22-8741" not in response.text
    assert "jane@example.com" not in response.text
    assert text_sent not in response.text


def test_when_an_alert_has_more_evidence_than_shown_then_the_newest_are_listed(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime, evidence=queries.EVIDENCE_LIMIT + 5)

    detail = client.get(f"/api/v1/alerts/{alert_id}", headers=people["carl"]).json()

    assert detail["evidence_linked"] == queries.EVIDENCE_LIMIT + 5
    assert len(detail["evidence"]) == queries.EVIDENCE_LIMIT
    times = [e["occurred_at"] for e in detail["evidence"]]
    assert times == sorted(times, reverse=True)


def test_when_an_alert_does_not_exist_then_404(client: TestClient, people: dict[str, dict[str, str]]) -> None:
    response = client.get("/api/v1/alerts/999999", headers=people["carl"])

    assert response.status_code == 404
    assert response.json()["error"]["code"] == "no_such_alert"


# --- status -------------------------------------------------------------------------------------------------

ALLOWED = [(current, target) for current, targets in TRANSITIONS.items() for target in sorted(targets)]
REFUSED = [(current, target) for current in Status for target in Status if target not in TRANSITIONS[current]]


def _at(runtime: Runtime, status: Status) -> int:
    resolution = sorted(RESOLUTIONS[status])[0].value if status in RESOLUTIONS else None
    return _alert(runtime, status=status.value, resolution=resolution)


@pytest.mark.parametrize(("current", "target"), ALLOWED, ids=[f"{c}->{t}" for c, t in ALLOWED])
def test_when_a_transition_is_in_the_table_then_it_is_made_and_audited(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]], current: Status, target: Status
) -> None:
    alert_id = _at(runtime, current)
    body: dict[str, Any] = {"status": target.value, "reason": f"moving to {target}", "expected_status": current.value}
    if target in RESOLUTIONS:
        body["resolution"] = sorted(RESOLUTIONS[target])[-1].value
    before = datetime.now(UTC) - timedelta(seconds=1)

    response = _status(client, people["alice"], alert_id, **body)

    assert response.status_code == 200, response.text
    changed = response.json()
    assert changed["status"] == target.value
    assert changed["resolution"] == body.get("resolution")
    assert datetime.fromisoformat(changed["updated_at"]) >= before
    entry = next(e for e in reversed(_audit(runtime, alert_id)) if e.action == "alert.status")
    assert (entry.actor, entry.from_value, entry.to_value, entry.reason) == (
        "user:alice",
        current.value,
        target.value,
        f"moving to {target}",
    )
    assert entry.occurred_at >= before


@pytest.mark.parametrize(("current", "target"), REFUSED, ids=[f"{c}->{t}" for c, t in REFUSED])
def test_when_a_transition_is_not_in_the_table_then_409_and_nothing_changes(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]], current: Status, target: Status
) -> None:
    alert_id = _at(runtime, current)
    body: dict[str, Any] = {"status": target.value, "reason": "because"}
    if target in RESOLUTIONS:
        body["resolution"] = sorted(RESOLUTIONS[target])[0].value

    response = _status(client, people["alice"], alert_id, **body)

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "invalid_transition"
    assert _audit(runtime, alert_id) == []


@pytest.mark.parametrize(
    ("current", "body", "problem"),
    [
        (Status.NEW, {"status": "resolved"}, "needs a resolution"),
        (Status.NEW, {"status": "dismissed", "resolution": "remediated"}, "does not fit"),
        (Status.TRIAGED, {"status": "resolved", "resolution": "false_positive"}, "does not fit"),
        (Status.NEW, {"status": "triaged", "resolution": "benign"}, "only closing"),
        (Status.DISMISSED, {"status": "triaged"}, "needs a reason"),
        (Status.RESOLVED, {"status": "triaged", "reason": "   "}, "needs a reason"),
    ],
)
def test_when_a_resolution_or_reason_is_missing_or_wrong_then_422(
    client: TestClient,
    runtime: Runtime,
    people: dict[str, dict[str, str]],
    current: Status,
    body: dict[str, Any],
    problem: str,
) -> None:
    alert_id = _at(runtime, current)

    response = _status(client, people["alice"], alert_id, **body)

    assert response.status_code == 422
    assert problem in response.json()["error"]["message"]


@pytest.mark.parametrize("body", [{"status": "closed"}, {"status": "resolved", "resolution": "fixed"}, {"st": "new"}])
def test_when_a_status_body_is_malformed_then_422(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]], body: dict[str, Any]
) -> None:
    assert (
        client.post(f"/api/v1/alerts/{_alert(runtime)}/status", json=body, headers=people["alice"]).status_code == 422
    )


def test_when_a_closed_alert_is_reopened_then_its_resolution_is_cleared_and_both_changes_audited(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)
    _status(client, people["alice"], alert_id, status="dismissed", resolution="false_positive", reason="test data")

    reopened = _status(client, people["bob"], alert_id, status="triaged", reason="real data this time")

    assert reopened.json()["resolution"] is None
    trail = [(e.actor, e.action, e.from_value, e.to_value, e.reason) for e in _audit(runtime, alert_id)]
    assert trail == [
        ("user:alice", "alert.status", "new", "dismissed", "test data"),
        ("user:alice", "alert.resolution", None, "false_positive", "test data"),
        ("user:bob", "alert.status", "dismissed", "triaged", "real data this time"),
        ("user:bob", "alert.resolution", "false_positive", None, "real data this time"),
    ]


def test_when_the_alert_moved_on_since_the_reviewer_saw_it_then_409_stale(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)
    _status(client, people["bob"], alert_id, status="escalated")

    response = _status(
        client, people["alice"], alert_id, status="dismissed", resolution="benign", expected_status="new"
    )

    assert response.status_code == 409
    assert response.json()["error"]["code"] == "stale_alert"
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=people["alice"]).json()["alert"]["status"] == "escalated"


def test_when_an_unknown_alert_is_changed_then_404(client: TestClient, people: dict[str, dict[str, str]]) -> None:
    assert _status(client, people["alice"], 424242, status="triaged").status_code == 404


def test_when_an_admin_api_key_triages_then_it_is_recorded_under_the_key(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)

    assert _status(client, key_header(runtime, Scope.ADMIN), alert_id, status="triaged").status_code == 200

    assert _audit(runtime, alert_id)[0].actor.startswith("api-key:")


# --- assignment and comments --------------------------------------------------------------------------------


def test_when_alerts_are_assigned_and_unassigned_then_each_change_is_audited(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)
    path = f"/api/v1/alerts/{alert_id}/assignee"

    assert client.put(path, json={"assignee": "bob"}, headers=people["alice"]).json()["assignee"] == "bob"
    assert client.put(path, json={"assignee": "me"}, headers=people["alice"]).json()["assignee"] == "alice"
    assert client.put(path, json={"assignee": "me"}, headers=people["alice"]).status_code == 200  # no change
    assert client.put(path, json={"assignee": "root"}, headers=people["alice"]).json()["assignee"] == "root"
    unassigned = client.put(path, json={"assignee": None, "reason": "back to the pool"}, headers=people["bob"])

    assert unassigned.json()["assignee"] is None
    trail = [(e.actor, e.action, e.from_value, e.to_value, e.reason) for e in _audit(runtime, alert_id)]
    assert trail == [
        ("user:alice", "alert.assigned", None, "bob", None),
        ("user:alice", "alert.assigned", "bob", "alice", None),
        ("user:alice", "alert.assigned", "alice", "root", None),
        ("user:bob", "alert.assigned", "root", None, "back to the pool"),
    ]


@pytest.mark.parametrize(
    ("assignee", "problem"), [("carl", "cannot triage"), ("nobody", "no user"), ("dave", "disabled")]
)
def test_when_the_assignee_cannot_triage_then_422(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]], assignee: str, problem: str
) -> None:
    create_user(runtime, "dave", Role.REVIEWER)
    client.patch("/api/v1/users/dave", json={"disabled": True}, headers=people["root"])
    alert_id = _alert(runtime)

    response = client.put(f"/api/v1/alerts/{alert_id}/assignee", json={"assignee": assignee}, headers=people["alice"])

    assert response.status_code == 422
    assert problem in response.json()["error"]["message"]


def test_when_reviewers_comment_then_the_comments_show_with_their_authors_and_are_audited(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)
    path = f"/api/v1/alerts/{alert_id}/comments"

    first = client.post(path, json={"body": "  Asked the team lead.  "}, headers=people["alice"])
    client.post(path, json={"body": "They use synthetic data."}, headers=people["bob"])

    assert first.status_code == 201, first.text
    assert first.json()["body"] == "Asked the team lead."
    detail = client.get(f"/api/v1/alerts/{alert_id}", headers=people["carl"]).json()
    assert [(c["author"], c["body"]) for c in detail["comments"]] == [
        ("alice", "Asked the team lead."),
        ("bob", "They use synthetic data."),
    ]
    assert [(e["actor"], e["action"]) for e in detail["audit_trail"]] == [
        ("user:bob", "alert.commented"),
        ("user:alice", "alert.commented"),
    ]
    assert detail["alert"]["updated_at"] >= first.json()["created_at"]


@pytest.mark.parametrize("body", [{"body": ""}, {"body": "   "}, {"body": "x" * 4001}])
def test_when_a_comment_is_empty_or_too_long_then_422(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]], body: dict[str, str]
) -> None:
    response = client.post(f"/api/v1/alerts/{_alert(runtime)}/comments", json=body, headers=people["alice"])

    assert response.status_code == 422


def test_when_an_api_key_comments_then_403_because_comments_are_signed_by_people(
    client: TestClient, runtime: Runtime
) -> None:
    response = client.post(
        f"/api/v1/alerts/{_alert(runtime)}/comments", json={"body": "hi"}, headers=key_header(runtime, Scope.ADMIN)
    )

    assert response.status_code == 403
    assert response.json()["error"]["code"] == "person_required"


# --- bulk ---------------------------------------------------------------------------------------------------


def test_when_a_bulk_status_change_is_valid_then_every_alert_changes_with_its_own_audit_entry(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    ids = [_alert(runtime) for _ in range(3)]
    body = {"action": "status", "alert_ids": [*ids, ids[0]], "status": "dismissed", "resolution": "duplicate"}

    response = client.post("/api/v1/alerts/bulk", json=body | {"reason": "same incident"}, headers=people["alice"])

    assert response.status_code == 200, response.text
    assert response.json() == {"changed": ids}
    for alert_id in ids:
        assert [(e.action, e.from_value, e.to_value, e.reason) for e in _audit(runtime, alert_id)] == [
            ("alert.status", "new", "dismissed", "same incident"),
            ("alert.resolution", None, "duplicate", "same incident"),
        ]


def test_when_one_alert_of_a_bulk_change_cannot_move_then_none_changes(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    good = [_alert(runtime) for _ in range(2)]
    closed = _at(runtime, Status.RESOLVED)
    body = {"action": "status", "alert_ids": [*good, closed, 987654], "status": "escalated"}

    response = client.post("/api/v1/alerts/bulk", json=body, headers=people["alice"])

    assert response.status_code == 409
    error = response.json()["error"]
    assert error["code"] == "bulk_refused"
    assert [d["field"] for d in error["details"]] == [f"alert {closed}", "alert 987654"]
    for alert_id in good:
        assert _audit(runtime, alert_id) == []
    statuses = {a["id"]: a["status"] for a in client.get("/api/v1/alerts", headers=people["alice"]).json()["alerts"]}
    assert statuses == {good[0]: "new", good[1]: "new", closed: "resolved"}


def test_when_alerts_are_assigned_in_bulk_then_each_is_audited(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    ids = [_alert(runtime) for _ in range(2)]

    response = client.post(
        "/api/v1/alerts/bulk", json={"action": "assign", "alert_ids": ids, "assignee": "bob"}, headers=people["alice"]
    )

    assert response.status_code == 200, response.text
    assert _ids(client, people["carl"], assignee="bob") == sorted(ids, reverse=True)
    assert all(len(_audit(runtime, alert_id)) == 1 for alert_id in ids)


@pytest.mark.parametrize(
    "body",
    [
        {"action": "status", "alert_ids": [], "status": "triaged"},
        {"action": "status", "alert_ids": list(range(1, 502)), "status": "triaged"},
        {"action": "archive", "alert_ids": [1]},
        {"action": "assign", "alert_ids": [1], "status": "triaged"},
    ],
)
def test_when_a_bulk_body_is_malformed_then_422(
    client: TestClient, people: dict[str, dict[str, str]], body: dict[str, Any]
) -> None:
    assert client.post("/api/v1/alerts/bulk", json=body, headers=people["alice"]).status_code == 422


# --- roles --------------------------------------------------------------------------------------------------


def test_when_a_read_only_user_or_key_tries_to_change_an_alert_then_403(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)
    for headers in (people["carl"], key_header(runtime, Scope.READ)):
        assert _status(client, headers, alert_id, status="triaged").status_code == 403
        put = client.put(f"/api/v1/alerts/{alert_id}/assignee", json={"assignee": None}, headers=headers)
        assert put.status_code == 403

    assert _audit(runtime, alert_id) == []


# --- the audit log ------------------------------------------------------------------------------------------


def test_when_reading_the_audit_log_then_readers_see_alert_entries_and_admins_everything(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)
    _status(client, people["alice"], alert_id, status="triaged", reason="looking")
    client.post("/api/v1/session", json={"username": "alice", "password": "wrong password here"})

    as_reader = client.get("/api/v1/audit", headers=people["carl"]).json()["entries"]
    as_admin = client.get("/api/v1/audit", headers=people["root"]).json()["entries"]
    filtered = client.get(
        "/api/v1/audit",
        params={"subject_kind": "alert", "subject_id": str(alert_id), "actor": "user:alice", "action": "alert.status"},
        headers=people["carl"],
    ).json()["entries"]

    assert {e["subject_kind"] for e in as_reader} == {"alert"}
    assert {"alert", "user"} <= {e["subject_kind"] for e in as_admin}
    assert [(e["from_value"], e["to_value"], e["reason"]) for e in filtered] == [("new", "triaged", "looking")]
    refused = client.get("/api/v1/audit", params={"subject_kind": "user"}, headers=people["carl"])
    assert refused.status_code == 403


def test_when_paging_the_audit_log_then_entries_come_once_newest_first(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime)
    for body in ("one", "two", "three", "four", "five"):
        client.post(f"/api/v1/alerts/{alert_id}/comments", json={"body": body}, headers=people["alice"])
    seen: list[int] = []
    params: dict[str, Any] = {"subject_kind": "alert", "limit": 2}
    while True:
        page = client.get("/api/v1/audit", params=params, headers=people["carl"]).json()
        seen += [entry["id"] for entry in page["entries"]]
        if page["next_before"] is None:
            break
        params["before"] = page["next_before"]

    assert len(seen) == 5
    assert seen == sorted(seen, reverse=True)


@pytest.mark.parametrize("method", ["put", "patch", "delete"])
def test_when_anyone_tries_to_change_the_audit_log_through_the_api_then_no_route_exists(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]], method: str
) -> None:
    alert_id = _alert(runtime)
    _status(client, people["alice"], alert_id, status="triaged")
    entry_id = _audit(runtime, alert_id)[0].id

    for path in ("/api/v1/audit", f"/api/v1/audit/{entry_id}"):
        response = client.request(method.upper(), path, headers=people["root"], json={"reason": "rewritten"})
        assert response.status_code in {404, 405}
    paths = client.app.openapi()["paths"]  # type: ignore[attr-defined]
    assert sorted(path for path in paths if path.startswith("/api/v1/audit")) == ["/api/v1/audit"]
    assert list(paths["/api/v1/audit"]) == ["get"]
    assert _audit(runtime, alert_id)[0].reason is None


def test_when_an_audit_entry_is_updated_in_postgresql_then_the_trigger_refuses(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    if runtime.engine.dialect.name != "postgresql":
        pytest.skip("the append-only trigger is PostgreSQL's; SQLite relies on no code path updating the log")
    alert_id = _alert(runtime)
    _status(client, people["alice"], alert_id, status="triaged")

    with pytest.raises(DBAPIError, match="append-only"), runtime.sessions.begin() as session:
        session.execute(update(AuditEntry).values(reason="rewritten"))

    with runtime.sessions() as session:
        assert session.scalar(text("SELECT count(*) FROM audit_log WHERE reason = 'rewritten'")) == 0


def test_when_alerts_are_changed_then_alert_rows_keep_their_evidence(
    client: TestClient, runtime: Runtime, people: dict[str, dict[str, str]]
) -> None:
    alert_id = _alert(runtime, evidence=2)
    _status(client, people["alice"], alert_id, status="resolved", resolution="remediated")

    with runtime.sessions() as session:
        alert = session.get(Alert, alert_id)
        assert alert is not None
        assert (alert.status, alert.resolution) == ("resolved", "remediated")
    assert client.get(f"/api/v1/alerts/{alert_id}", headers=people["carl"]).json()["evidence_linked"] == 2
