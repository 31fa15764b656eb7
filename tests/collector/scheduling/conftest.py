"""Fixtures for the scheduled jobs: a migrated runtime (no app, no threads) on SQLite and PostgreSQL, and rows."""

from __future__ import annotations

import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.orm import Session

from collector import migrate
from collector.models import Alert, ApiKey, IngestBatch, StoredEvent
from collector.runtime import Runtime
from collector.settings import CollectorSettings

# A fixed "now" for jobs called directly: a Wednesday in the middle of a month.
NOW = datetime(2026, 3, 18, 10, 30, tzinfo=UTC)

MakeRuntime = Callable[..., Runtime]

# A deployment's catalog overlay file adding one tool; {name} is its display name.
OVERLAY = """\
schema: shadowscope/catalog/v1
tools:
  - id: acme-llm
    name: {name}
    vendor: ACME
    kind: api
    category: model_hosting_and_api_gateways
    exact: [llm.acme.internal]
examples:
  match: {{llm.acme.internal: acme-llm}}
  no_match: [acme.internal]
"""


@pytest.fixture
def make_runtime(tmp_path: Path, database_url: str) -> Iterator[MakeRuntime]:
    """Runtimes on one migrated database, with settings overridden per call (two make two competing processes)."""
    started: list[Runtime] = []

    def make(**overrides: Any) -> Runtime:
        values: dict[str, Any] = {
            "data_dir": tmp_path / "data",
            "database_url": database_url,
            "run_scheduler": False,
            "classify_content": False,
        }
        runtime = Runtime.start(CollectorSettings(**(values | overrides)))
        if not started:
            migrate.upgrade(runtime.engine)
        started.append(runtime)
        return runtime

    yield make
    for runtime in started:
        runtime.engine.dispose()


@pytest.fixture
def runtime(make_runtime: MakeRuntime) -> Runtime:
    return make_runtime()


class Rows:
    """Inserts the rows the jobs read, with only the fields a test is about given."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self._batch: IngestBatch | None = None

    def batch(self, received_at: datetime = NOW) -> IngestBatch:
        key = ApiKey(key_id=uuid.uuid4().hex[:16], secret_sha256="0" * 64, scope="sensor")
        self.session.add(key)
        self.session.flush()
        batch = IngestBatch(
            batch_id=uuid.uuid4(),
            api_key_id=key.id,
            schema_version="1",
            sent_at=received_at,
            received_at=received_at,
            event_count=0,
            stored_count=0,
        )
        self.session.add(batch)
        self.session.flush()
        return batch

    def event(
        self,
        occurred_at: datetime,
        *,
        kind: str = "prompt",
        client: str = "ana",
        tool_id: str | None = "openai-chatgpt",
        bytes_up: int = 100,
        batch: IngestBatch | None = None,
    ) -> StoredEvent:
        if batch is None:
            self._batch = self._batch or self.batch()
            batch = self._batch
        event = StoredEvent(
            event_id=uuid.uuid4(),
            batch_id=batch.id,
            kind=kind,
            source_id="tap-1",
            client=client,
            tool_id=tool_id,
            occurred_at=occurred_at,
            last_seen=occurred_at,
            bytes_up=bytes_up,
            bytes_down=0,
            detail={},
            received_at=occurred_at,
        )
        self.session.add(event)
        self.session.flush()
        return event

    def alert(self, *, severity: str = "high", status: str = "new", at: datetime = NOW, **fields: Any) -> Alert:
        values: dict[str, Any] = {
            "rule_id": "3f1c2b7a-0000-4000-8000-000000000001",
            "severity": severity,
            "status": status,
            "group_key": '["ana"]',
            "client": "ana",
            "tool_id": "openai-chatgpt",
            "first_seen": at,
            "last_seen": at,
            "event_count": 3,
            "labels": ["source_code"],
            "entity_types": ["API_KEY"],
            "created_at": at,
            "updated_at": at,
        }
        alert = Alert(**(values | fields))
        self.session.add(alert)
        self.session.flush()
        return alert


RowsFactory = Callable[[], AbstractContextManager[Rows]]


@pytest.fixture
def rows(runtime: Runtime) -> RowsFactory:
    """`with rows() as add:` inserts in one committed transaction."""

    @contextmanager
    def open_rows() -> Iterator[Rows]:
        with runtime.sessions.begin() as session:
            yield Rows(session)

    return open_rows
