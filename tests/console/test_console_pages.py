"""The web console over TestClient, on SQLite and PostgreSQL: every page for every role, sign-in and its redirects,
triage through the forms (and the refusals), escaping of hostile names, and no raw prompt text on any page."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.accounts import users
from collector.accounts.roles import Role
from collector.app import create_app
from collector.keys import Scope, create_key
from collector.models import Alert, AlertEvent, AuditEntry, DailyUsage, StoredEvent
from collector.runtime import Runtime
from collector.settings import CollectorSettings
from tests import factories

PASSWORD = "correct horse battery staple"
ORIGIN = {"Origin": "http://testserver"}
EXPOSURE_RULE = "874f5ad6-f0c4-4e09-8813-b21f6dc6651e"  # Personal, health or card data to an unsanctioned tool
SECRET_TEXT = "Patient Zelda Quibbleworth, MRN 55501234, diagnosis attached"  # must never reach a page
HOSTILE = '<script>alert("x")</script>'


@dataclass
class Console:
    client: TestClient
    runtime: Runtime

    def sign_in(self, username: str) -> None:
        answer = self.client.post(
            "/console/login", data={"username": username, "password": PASSWORD}, follow_redirects=False
        )
        assert answer.status_code == 303, answer.text

    def post(self, path: str, data: dict[str, str | list[str]]) -> object:
        return self.client.post(path, data=data, headers=ORIGIN, follow_redirects=False)

    def alert(self, alert_id: int) -> Alert:
        with self.runtime.sessions() as session:
            found = session.get(Alert, alert_id)
            assert found is not None
            return found

    def audit(self, alert_id: int) -> list[AuditEntry]:
        with self.runtime.sessions() as session:
            query = select(AuditEntry).where(AuditEntry.subject_kind == "alert", AuditEntry.subject_id == str(alert_id))
            return list(session.scalars(query.order_by(AuditEntry.id)))


def _make_users(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        for name, role in (("ada", Role.ADMIN), ("rita", Role.REVIEWER), ("otto", Role.READ_ONLY)):
            users.create(session, name, role, PASSWORD, actor="system")


def _alert(runtime: Runtime, **overrides: object) -> int:
    now = factories.now()
    values: dict[str, object] = {
        "rule_id": EXPOSURE_RULE,
        "severity": "high",
        "status": "new",
        "group_key": uuid.uuid4().hex,
        "client": "j.doe",
        "tool_id": "deepseek-chat",
        "source_id": "laptop-0001",
        "first_seen": now - timedelta(hours=1),
        "last_seen": now,
        "event_count": 1,
        "labels": ["pii"],
        "entity_types": ["email_address"],
        "created_at": now,
        "updated_at": now,
    }
    values.update(overrides)
    with runtime.sessions.begin() as session:
        alert = Alert(**values)
        session.add(alert)
        session.flush()
        return alert.id


def _start(settings: CollectorSettings) -> Iterator[Console]:
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        _make_users(runtime)
        yield Console(client, runtime)
        # The overview computes its exposure figure in a thread: let it finish before the database goes.
        client.app.state.console_headline.wait(60)  # type: ignore[attr-defined]


@pytest.fixture
def console(settings: CollectorSettings) -> Iterator[Console]:
    yield from _start(settings)


@pytest.fixture
def keeping_text(settings: CollectorSettings) -> Iterator[Console]:
    """A deployment that opted in to keeping prompt text in the database."""
    yield from _start(settings.model_copy(update={"store_prompt_text": True}))


def _pages(alert_id: int) -> list[str]:
    return [
        "/console/",
        "/console/alerts",
        "/console/alerts?status=all&severity=high&client=doe",
        f"/console/alerts/{alert_id}",
        "/console/tools",
        "/console/tools?in_use=1&status=unsanctioned&q=deep",
        "/console/tools/deepseek-chat",
        "/console/producers",
    ]


def test_signed_out_visitors_are_sent_to_sign_in_and_back(console: Console) -> None:
    answer = console.client.get("/console/alerts?status=all", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/login?next=/console/alerts%3Fstatus%3Dall"
    form = console.client.get(answer.headers["location"])
    assert 'name="next" value="/console/alerts?status=all"' in form.text
    signed_in = console.client.post(
        "/console/login",
        data={"username": "rita", "password": PASSWORD, "next": "/console/alerts?status=all"},
        follow_redirects=False,
    )
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/console/alerts?status=all"
    assert console.client.get("/console/alerts?status=all").status_code == 200


def test_sign_in_refusal_and_no_open_redirect(console: Console) -> None:
    wrong = console.client.post("/console/login", data={"username": "rita", "password": "nope"})
    assert wrong.status_code == 401
    assert "wrong username or password" in wrong.text
    assert "shadowscope_session" not in wrong.headers.get("set-cookie", "")
    elsewhere = console.client.post(
        "/console/login",
        data={"username": "rita", "password": PASSWORD, "next": "https://evil.example/console/"},
        follow_redirects=False,
    )
    assert elsewhere.headers["location"] == "/console/"
    assert console.client.get("/", follow_redirects=False).headers["location"] == "/console/"


@pytest.mark.parametrize("username", ["ada", "rita", "otto"])
def test_every_page_renders_for_every_role(console: Console, username: str) -> None:
    alert_id = _alert(console.runtime)
    console.sign_in(username)
    for path in _pages(alert_id):
        answer = console.client.get(path)
        assert answer.status_code == 200, path
        assert answer.headers["content-type"].startswith("text/html")
        assert answer.headers["cache-control"] == "no-store"
        html = answer.text
        assert '<a class="skip" href="#main">' in html
        assert 'aria-current="page"' in html, path
        assert f'{username} <span class="role">' in html
        changes = re.findall(r'<form method="post" action="(/console/(?:alerts|tools)[^"]*)"', html)
        if username == "otto":
            assert changes == [], f"{path} offers read_only the forms {changes}"
        elif path == f"/console/alerts/{alert_id}":
            assert f"/console/alerts/{alert_id}/status" in changes
            assert f"/console/alerts/{alert_id}/comment" in changes
        elif path == "/console/alerts":
            assert changes == ["/console/alerts/bulk"]
        elif path == "/console/tools/deepseek-chat":
            assert changes == (["/console/tools/deepseek-chat/policy"] if username == "ada" else [])


def test_every_control_has_a_label(console: Console) -> None:
    alert_id = _alert(console.runtime)
    console.sign_in("ada")
    for path in _pages(alert_id):
        html = console.client.get(path).text
        for control in re.findall(r"<(?:input|select|textarea)\b[^>]*>", html):
            if 'type="hidden"' in control or 'type="radio"' in control:
                continue  # radios sit inside their <label>; hidden fields are not controls
            labelled = re.search(r'\bid="([^"]+)"', control)
            assert "aria-label=" in control or (labelled and f'for="{labelled.group(1)}"' in html), (path, control)
        for table in re.findall(r"<table\b.*?</table>", html, flags=re.S):
            assert "<caption>" in table, path
            assert 'scope="col"' in table, path


def test_read_only_may_look_but_not_change(console: Console) -> None:
    alert_id = _alert(console.runtime)
    console.sign_in("otto")
    for path, data in (
        (f"/console/alerts/{alert_id}/status", {"status": "triaged"}),
        (f"/console/alerts/{alert_id}/assign", {"assignee": "me"}),
        (f"/console/alerts/{alert_id}/comment", {"body": "looks fine"}),
        ("/console/alerts/bulk", {"action": "triage", "alert": [str(alert_id)]}),
        ("/console/tools/deepseek-chat/policy", {"status": "sanctioned"}),
    ):
        answer = console.client.post(path, data=data, headers=ORIGIN, follow_redirects=False)
        assert answer.status_code == 403, path
        assert "text/html" in answer.headers["content-type"]
        assert "otto (read_only) may" in answer.text
    assert console.alert(alert_id).status == "new"
    assert console.audit(alert_id) == []


def test_a_change_from_another_site_is_refused(console: Console) -> None:
    alert_id = _alert(console.runtime)
    console.sign_in("rita")
    foreign = console.client.post(
        f"/console/alerts/{alert_id}/status",
        data={"status": "triaged"},
        headers={"Origin": "https://evil.example"},
        follow_redirects=False,
    )
    assert foreign.status_code == 403
    assert console.alert(alert_id).status == "new"


def test_triage_from_new_to_resolved_with_audit_trail(console: Console) -> None:
    alert_id = _alert(console.runtime)
    console.sign_in("rita")
    page = console.client.get(f"/console/alerts/{alert_id}").text
    offered = set(re.findall(r'name="status" value="(\w+)"', page))
    assert offered == {"triaged", "escalated", "resolved", "dismissed"}

    moved = console.post(f"/console/alerts/{alert_id}/status", {"status": "triaged", "expected_status": "new"})
    assert moved.status_code == 303  # type: ignore[attr-defined]
    assert moved.headers["location"].startswith(f"/console/alerts/{alert_id}?done=status")  # type: ignore[attr-defined]
    # Closing without a resolution: refused, with the reviewer's reason kept in the form.
    refused = console.post(
        f"/console/alerts/{alert_id}/status", {"status": "resolved", "reason": "coached the person, data deleted"}
    )
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "needs a resolution" in refused.text  # type: ignore[attr-defined]
    assert "coached the person, data deleted</textarea>" in refused.text  # type: ignore[attr-defined]
    closed = console.post(
        f"/console/alerts/{alert_id}/status",
        {"status": "resolved", "resolution": "remediated", "reason": "coached the person, data deleted"},
    )
    assert closed.status_code == 303  # type: ignore[attr-defined]
    alert = console.alert(alert_id)
    assert (alert.status, alert.resolution) == ("resolved", "remediated")
    # Only the table's moves are offered now: a closed alert can only be reopened.
    page = console.client.get(f"/console/alerts/{alert_id}?done=status").text
    assert set(re.findall(r'name="status" value="(\w+)"', page)) == {"triaged"}
    assert "Status changed." in page
    trail = page[page.index('id="audit-title"') :]
    for shown in ("user:rita", "alert.status", "triaged", "resolved", "coached the person, data deleted"):
        assert shown in trail
    assert [(e.action, e.from_value, e.to_value) for e in console.audit(alert_id)] == [
        ("alert.status", "new", "triaged"),
        ("alert.status", "triaged", "resolved"),
        ("alert.resolution", None, "remediated"),
    ]
    # A stale form (it still says "new") is refused rather than applied.
    stale = console.post(f"/console/alerts/{alert_id}/status", {"status": "triaged", "expected_status": "new"})
    assert stale.status_code == 409  # type: ignore[attr-defined]


def test_assign_and_comment(console: Console) -> None:
    alert_id = _alert(console.runtime)
    console.sign_in("rita")
    assert console.post(f"/console/alerts/{alert_id}/assign", {"assignee": "me"}).status_code == 303  # type: ignore[attr-defined]
    assert console.post(f"/console/alerts/{alert_id}/assign", {"assignee": "ada"}).status_code == 303  # type: ignore[attr-defined]
    refused = console.post(f"/console/alerts/{alert_id}/assign", {"assignee": "otto"})
    assert refused.status_code == 422  # type: ignore[attr-defined]
    assert "cannot triage" in refused.text  # type: ignore[attr-defined]
    assert console.post(f"/console/alerts/{alert_id}/comment", {"body": "Asked j.doe's manager"}).status_code == 303  # type: ignore[attr-defined]
    empty = console.post(f"/console/alerts/{alert_id}/comment", {"body": "   "})
    assert empty.status_code == 422  # type: ignore[attr-defined]
    page = console.client.get(f"/console/alerts/{alert_id}").text
    assert "Asked j.doe&#39;s manager" in page
    assert [(e.action, e.from_value, e.to_value) for e in console.audit(alert_id)][:2] == [
        ("alert.assigned", None, "rita"),
        ("alert.assigned", "rita", "ada"),
    ]
    queue = console.client.get("/console/alerts?assignee=ada").text
    assert f"/console/alerts/{alert_id}" in queue
    assert f"/console/alerts/{alert_id}" not in console.client.get("/console/alerts?assignee=unassigned").text


def test_queue_filters_and_tabs(console: Console) -> None:
    mine = _alert(console.runtime, client="m.curie", severity="critical")
    other = _alert(console.runtime, client="10.1.2.3", tool_id="openai-chatgpt", severity="low")
    closed = _alert(console.runtime, client="m.curie", status="dismissed", resolution="false_positive")
    console.sign_in("otto")

    def shown(query: str) -> set[int]:
        html = console.client.get(f"/console/alerts?{query}").text
        return {int(found) for found in re.findall(r'href="/console/alerts/(\d+)', html)}

    assert shown("") == {mine, other}  # the default tab is the open alerts
    assert shown("client=curie") == {mine}
    assert shown("status=all&client=curie") == {mine, closed}
    assert shown("status=dismissed") == {closed}
    assert shown("severity=low") == {other}
    assert shown("tool=openai-chatgpt") == {other}
    assert shown("status=bogus&severity=bogus") == {mine, other}  # unknown values fall back, never a 500
    tabs = console.client.get("/console/alerts?client=curie").text
    assert re.search(r'Open <span class="count">1</span>', tabs)
    assert re.search(r'All <span class="count">2</span>', tabs)


def test_bulk_actions_are_all_or_nothing(console: Console) -> None:
    first, second = _alert(console.runtime), _alert(console.runtime, client="a.n.other")
    console.sign_in("rita")
    refused = console.post(
        "/console/alerts/bulk", {"action": "dismiss", "alert": [str(first), str(second)], "reason": "noise"}
    )
    assert refused.status_code == 409  # type: ignore[attr-defined]
    html = refused.text  # type: ignore[attr-defined]
    assert "nothing was changed" in html
    assert f'value="{first}" form="bulk" id="sel-{first}" aria-label="Select alert {first}" checked' in html
    assert 'value="noise"' in html
    nothing = console.post("/console/alerts/bulk", {"action": "dismiss"})
    assert nothing.status_code == 422  # type: ignore[attr-defined]
    done = console.post(
        "/console/alerts/bulk",
        {"action": "dismiss", "resolution": "false_positive", "alert": [str(first), str(second)], "back": "client=a"},
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    assert done.headers["location"] == "/console/alerts?client=a&done=bulk"  # type: ignore[attr-defined]
    assert {console.alert(first).status, console.alert(second).status} == {"dismissed"}
    assigned = console.post("/console/alerts/bulk", {"action": "assign_me", "alert": [str(first)]})
    assert assigned.status_code == 303  # type: ignore[attr-defined]


def test_hostile_names_are_escaped(console: Console) -> None:
    alert_id = _alert(console.runtime, client=HOSTILE, tool_id=HOSTILE, source_id=HOSTILE, labels=[HOSTILE])
    with console.runtime.sessions.begin() as session:
        session.add(
            DailyUsage(day=factories.now().date(), tool_id=HOSTILE, kind="visit", events=3, clients=1, bytes_up=0)
        )
    console.sign_in("rita")
    assert console.post(f"/console/alerts/{alert_id}/comment", {"body": HOSTILE}).status_code == 303  # type: ignore[attr-defined]
    for path in ("/console/", "/console/alerts", f"/console/alerts/{alert_id}", "/console/alerts?client=%3Cscript"):
        html = console.client.get(path).text
        assert "<script>alert" not in html, path
        assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in html, path


def test_no_raw_prompt_text_on_any_page_even_when_stored(keeping_text: Console) -> None:
    console = keeping_text
    with console.runtime.sessions.begin() as session:
        browser = create_key(session, Scope.BROWSER, None, "gateway")
    event = factories.prompt_event(tool_id="deepseek-chat", host="chat.deepseek.com", text=SECRET_TEXT)
    stored = console.client.post(
        "/api/v1/batches", json=factories.batch(event), headers={"Authorization": f"Bearer {browser.token}"}
    )
    assert stored.status_code in (200, 201), stored.text
    with console.runtime.sessions() as session:
        row = session.scalar(select(StoredEvent).where(StoredEvent.event_id == uuid.UUID(event["event_id"])))
        assert row is not None
        assert row.detail.get("text") == SECRET_TEXT  # the deployment kept it...
    alert_id = _alert(console.runtime)
    with console.runtime.sessions.begin() as session:
        session.add(AlertEvent(alert_id=alert_id, event_id=uuid.UUID(event["event_id"])))
    console.sign_in("ada")
    for path in _pages(alert_id):
        html = console.client.get(path).text
        for part in ("Zelda", "Quibbleworth", "55501234"):  # ...and no page shows any of it
            assert part not in html, path
    detail = console.client.get(f"/console/alerts/{alert_id}").text
    assert "chat.deepseek.com" in detail  # the evidence row is there, reduced to its facts


def test_overview_shows_tools_trend_alerts_and_exposure(console: Console) -> None:
    today = datetime.now(UTC).date()
    with console.runtime.sessions.begin() as session:
        # A rolled-up past day and a live one: both count towards the tool's events.
        session.add(
            DailyUsage(
                day=today - timedelta(days=3),
                tool_id="deepseek-chat",
                kind="prompt",
                events=40,
                clients=7,
                bytes_up=4096,
            )
        )
        sensor = create_key(session, Scope.SENSOR, factories.SENSOR_ID, "tap")
    console.client.post(
        "/api/v1/batches",
        json=factories.batch(factories.network_event(tool_id="deepseek-chat")),
        headers={"Authorization": f"Bearer {sensor.token}"},
    ).raise_for_status()
    _alert(console.runtime)
    console.sign_in("otto")
    first = console.client.get("/console/").text
    assert "DeepSeek" in first
    row = re.search(r'href="/console/tools/deepseek-chat">[^<]+</a>[^\n]*?</th>(.*?)</tr>', first, flags=re.S)
    assert row is not None
    cells = row.group(1)
    assert ">41</td>" in cells  # 40 rolled up + 1 live
    assert ">7</td>" in cells  # 7 people on the busiest day
    assert "Unsanctioned" in row.group(1)
    assert 'class="bar-unsanctioned"' in first
    assert "Personal, health or card data sent to an unsanctioned AI tool" in first
    console.client.app.state.console_headline.wait(60)  # type: ignore[attr-defined]
    again = console.client.get("/console/").text
    assert "a year (P90" in again  # computed in the background, then shown with when it was computed
    assert "/api/v1/reports/exposure?format=pdf" in again


def test_producers_page_lists_sensors_with_health(console: Console) -> None:
    with console.runtime.sessions.begin() as session:
        sensor = create_key(session, Scope.SENSOR, factories.SENSOR_ID, "tap")
    now = factories.now()
    heartbeat = {
        "producer_id": factories.SENSOR_ID,
        "kind": "sensor",
        "version": "0.1.0",
        "sent_at": now.isoformat(),
        "spool_batches": 3,
        "spool_bytes": 2048,
        "oldest_spooled_at": (now - timedelta(minutes=20)).isoformat(),
    }
    answer = console.client.post(
        "/api/v1/heartbeats", json=heartbeat, headers={"Authorization": f"Bearer {sensor.token}"}
    )
    assert answer.status_code in (200, 201, 202, 204), answer.text
    console.sign_in("otto")
    html = console.client.get("/console/producers").text
    row = re.search(rf"{factories.SENSOR_ID}</th>(.*?)</tr>", html, flags=re.S)
    assert row is not None
    for shown in ("Lagging", "20 min", ">3</td>", "2.0 KB"):
        assert shown in row.group(1)
    assert factories.SENSOR_ID in console.client.get("/console/producers?status=lagging&kind=sensor").text
    assert factories.SENSOR_ID not in console.client.get("/console/producers?status=ok").text


def test_policy_change_from_the_tool_page(console: Console) -> None:
    console.sign_in("ada")
    done = console.post(
        "/console/tools/deepseek-chat/policy", {"status": "sanctioned", "reason": "enterprise contract"}
    )
    assert done.status_code == 303  # type: ignore[attr-defined]
    page = console.client.get("/console/tools/deepseek-chat?done=policy").text
    assert "Policy changed" in page
    assert re.search(
        r'badge status-sanctioned">Sanctioned</span> <span class="small">decided by tool deepseek-chat', page
    )


def test_sign_out_ends_the_session(console: Console) -> None:
    console.sign_in("rita")
    out = console.post("/console/logout", {})
    assert out.status_code == 303  # type: ignore[attr-defined]
    assert console.client.get("/console/", follow_redirects=False).status_code == 303


def test_assignee_list_offers_only_people_who_may_triage(console: Console) -> None:
    alert_id = _alert(console.runtime)
    console.sign_in("rita")
    page = console.client.get(f"/console/alerts/{alert_id}").text
    options = re.findall(r'<option value="(\w+)"', page[page.index('id="a-assignee"') :].split("</select>")[0])
    assert options == ["ada", "rita"]  # otto is read_only
