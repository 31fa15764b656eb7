"""Alerts carry labels, entity types and links to evidence, never the text — even where the deployment keeps it."""

from __future__ import annotations

from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from collector.models import StoredEvent
from collector.runtime import Runtime
from collector.settings import CollectorSettings
from tests.collector.alerts.support import alerts, send
from tests.conftest import Keys
from tests.factories import prompt_event

SECRET_TEXT = (
    "Please draft a letter to Priya Raman, mobile (415) 555-0198, SSN 536-22-8741: her claim for "
    "type 2 diabetes treatment was denied."
)
FRAGMENTS = ("536-22-8741", "555-0198", "Priya", "Raman", "diabetes")
SENSITIVE = "874f5ad6-f0c4-4e09-8813-b21f6dc6651e"


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> CollectorSettings:
    return CollectorSettings(data_dir=tmp_path / "data", database_url=database_url, store_prompt_text=True)


def _table_dump(runtime: Runtime, table: str) -> str:
    with runtime.engine.connect() as connection:
        return " ".join(str(row) for row in connection.exec_driver_sql(f"SELECT * FROM {table}"))


def test_an_alert_on_a_classified_prompt_holds_its_labels_and_entity_types_but_no_text(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    send(client, keys, prompt_event(text=SECRET_TEXT))

    [alert] = alerts(runtime, SENSITIVE)
    assert set(alert.labels) == {"pii", "phi"}
    assert "US_SSN" in alert.entity_types
    with runtime.sessions() as session:
        kept = session.scalars(select(StoredEvent.detail)).one()
    assert kept["text"] == SECRET_TEXT, "this deployment keeps the text in the event"
    for table in ("alerts", "alert_events", "audit_log"):
        dump = _table_dump(runtime, table)
        assert not [fragment for fragment in FRAGMENTS if fragment in dump], table
