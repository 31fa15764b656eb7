"""Shared fixtures: a collector app on SQLite and on a real PostgreSQL, and API keys for each scope."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from pytest_postgresql.janitor import DatabaseJanitor

from collector.app import create_app
from collector.keys import Scope, create_key
from collector.runtime import Runtime
from collector.settings import CollectorSettings
from tests.factories import SENSOR_ID
from tests.support.postgres_server import ENABLE_HINT, PostgresServer, find_bin_dir, running_server


@pytest.fixture(autouse=True)
def _no_scheduler_unless_asked(monkeypatch: pytest.MonkeyPatch) -> None:
    """Apps built in tests start no scheduler threads; a test that wants one passes run_scheduler=True."""
    monkeypatch.setenv("SHADOWSCOPE_COLLECTOR_RUN_SCHEDULER", "false")


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    bin_dir = find_bin_dir()
    if bin_dir is None:
        pytest.skip(f"PostgreSQL server binaries not found: {ENABLE_HINT}")
    with running_server(bin_dir) as server:
        yield server


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """Each test that asks for a database runs twice: on SQLite and on a fresh PostgreSQL database."""
    if request.param == "sqlite":
        yield f"sqlite+pysqlite:///{tmp_path / 'collector.db'}"
        return
    server: PostgresServer = request.getfixturevalue("postgres_server")
    dbname = f"test_{uuid.uuid4().hex[:12]}"
    with DatabaseJanitor(user=server.user, host=server.host, port=server.port, dbname=dbname):
        yield server.url(dbname)


@pytest.fixture
def settings(tmp_path: Path, database_url: str) -> CollectorSettings:
    return CollectorSettings(data_dir=tmp_path / "data", database_url=database_url)


@pytest.fixture
def client(settings: CollectorSettings) -> Iterator[TestClient]:
    with TestClient(create_app(settings)) as test_client:
        yield test_client


@pytest.fixture
def runtime(client: TestClient) -> Runtime:
    runtime: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return runtime


@dataclass(frozen=True)
class Keys:
    sensor: str
    browser: str
    read: str
    sensor_key_id: str

    @staticmethod
    def header(token: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {token}"}


@pytest.fixture
def keys(runtime: Runtime) -> Keys:
    with runtime.sessions.begin() as session:
        sensor = create_key(session, Scope.SENSOR, SENSOR_ID, "test sensor")
        browser = create_key(session, Scope.BROWSER, None, "test gateway")
        read = create_key(session, Scope.READ, None, "test reader")
    return Keys(sensor=sensor.token, browser=browser.token, read=read.token, sensor_key_id=sensor.key_id)
