"""Prompt and paste text is classified on arrival; what is stored is labels, counts and a redacted snippet."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.models import StoredEvent
from collector.runtime import Runtime
from tests.conftest import Keys
from tests.factories import batch, prompt_event

URL = "/api/v1/batches"
SECRET_TEXT = (
    "Please draft a letter to Priya Raman, mobile (415) 555-0198, SSN 536-22-8741: her claim for "
    "type 2 diabetes treatment was denied."
)


def _stored(runtime: Runtime) -> list[StoredEvent]:
    with runtime.sessions() as session:
        return list(session.scalars(select(StoredEvent).order_by(StoredEvent.id)))


def _database_dump(runtime: Runtime) -> str:
    with runtime.engine.connect() as connection:
        return " ".join(str(row) for row in connection.exec_driver_sql("SELECT * FROM events"))


def test_when_a_prompt_with_personal_data_arrives_then_labels_and_a_redacted_snippet_are_stored_not_the_text(
    client: TestClient, keys: Keys, runtime: Runtime, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    response = client.post(URL, json=batch(prompt_event(text=SECRET_TEXT)), headers=keys.header(keys.browser))

    assert response.status_code in (200, 201), response.text
    classification: dict[str, Any] = _stored(runtime)[0].detail["classification"]
    assert set(classification["labels"]) == {"pii", "phi"}
    assert classification["scores"]["pii"] >= 0.5
    assert classification["entity_counts"]["US_SSN"] == 1
    assert "<US_SSN>" in classification["snippet"]
    assert "<PHONE_NUMBER>" in classification["snippet"]
    for fragment in ("536-22-8741", "555-0198", "Priya", "Raman"):
        assert fragment not in _database_dump(runtime)
        assert fragment not in caplog.text


def test_when_ordinary_prompts_arrive_then_they_carry_no_label_and_no_snippet(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    events = [prompt_event(text=text) for text in ("What is an NDA?", "Plan a trip to Lisbon for two.")]
    client.post(URL, json=batch(*events), headers=keys.header(keys.browser))

    for event in _stored(runtime):
        assert event.detail["classification"]["labels"] == []
        assert "snippet" not in event.detail["classification"]


def test_when_a_paste_is_classified_then_each_event_of_the_batch_gets_its_own_result(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    events = [
        prompt_event(kind="paste", text="stripe.api_key = 'sk_live_8mgzmT44DGp0Zx72nG4SAl8Lntd0wIjF'"),
        prompt_event(text="Employee SSN: 536-22-8741"),
        prompt_event(text="Thanks!"),
    ]
    client.post(URL, json=batch(*events), headers=keys.header(keys.browser))

    labels = [event.detail["classification"]["labels"] for event in _stored(runtime)]
    assert labels == [["credentials"], ["pii"], []]
