"""Alerts raised as events are stored: folding repeats, evidence, closed alerts, re-sent batches, first use."""

from __future__ import annotations

import threading
import uuid
from datetime import timedelta
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select, update

from collector.alerts import on_ingest
from collector.alerts.recording import EVIDENCE_LIMIT
from collector.app import create_app
from collector.ingest import ingest_batch
from collector.keys import Principal, Scope, authenticate, create_key
from collector.models import Alert, AuditEntry
from collector.policy import SubjectKind, ToolStatus, change
from collector.runtime import Runtime
from collector.settings import CollectorSettings
from events.models import EventBatch
from tests.collector.alerts.support import alerts, evidence, findings, send, set_status
from tests.conftest import Keys
from tests.factories import batch, network_event, now, prompt_event

SENSITIVE = "874f5ad6-f0c4-4e09-8813-b21f6dc6651e"  # personal, health or card data to an unsanctioned tool
FIRST_USE = "9b0e4c56-7263-4c0c-9135-c1672f264396"


def labelled(labels: list[str], entities: list[str], **overrides: Any) -> dict[str, Any]:
    event = prompt_event(findings=findings(labels, entities), **overrides)
    del event["text"]
    return event


def test_repeats_within_the_suppression_window_fold_into_one_alert_with_merged_labels_and_evidence(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    start = now() - timedelta(hours=5)
    sent = [
        labelled(["pii"], ["email_address"], occurred_at=start.isoformat()),
        labelled(["phi"], ["medical_record_number"], occurred_at=(start + timedelta(hours=1)).isoformat()),
    ]
    send(client, keys, sent[0])
    send(client, keys, sent[1])
    later = labelled(["pii", "payment_card"], ["credit_card"], occurred_at=(start + timedelta(hours=4)).isoformat())
    send(client, keys, later)

    [alert] = alerts(runtime, SENSITIVE)
    assert alert.event_count == 3
    assert alert.labels == ["payment_card", "phi", "pii"]
    assert alert.entity_types == ["credit_card", "email_address", "medical_record_number"]
    assert (alert.client, alert.tool_id, alert.source_id) == ("j.doe", "openai-chatgpt", "laptop-0001")
    assert alert.group_key == '{"client":"j.doe","tool_id":"openai-chatgpt"}'
    assert (alert.first_seen, alert.last_seen) == (start, start + timedelta(hours=4))
    assert evidence(runtime, alert.id) == [uuid.UUID(e["event_id"]) for e in [*sent, later]]
    with runtime.sessions() as session:
        created = session.scalars(
            select(AuditEntry).where(AuditEntry.subject_kind == "alert", AuditEntry.subject_id == str(alert.id))
        ).all()
    assert [(entry.actor, entry.action, entry.to_value) for entry in created] == [("system", "alert.created", "high")]


def test_evidence_stops_at_the_limit_while_the_count_goes_on(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    many = EVIDENCE_LIMIT + 10
    start = now() - timedelta(hours=2)
    events = [labelled(["pii"], [], occurred_at=(start + timedelta(seconds=i)).isoformat()) for i in range(many)]
    send(client, keys, *events[:5])
    send(client, keys, *events[5:])

    [alert] = alerts(runtime, SENSITIVE)
    assert alert.event_count == many
    assert evidence(runtime, alert.id) == [uuid.UUID(e["event_id"]) for e in events[:EVIDENCE_LIMIT]]


def test_a_closed_alert_takes_no_repeats_a_new_alert_is_raised(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    send(client, keys, labelled(["pii"], [], occurred_at=(now() - timedelta(hours=2)).isoformat()))
    [first] = alerts(runtime, SENSITIVE)
    with runtime.sessions.begin() as session:
        session.execute(update(Alert).where(Alert.id == first.id).values(status="dismissed", resolution="benign"))

    send(client, keys, labelled(["pii"], [], occurred_at=(now() - timedelta(hours=1)).isoformat()))

    closed, raised = alerts(runtime, SENSITIVE)
    assert (closed.id, closed.event_count, closed.status) == (first.id, 1, "dismissed")
    assert (raised.event_count, raised.status) == (1, "new")


def test_a_resent_batch_or_event_raises_and_counts_nothing_twice(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    old, new = labelled(["pii"], []), labelled(["phi"], [])
    body = batch(old)
    send(client, keys, body=body)
    send(client, keys, body=body)  # the same batch again
    send(client, keys, old, new)  # the old event again, with a new one, in a new batch

    [alert] = alerts(runtime, SENSITIVE)
    assert alert.event_count == 2
    assert evidence(runtime, alert.id) == [uuid.UUID(old["event_id"]), uuid.UUID(new["event_id"])]
    assert len(alerts(runtime, FIRST_USE)) == 1


def test_a_sanctioned_tool_or_an_unlabelled_prompt_raises_nothing(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    set_status(runtime, "openai-chatgpt", "sanctioned")
    send(client, keys, labelled(["pii"], []), labelled([], []))

    assert alerts(runtime, SENSITIVE) == []


def test_the_first_use_of_a_tool_alerts_once_whoever_uses_it_next(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    send(client, keys, network_event(tool_id="deepseek-chat", client_ip="10.0.0.5"))
    send(client, keys, network_event(tool_id="deepseek-chat", client_ip="10.0.0.6"))
    send(client, keys, labelled([], [], tool_id="deepseek-chat", user="someone.else"))
    send(client, keys, network_event(tool_id="anthropic-claude"))

    first_uses = alerts(runtime, FIRST_USE)
    assert [(alert.tool_id, alert.client, alert.event_count, alert.severity) for alert in first_uses] == [
        ("deepseek-chat", "10.0.0.5", 1, "low"),
        ("anthropic-claude", "10.1.2.3", 1, "low"),
    ]


def test_a_batch_of_usage_of_tools_already_seen_costs_no_query(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    send(client, keys, network_event())  # the tool is seen (and its first use alerted)
    prepared = runtime.rows.prepare(EventBatch.model_validate(batch(*(network_event() for _ in range(100)))).events)
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    event.listen(runtime.engine, "before_cursor_execute", count)
    try:
        with runtime.sessions() as session:
            raised = on_ingest.evaluate_new_events(session, 0, prepared.events, all_new=True, catalog=runtime.catalog)
    finally:
        event.remove(runtime.engine, "before_cursor_execute", count)
    assert (raised, statements) == (0, [])


def authenticate_sensor(runtime: Runtime, keys: Keys) -> Principal:
    with runtime.sessions.begin() as session:
        return authenticate(session, keys.sensor, now())


def _store_at_once(runtime: Runtime, principal: Principal, bodies: list[EventBatch]) -> list[BaseException]:
    """Ingest the batches from one thread each, released together; the errors they raised."""
    start = threading.Barrier(len(bodies))
    errors: list[BaseException] = []

    def store(body: EventBatch) -> None:
        start.wait()
        try:
            ingest_batch(runtime.sessions, principal, body, runtime.rows, runtime.catalog)
        except BaseException as error:  # noqa: BLE001 - reported by the caller's assertion
            errors.append(error)

    threads = [threading.Thread(target=store, args=(body,)) for body in bodies]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    return errors


def test_workers_storing_a_new_tool_at_once_raise_one_first_use_alert(runtime: Runtime, keys: Keys) -> None:
    principal = authenticate_sensor(runtime, keys)
    tools = ["deepseek-chat", "mistral-le-chat", "perplexity", "xai-grok"]
    for tool_id in tools:
        bodies = [EventBatch.model_validate(batch(network_event(tool_id=tool_id))) for _ in range(4)]
        assert _store_at_once(runtime, principal, bodies) == []

    assert sorted(alert.tool_id or "" for alert in alerts(runtime, FIRST_USE)) == sorted(tools)


OVERLAY = """\
schema: shadowscope/catalog/v1
tools:
  - id: acme-llm
    name: ACME LLM
    vendor: ACME
    kind: api
    category: model_hosting_and_api_gateways
    exact: [llm.acme.internal]
examples:
  match: {llm.acme.internal: acme-llm}
  no_match: [acme.internal]
"""


def test_tool_status_on_ingest_uses_the_deployments_catalog_overlays(tmp_path: Path, database_url: str) -> None:
    # The deployment's own tool sits in a category the policy sanctions: no alert. Were the shipped catalog used,
    # the tool would have no category, fall to the default (unsanctioned) and raise one.
    overlay = tmp_path / "ours.yaml"
    overlay.write_text(OVERLAY)
    settings = CollectorSettings(
        data_dir=tmp_path / "data", database_url=database_url, catalog_overlays=(overlay,), classify_content=False
    )
    with TestClient(create_app(settings)) as client:
        runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
        with runtime.sessions.begin() as session:
            token = create_key(session, Scope.BROWSER, None, "gateway").token
            change(
                session,
                SubjectKind.CATEGORY,
                "model_hosting_and_api_gateways",
                ToolStatus.SANCTIONED,
                actor="test",
                reason="our own gateway",
            )
        body = batch(labelled(["pii"], ["email_address"], tool_id="acme-llm"))
        response = client.post("/api/v1/batches", json=body, headers={"Authorization": f"Bearer {token}"})
        assert response.status_code == 201, response.text
        assert alerts(runtime, SENSITIVE) == []
