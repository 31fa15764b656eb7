"""A valid AlertNotice; tests change only what they are about."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from collector.alert_delivery.notice import AlertNotice

FIRST_SEEN = datetime(2025, 3, 4, 9, 15, 0, tzinfo=UTC)
LAST_SEEN = datetime(2025, 3, 4, 11, 42, 30, 250_000, tzinfo=UTC)


def make_notice(**overrides: Any) -> AlertNotice:
    notice = AlertNotice(
        alert_id=42,
        rule_id="8f2c1a9e-5b7d-4c3e-9a10-2f6b8d4e7c11",
        title="Source code pasted into a public AI tool",
        level="high",
        status="open",
        tool_id="openai-chatgpt",
        tool_name="ChatGPT",
        subject="user:7d3f9a",
        count=3,
        first_seen=FIRST_SEEN,
        last_seen=LAST_SEEN,
        labels=("source_code", "credentials"),
        entity_types=("API_KEY", "EMAIL_ADDRESS"),
        console_url="https://shadowscope.example.com/alerts/42",
    )
    return replace(notice, **overrides)
