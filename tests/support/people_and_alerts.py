"""Test builders for accounts and alerts: users who sign in, and alerts inserted as rows (with their evidence), so the
workflow and its API are tested without running the detection rules."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from sqlalchemy.orm import Session

from collector.accounts import passwords, users
from collector.accounts.roles import Role
from collector.keys import Scope, create_key
from collector.models import Alert, AlertEvent, ApiKey, IngestBatch, StoredEvent
from collector.runtime import Runtime

PASSWORD = "correct horse battery staple"  # a test account's password
ORIGIN = {"Origin": "http://testserver"}  # what a browser on the console's own pages sends
RAW_TEXT = "Employee SSN 536-22-8741 for jane@example.com"


def cheap_password_hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """Argon2id still, with the smallest cost: the production parameters take about half a second per hash, and
    these tests hash for every user they create and every sign-in."""
    monkeypatch.setattr(passwords, "_hasher", PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


def create_user(runtime: Runtime, username: str, role: Role, password: str = PASSWORD) -> int:
    with runtime.sessions.begin() as session:
        return users.create(session, username, role, password, actor="test").id


def sign_in(client: TestClient, username: str, password: str = PASSWORD) -> dict[str, str]:
    """A Bearer header for a new session of `username` (the client also keeps the cookie)."""
    response = client.post("/api/v1/session", json={"username": username, "password": password})
    assert response.status_code == 201, response.text
    return {"Authorization": f"Bearer {response.json()['token']}"}


def key_header(runtime: Runtime, scope: Scope, sensor_id: str | None = None) -> dict[str, str]:
    with runtime.sessions.begin() as session:
        token = create_key(session, scope, sensor_id, f"test {scope}").token
    return {"Authorization": f"Bearer {token}"}


@dataclass
class AlertRows:
    """Inserts alerts with evidence events; one ingest batch (and its key) carries every event."""

    session: Session
    rule_id: str
    start: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    _batch_id: int | None = None

    def _batch(self) -> int:
        if self._batch_id is None:
            key = ApiKey(key_id=uuid.uuid4().hex[:12], secret_sha256="0" * 64, scope="browser")
            self.session.add(key)
            self.session.flush()
            batch = IngestBatch(
                batch_id=uuid.uuid4(),
                api_key_id=key.id,
                schema_version="1.0",
                sent_at=self.start,
                event_count=0,
                stored_count=0,
            )
            self.session.add(batch)
            self.session.flush()
            self._batch_id = batch.id
        return self._batch_id

    def event(self, *, detail: dict[str, Any] | None = None, **columns: Any) -> StoredEvent:
        values: dict[str, Any] = {
            "event_id": uuid.uuid4(),
            "batch_id": self._batch(),
            "kind": "prompt",
            "source_id": "laptop-0001",
            "client": "j.doe",
            "tool_id": "openai-chatgpt",
            "occurred_at": self.start,
            "last_seen": self.start,
            "bytes_up": len(RAW_TEXT),
            "detail": detail if detail is not None else classified_detail(),
        }
        values.update(columns)
        event = StoredEvent(**values)
        self.session.add(event)
        self.session.flush()
        return event

    def alert(self, *, evidence: int = 1, minutes_ago: int = 0, **columns: Any) -> Alert:
        last_seen = self.start - timedelta(minutes=minutes_ago)
        values: dict[str, Any] = {
            "rule_id": self.rule_id,
            "severity": "high",
            "group_key": '["j.doe","openai-chatgpt"]',
            "client": "j.doe",
            "tool_id": "openai-chatgpt",
            "source_id": "laptop-0001",
            "first_seen": last_seen - timedelta(minutes=5),
            "last_seen": last_seen,
            "event_count": evidence,
            "labels": ["pii"],
            "entity_types": ["email_address", "us_ssn"],
            "created_at": last_seen,
            "updated_at": last_seen,
        }
        values.update(columns)
        alert = Alert(**values)
        self.session.add(alert)
        self.session.flush()
        for index in range(evidence):
            event = self.event(
                client=alert.client or "j.doe",
                tool_id=alert.tool_id,
                occurred_at=last_seen - timedelta(seconds=index),
                last_seen=last_seen - timedelta(seconds=index),
            )
            self.session.add(AlertEvent(alert_id=alert.id, event_id=event.event_id))
        self.session.flush()
        return alert


def classified_detail(text: str | None = RAW_TEXT) -> dict[str, Any]:
    """A prompt's detail as the collector stores it when classifying; `text` only where a deployment opted in."""
    detail: dict[str, Any] = {
        "host": "chatgpt.com",
        "text_hmac": "a" * 64,
        "text_length": len(RAW_TEXT),
        "classification": {
            "labels": ["pii"],
            "scores": {"pii": 0.98},
            "entity_counts": {"us_ssn": 1, "email_address": 1},
            "snippet": "Employee SSN <US_SSN> for <EMAIL_ADDRESS>",
        },
    }
    if text is not None:
        detail["text"] = text
    return detail
