"""Turning detection rules' case events into real events on the wire, and reading back the alerts they raised."""

from __future__ import annotations

import uuid
from collections.abc import Sequence
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.models import Alert, AlertEvent
from collector.policy import SubjectKind, ToolStatus, change
from collector.runtime import Runtime
from rules.detection_schema import CaseEvent
from tests.conftest import Keys
from tests.factories import batch, network_event

URL = "/api/v1/batches"
TEXT_HMAC = "ab" * 32


def findings(labels: Sequence[str], entity_types: Sequence[str] = (), length: int = 120) -> dict[str, Any]:
    return {
        "labels": list(labels),
        "entity_counts": dict.fromkeys(entity_types, 1),
        "text_hmac": TEXT_HMAC,
        "text_length": length,
    }


def wire_event(case: CaseEvent) -> dict[str, Any]:
    """The event a sensor or browser extension would send for a case event; browser content as device findings."""
    at = case.at.isoformat()
    if case.kind == "network_usage":
        return network_event(
            client_ip=case.client,
            tool_id=case.tool_id,
            server_name="chatgpt.com" if case.tool_id else None,
            signals=["dns", "tls_sni"] if case.tool_id else ["ech"],
            bytes_up=case.bytes_up,
            first_seen=at,
            last_seen=at,
        )
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "kind": case.kind,
        "device_id": case.source_id,
        "user": case.client,
        "tool_id": case.tool_id,
        "host": "chatgpt.com" if case.tool_id else "chat.unlisted-ai.example",
        "occurred_at": at,
    }
    if case.kind in ("prompt", "paste"):
        event["findings"] = findings([str(label) for label in case.labels], case.entity_types)
    elif case.kind == "upload":
        event |= {"file_name": "board-pack.pdf", "file_size": case.bytes_up, "file_sha256": "cd" * 32}
        if case.labels or case.entity_types:
            event["findings"] = findings([str(label) for label in case.labels], case.entity_types)
    return event


def token_for(keys: Keys, event: dict[str, Any]) -> str:
    return keys.sensor if event["kind"] == "network_usage" else keys.browser


def send(client: TestClient, keys: Keys, *events: dict[str, Any], body: dict[str, Any] | None = None) -> Any:
    body = body or batch(*events)
    response = client.post(URL, json=body, headers=keys.header(token_for(keys, body["events"][0])))
    assert response.status_code in (200, 201), response.text
    return response.json()


def set_status(runtime: Runtime, tool_id: str | None, status: str) -> None:
    if tool_id is None:
        assert status == "unsanctioned", "an uncatalogued site has the default status"
        return
    with runtime.sessions.begin() as session:
        change(session, SubjectKind.TOOL, tool_id, ToolStatus(status), actor="test", reason=None)


def alerts(runtime: Runtime, rule_id: str | None = None) -> list[Alert]:
    with runtime.sessions() as session:
        query = select(Alert).order_by(Alert.first_seen, Alert.id)
        if rule_id is not None:
            query = query.where(Alert.rule_id == rule_id)
        return list(session.scalars(query))


def evidence(runtime: Runtime, alert_id: int) -> list[uuid.UUID]:
    with runtime.sessions() as session:
        return list(
            session.scalars(select(AlertEvent.event_id).where(AlertEvent.alert_id == alert_id).order_by(AlertEvent.id))
        )
