"""The ingest benchmark's workload (request bodies), its databases (SQLite, a throwaway PostgreSQL) and the
raw-insert ceiling it is compared with."""

from __future__ import annotations

import contextlib
import importlib
import json
import secrets
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Protocol

import psycopg
from process_meter import CpuMeter, CpuShares
from sqlalchemy import Engine, func, insert, select

from collector.content_hash import ContentHasher
from collector.db import build_engine
from collector.ingest import RowBuilder
from collector.keys import Scope, create_key
from collector.models import ApiKey, IngestBatch, StoredEvent
from collector.settings import load_settings
from events.models import SCHEMA_VERSION, EventBatch
from shadowscope.database import open_sessions

ROOT = Path(__file__).resolve().parents[1]
SENSOR_ID = "tap-bench"
TOOLS = (
    ("openai-chatgpt", "chatgpt.com"),
    ("anthropic-claude", "claude.ai"),
    ("google-gemini", "gemini.google.com"),
    ("microsoft-copilot", "copilot.microsoft.com"),
)


@dataclass(frozen=True)
class Limits:
    """Each measurement stops at whichever comes first: the time is up or the workload is spent."""

    seconds: float
    max_events: int
    max_batches: int
    warmup_batches_per_connection: int

    def batches_for(self, batch_size: int) -> int:
        return max(1, min(self.max_batches, self.max_events // batch_size))


# ------------------------------------------------------------------------------------------------- workload


@dataclass(frozen=True)
class Workload:
    """Ready request bodies (EventBatch JSON); the first few are held back for warming up."""

    batch_size: int
    bodies: list[bytes]
    warmup_bodies: list[bytes]

    @property
    def event_count(self) -> int:
        return self.batch_size * len(self.bodies)


def network_event(index: int, base: datetime) -> dict[str, Any]:
    tool_id, server_name = TOOLS[index % len(TOOLS)]
    first_seen = base + timedelta(milliseconds=index % 600_000)
    return {
        "event_id": str(uuid.uuid4()),
        "kind": "network_usage",
        "sensor_id": SENSOR_ID,
        "client_ip": f"10.{(index >> 16) & 255}.{(index >> 8) & 255}.{index & 255}",
        "server_ip": "104.18.32.47",
        "server_port": 443,
        "transport": "tcp",
        "tool_id": tool_id,
        "server_name": server_name,
        "signals": ["dns", "tls_sni"],
        "bytes_up": 1200 + index % 5000,
        "bytes_down": 5400 + index % 20_000,
        "packets_up": 4,
        "packets_down": 7,
        "first_seen": first_seen.isoformat(),
        "last_seen": (first_seen + timedelta(seconds=30)).isoformat(),
    }


def batch_body(events: list[dict[str, Any]], sent_at: str) -> bytes:
    body = {"schema_version": SCHEMA_VERSION, "batch_id": str(uuid.uuid4()), "sent_at": sent_at, "events": events}
    return json.dumps(body, separators=(",", ":")).encode()


def build_workload(batch_size: int, batches: int, warmup: int) -> Workload:
    base = datetime.now(UTC).replace(microsecond=0) - timedelta(minutes=15)
    sent_at = datetime.now(UTC).isoformat()
    grouped = [[network_event(b * batch_size + i, base) for i in range(batch_size)] for b in range(batches + warmup)]
    bodies = [batch_body(events, sent_at) for events in grouped]
    return Workload(batch_size, bodies[warmup:], bodies[:warmup])


# ------------------------------------------------------------------------------------------------ databases


class PostgresServer(Protocol):
    host: str
    port: int
    user: str

    def url(self, dbname: str) -> str: ...


@dataclass(frozen=True)
class Target:
    """A fresh, empty collector database: a data directory, and a URL unless it is the embedded SQLite."""

    data_dir: Path
    database_url: str | None
    database_pid: int | None = None  # the database server's main process, when it is one

    @property
    def backend(self) -> str:
        return "sqlite" if self.database_url is None else "postgresql"

    def engine(self) -> Engine:
        return build_engine(load_settings(data_dir=self.data_dir, database_url=self.database_url))


@dataclass
class Backend:
    name: str
    version: str
    new_target: Callable[[str], Target]


@contextlib.contextmanager
def sqlite_backend(scratch: Path) -> Iterator[Backend]:
    def new_target(name: str) -> Target:
        return Target(scratch / name, None)

    yield Backend("sqlite", f"SQLite {sqlite3.sqlite_version}", new_target)


def _postgres_helper() -> Any:
    """tests/support/postgres_server.py starts a throwaway server (as the postgres user when we are root)."""
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return importlib.import_module("tests.support.postgres_server")


@contextlib.contextmanager
def postgresql_backend(scratch: Path) -> Iterator[Backend | None]:
    helper = _postgres_helper()
    bin_dir = helper.find_bin_dir()
    if bin_dir is None:
        print(
            "PostgreSQL server binaries not found (looked in $SHADOWSCOPE_TEST_PG_BIN, else "
            "/usr/lib/postgresql/*/bin): SKIPPING the postgresql backend. Install them with "
            "`make system-packages` as root, or `apt-get install postgresql`.",
            file=sys.stderr,
        )
        yield None
        return
    with contextlib.ExitStack() as stack:
        try:
            server: PostgresServer = stack.enter_context(helper.running_server(bin_dir))
        except (RuntimeError, subprocess.CalledProcessError) as error:
            print(f"PostgreSQL did not start ({error}): SKIPPING the postgresql backend.", file=sys.stderr)
            yield None
            return
        version = _postgres_query(server, "SHOW server_version")
        postmaster = _postmaster_pid(server)

        def new_target(name: str) -> Target:
            _postgres_query(server, f'CREATE DATABASE "{name}"')
            return Target(scratch / name, server.url(name), postmaster)

        yield Backend("postgresql", f"PostgreSQL {version} ({bin_dir})", new_target)


def _postmaster_pid(server: PostgresServer) -> int | None:
    """The server's main process (first line of postmaster.pid), whose children are the backends; None if unknown."""
    data_directory = Path(_postgres_query(server, "SHOW data_directory"))
    with contextlib.suppress(OSError, ValueError):
        return int((data_directory / "postmaster.pid").read_text().split("\n", 1)[0])
    print("  note: PostgreSQL's main process was not found; its CPU time is not measured", file=sys.stderr)
    return None


def _postgres_query(server: PostgresServer, statement: str) -> str:
    with psycopg.connect(
        host=server.host, port=server.port, user=server.user, dbname="postgres", autocommit=True
    ) as connection:
        cursor = connection.execute(statement.encode())
        row = cursor.fetchone() if cursor.description else None
    return "" if row is None else str(row[0])


def open_backend(name: str, scratch: Path) -> contextlib.AbstractContextManager[Backend | None]:
    return sqlite_backend(scratch) if name == "sqlite" else postgresql_backend(scratch)


def count_events(target: Target) -> int:
    engine = target.engine()
    try:
        with engine.connect() as connection:
            return int(connection.execute(select(func.count()).select_from(StoredEvent.__table__)).scalar_one())
    finally:
        engine.dispose()


def issue_sensor_key(target: Target) -> str:
    """Migrate the fresh database and create a sensor key for SENSOR_ID; return its token."""
    settings = load_settings(data_dir=target.data_dir, database_url=target.database_url)
    with open_sessions(settings) as sessions, sessions.begin() as session:
        return create_key(session, Scope.SENSOR, SENSOR_ID, "ingest benchmark").token


# -------------------------------------------------------------------------------------------------- ceiling


@dataclass(frozen=True)
class CeilingResult:
    events: int
    seconds: float
    cpu: CpuShares  # "client" is this process, which does the inserting

    @property
    def events_per_s(self) -> float:
        return self.events / self.seconds


PreparedBatch = tuple[dict[str, Any], list[dict[str, Any]]]


def _ceiling_rows(bodies: list[bytes], api_key_pk: int, first: int) -> list[PreparedBatch]:
    """The rows the collector would store for these bodies, made by its own RowBuilder (untimed)."""
    rows = RowBuilder(hasher=ContentHasher(secrets.token_bytes(32)), keep_prompt_text=False)
    prepared = []
    for number, body in enumerate(bodies, start=first):
        batch = EventBatch.model_validate_json(body)
        batch_row = {
            "id": number,
            "batch_id": batch.batch_id,
            "api_key_id": api_key_pk,
            "sent_at": batch.sent_at,
            "schema_version": batch.schema_version,
            "event_count": len(batch.events),
            "stored_count": len(batch.events),
        }
        prepared.append((batch_row, [{**rows.row(event), "batch_id": number} for event in batch.events]))
    return prepared


def _insert_batches(engine: Engine, prepared: list[PreparedBatch], deadline: float) -> int:
    insert_batch, insert_events = insert(IngestBatch), insert(StoredEvent)
    inserted = 0
    for batch_row, rows in prepared:
        with engine.begin() as connection:
            connection.execute(insert_batch, [batch_row])
            connection.execute(insert_events, rows)
        inserted += len(rows)
        if time.perf_counter() >= deadline:
            break
    return inserted


def measure_ceiling(target: Target, workload: Workload, limits: Limits) -> CeilingResult:
    """Insert the workload's rows with SQLAlchemy Core executemany, a transaction per batch, on one connection,
    under the same bounds as the collector (time or workload spent); the warm-up batches go in first, untimed."""
    issue_sensor_key(target)
    engine = target.engine()
    try:
        with engine.connect() as connection:
            api_key_pk = int(connection.execute(select(ApiKey.id)).scalar_one())
        warmup = _ceiling_rows(workload.warmup_bodies, api_key_pk, first=1)
        timed = _ceiling_rows(workload.bodies, api_key_pk, first=len(warmup) + 1)
        warmed_up = _insert_batches(engine, warmup, deadline=float("inf"))
        meter = CpuMeter(None, target.database_pid)
        meter.begin()
        start = time.perf_counter()
        inserted = _insert_batches(engine, timed, deadline=start + limits.seconds)
        elapsed = time.perf_counter() - start
        cpu = meter.shares_since_begin(elapsed)
    finally:
        engine.dispose()
    if count_events(target) != warmed_up + inserted:
        raise RuntimeError("the ceiling run's database does not hold the rows it inserted")
    return CeilingResult(inserted, elapsed, cpu)
