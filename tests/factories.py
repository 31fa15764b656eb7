"""Builders for valid contract objects; tests change only what they are about."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

SENSOR_ID = "tap-test-01"


def now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def network_event(**overrides: Any) -> dict[str, Any]:
    start = now() - timedelta(minutes=5)
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "kind": "network_usage",
        "sensor_id": SENSOR_ID,
        "client_ip": "10.1.2.3",
        "server_ip": "104.18.32.47",
        "server_port": 443,
        "transport": "tcp",
        "tool_id": "openai-chatgpt",
        "server_name": "chatgpt.com",
        "signals": ["dns", "tls_sni"],
        "bytes_up": 1200,
        "bytes_down": 5400,
        "packets_up": 4,
        "packets_down": 7,
        "first_seen": start.isoformat(),
        "last_seen": (start + timedelta(seconds=30)).isoformat(),
    }
    event.update(overrides)
    return event


def prompt_event(**overrides: Any) -> dict[str, Any]:
    event: dict[str, Any] = {
        "event_id": str(uuid.uuid4()),
        "kind": "prompt",
        "device_id": "laptop-0001",
        "user": "j.doe",
        "tool_id": "openai-chatgpt",
        "host": "chatgpt.com",
        "occurred_at": now().isoformat(),
        "text": "Summarise the attached customer list for jane@example.com",
    }
    event.update(overrides)
    return event


def batch(*events: dict[str, Any], **overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "schema_version": "1.0",
        "batch_id": str(uuid.uuid4()),
        "sent_at": now().isoformat(),
        "events": list(events) if events else [network_event()],
    }
    body.update(overrides)
    return body
