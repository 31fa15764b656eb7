"""Time to build the exposure report and all four exports from a million stored events, on SQLite and PostgreSQL.

For each database (embedded SQLite; a throwaway PostgreSQL server) the script:

1. creates a fresh database, migrates it to head with the project's own migration code (`collector.migrate`) and
   loads the workload straight into `events`, `ingest_batches`, `event_exposures` and `event_subjects` with
   SQLAlchemy Core executemany in chunks of 10,000 events (untimed setup). The workload is the same for every
   database: ~70% network usage, ~30% browser prompts, pastes and uploads over 12 months, ~2,000 people, 40
   catalog tools; ~8% of the browser events carry one or two sensitive-data categories, with keyed person hashes
   drawn so that the same people (and now and then the same text) come back. PostgreSQL then gets the
   VACUUM ANALYZE its autovacuum would have run; SQLite is left as the collector leaves it (it never runs ANALYZE);
2. times `collector.exposure_report.exposure_report` with the default 100,000 trials, split into the inventory
   aggregated in SQL (and each of its queries), the Monte Carlo, and the one-at-a-time sensitivity runs, by
   wrapping those functions for the duration of the call (nothing in the project is changed);
3. times `exposure.exports.write_exports` for each of pdf, xlsx, csv and json;
4. reads this process's peak RSS per phase (VmHWM, reset through /proc/self/clear_refs before each phase), the
   CPU time of this process and of the PostgreSQL server, and the database size on disk;
5. runs `build_inventory` once more on its own, records every SQL statement it issues, and times each alone
   (fetching every row), with its plan: EXPLAIN QUERY PLAN on SQLite, EXPLAIN (ANALYZE, BUFFERS) on PostgreSQL.

Usage:

    .venv/bin/python bench/exposure_exports.py [--quick] [--events N] [--databases sqlite,postgresql]
        [--trials N] [--wait-quiet SECONDS] [--output FILE.json]

The JSON goes to bench/results/exposure-exports.json (exposure-exports-quick.json with --quick) unless --output says
otherwise; the markdown table, the inventory's parts and its slowest statements with their plans are printed.

Without the PostgreSQL server binaries the script says so and measures SQLite only.
"""

from __future__ import annotations

import argparse
import contextlib
import gc
import hashlib
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from code_version import git_state
from ingest_targets import ROOT, Backend, Target, open_backend
from ingest_throughput import machine_info
from process_meter import CpuMeter, wait_for_quiet_machine
from sqlalchemy import Connection, Engine, event, insert, text

import collector.exposure_inventory as inventory_module
import collector.exposure_report as report_module
import exposure.run as run_module
from collector import migrate
from collector.db import build_session_factory
from collector.exposure_inventory import build_inventory
from collector.exposure_report import exposure_report, stored_window
from collector.keys import Scope, create_key
from collector.models import EventExposure, EventSubject, IngestBatch, StoredEvent
from collector.policy import SubjectKind, ToolStatus, change
from events.models import SCHEMA_VERSION
from exposure.exports import FORMATS, write_exports
from exposure.inventory import PEOPLE_CATEGORIES, Category
from exposure.run import DEFAULT_TRIALS
from rules.catalog import Catalog, load_catalog
from rules.exposure_parameters import load_profile
from rules.exposure_schema import OrganisationProfile

DATABASES = ("sqlite", "postgresql")
FULL_EVENTS = 1_000_000
QUICK_EVENTS = 50_000
CHUNK = 10_000  # events per executemany (and per transaction)
EVENTS_PER_BATCH = 200
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "exposure-exports.json"
QUICK_OUTPUT = ROOT / "bench" / "results" / "exposure-exports-quick.json"

# ------------------------------------------------------------------------------------------------- workload

WINDOW_START = datetime(2025, 11, 25, tzinfo=UTC)
WINDOW_DAYS = 365  # 2025-11-25 .. 2026-11-24
PEOPLE = 2_000
POPULATION = 120_000  # customers, patients, employees who can turn up in a text
KINDS = ("network_usage", "prompt", "paste", "upload")
KIND_SHARES = (0.70, 0.18, 0.09, 0.03)
LABELLED_SHARE = 0.08  # of browser events
SECOND_CATEGORY_SHARE = 0.25
REPEATED_TEXT_SHARE = 0.15  # a labelled text sent again (the same text HMAC and people)
UNCATALOGUED_SHARE = 0.02
SENSORS = ("tap-hq-core", "tap-hq-dmz", "tap-branch-lyon", "tap-branch-austin")
# The most used tools first; their weights fall off like Zipf's law. The list is filled up from the catalog.
POPULAR_TOOLS = (
    "openai-chatgpt", "microsoft-copilot", "google-gemini", "anthropic-claude", "github-copilot", "perplexity",
    "deepseek-chat", "grammarly", "otter-ai", "mistral-le-chat", "meta-ai", "xai-grok", "you-com", "phind",
    "quillbot", "jasper", "writesonic", "character-ai", "midjourney", "replit", "tabnine", "elevenlabs", "gamma",
    "descript", "glean", "zapier-ai", "runway", "suno", "tome", "manus", "genspark",
)  # fmt: skip
TOOL_COUNT = 40
CATEGORY_SHARES = {
    Category.PERSONAL_DATA: 0.42,
    Category.CORPORATE_FINANCIAL: 0.16,
    Category.CREDENTIALS: 0.12,
    Category.LEGAL: 0.10,
    Category.HEALTH: 0.09,
    Category.BANK_ACCOUNT: 0.06,
    Category.PAYMENT_CARD: 0.05,
}
# What a device or the collector's classifier reports for each category: the label and a typical entity.
LABEL_OF = {
    Category.PERSONAL_DATA: ("pii", "email_address"),
    Category.HEALTH: ("phi", "medical_record_number"),
    Category.PAYMENT_CARD: ("payment_card", "credit_card"),
    Category.BANK_ACCOUNT: ("financial", "iban_code"),
    Category.CORPORATE_FINANCIAL: ("financial", "money"),
    Category.LEGAL: ("legal", "case_number"),
    Category.CREDENTIALS: ("credentials", "api_key"),
}
DEPARTMENTS = {
    "Sales": 0.18,
    "Engineering": 0.22,
    "Customer Support": 0.14,
    "Finance": 0.07,
    "Legal": 0.03,
    "HR": 0.04,
    "Marketing": 0.09,
    "Operations": 0.10,
    "Clinical Services": 0.06,
    "Executive": 0.01,
    "IT": 0.06,
}
UNMAPPED_PEOPLE_SHARE = 0.03  # contractors the directory export does not name
MEDIA_TYPES = (
    ("pdf", "application/pdf"),
    ("xlsx", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"),
    ("docx", "application/vnd.openxmlformats-officedocument.wordprocessingml.document"),
    ("csv", "text/csv"),
    ("png", "image/png"),
)


def user_name(person: int) -> str:
    return f"user{person:04d}@corp.example"


def device_id(person: int) -> str:
    return f"dev-{person:04d}"


def client_ip(person: int) -> str:
    return f"10.20.{person // 250}.{person % 250 + 1}"


def subject_hash(person: int) -> str:
    return hashlib.blake2b(f"subject:{person}".encode(), digest_size=16).hexdigest()


def text_hmac(text_id: int) -> str:
    return hashlib.sha256(f"text:{text_id}".encode()).hexdigest()


def pick_tools(catalog: Catalog) -> list[tuple[str, str]]:
    """TOOL_COUNT (tool id, host) pairs: the popular ones present in the catalog, then others in catalog order."""
    ids = [tool_id for tool_id in POPULAR_TOOLS if tool_id in catalog.tools]
    ids += [tool_id for tool_id in catalog.tools if tool_id not in ids][: TOOL_COUNT - len(ids)]
    tools = []
    for tool_id in ids[:TOOL_COUNT]:
        exact = catalog.tools[tool_id].tool.exact
        tools.append((tool_id, exact[0] if exact else f"{tool_id}.example"))
    return tools


@dataclass
class Labelled:
    """A browser event that carried sensitive data: its categories, its text and the people in it."""

    categories: tuple[Category, ...]
    text_id: int
    people: np.ndarray


@dataclass
class Workload:
    """The events as arrays (sorted by time), built once and loaded identically into every database."""

    events: int
    seconds: np.ndarray  # since WINDOW_START
    duration: np.ndarray
    kind: np.ndarray  # index into KINDS
    person: np.ndarray
    tool: np.ndarray  # index into tools; -1: uncatalogued / name hidden
    size: np.ndarray  # bytes up, text length or file size
    noise: np.ndarray  # for the small fields that only need to vary
    event_ids: bytes  # 16 bytes per event
    labelled: dict[int, Labelled]
    tools: list[tuple[str, str]]
    departments: dict[str, str]
    build_seconds: float = 0.0

    @property
    def exposure_rows(self) -> int:
        return sum(len(item.categories) for item in self.labelled.values())

    @property
    def subject_rows(self) -> int:
        return sum(len(item.people) for item in self.labelled.values())

    def summary(self) -> dict[str, Any]:
        kinds = np.bincount(self.kind, minlength=len(KINDS))
        return {
            "events": self.events,
            "by_kind": {name: int(count) for name, count in zip(KINDS, kinds, strict=True)},
            "people": PEOPLE,
            "tools": len(self.tools),
            "labelled_events": len(self.labelled),
            "event_exposures_rows": self.exposure_rows,
            "event_subjects_rows": self.subject_rows,
            "distinct_subjects": len({int(p) for item in self.labelled.values() for p in item.people}),
            "window": [
                WINDOW_START.date().isoformat(),
                (WINDOW_START + timedelta(days=WINDOW_DAYS - 1)).date().isoformat(),
            ],
        }


def _timestamps(rng: np.random.Generator, n: int) -> np.ndarray:
    """Seconds into the window: working hours, quiet weekends, and use growing over the year."""
    days = np.arange(WINDOW_DAYS)
    weekday = np.array([(WINDOW_START + timedelta(days=int(d))).weekday() for d in days])
    weights = np.where(weekday < 5, 1.0, 0.15) * (0.7 + 0.6 * days / WINDOW_DAYS)
    day = rng.choice(WINDOW_DAYS, size=n, p=weights / weights.sum())
    in_day = np.clip(rng.normal(13.5 * 3600, 3 * 3600, size=n), 0, 86_399).astype(np.int64)
    return np.sort(day.astype(np.int64) * 86_400 + in_day)


def _choose_categories(rng: np.random.Generator) -> tuple[Category, ...]:
    names, shares = list(CATEGORY_SHARES), np.array(list(CATEGORY_SHARES.values()))
    first = names[rng.choice(len(names), p=shares)]
    chosen = {first}
    if rng.random() < SECOND_CATEGORY_SHARE:
        chosen.add(names[rng.choice(len(names), p=shares)])
    if {Category.BANK_ACCOUNT, Category.CORPORATE_FINANCIAL} <= chosen:  # one `financial` label is one of them
        chosen = {first}
    return tuple(sorted(chosen))


def _people_count(rng: np.random.Generator) -> int:
    """People in one text: none countable (names only, 10%), a few (75%), a table (12%), a customer list (3%)."""
    draw = rng.random()
    if draw < 0.10:
        return 0
    if draw < 0.85:
        return int(rng.integers(1, 6))
    if draw < 0.97:
        return int(rng.integers(6, 51))
    return int(rng.integers(51, 501))


def build_workload(events: int, catalog: Catalog, seed: int) -> Workload:
    started = time.perf_counter()
    rng = np.random.default_rng(seed)
    tools = pick_tools(catalog)
    activity = rng.lognormal(0.0, 1.0, size=PEOPLE)  # some people use AI tools far more than others
    tool_weights = 1.0 / np.arange(1, len(tools) + 1) ** 1.1
    kind = rng.choice(len(KINDS), size=events, p=KIND_SHARES).astype(np.int8)
    tool = rng.choice(len(tools), size=events, p=tool_weights / tool_weights.sum()).astype(np.int16)
    tool[rng.random(events) < UNCATALOGUED_SHARE] = -1
    browser = np.flatnonzero(kind > 0)
    labelled_at = browser[rng.random(browser.size) < LABELLED_SHARE]
    # Customers who turn up often (key accounts, frequent patients) and many who turn up once.
    popularity = rng.pareto(1.2, size=POPULATION) + 1.0
    popularity /= popularity.sum()
    labelled: dict[int, Labelled] = {}
    earlier: list[int] = []
    for index in labelled_at.tolist():
        if earlier and rng.random() < REPEATED_TEXT_SHARE:
            labelled[index] = labelled[earlier[int(rng.integers(len(earlier)))]]
        else:
            categories = _choose_categories(rng)
            count = _people_count(rng) if PEOPLE_CATEGORIES & set(categories) else 0
            people = np.unique(rng.choice(POPULATION, size=count, p=popularity)) if count else np.empty(0, np.int64)
            labelled[index] = Labelled(categories, index, people)
        earlier.append(index)
    names = list(DEPARTMENTS)
    shares = np.array(list(DEPARTMENTS.values()))
    department = rng.choice(len(names), size=PEOPLE, p=shares / shares.sum())
    mapped = rng.random(PEOPLE) >= UNMAPPED_PEOPLE_SHARE
    return Workload(
        events=events,
        seconds=_timestamps(rng, events),
        duration=rng.integers(5, 900, size=events),
        kind=kind,
        person=rng.choice(PEOPLE, size=events, p=activity / activity.sum()).astype(np.int32),
        tool=tool,
        size=rng.lognormal(6.3, 1.1, size=events).astype(np.int64) + 20,
        noise=rng.integers(0, 2**31, size=events),
        event_ids=rng.bytes(16 * events),
        labelled=labelled,
        tools=tools,
        departments={user_name(p): names[department[p]] for p in range(PEOPLE) if mapped[p]},
        build_seconds=time.perf_counter() - started,
    )


# -------------------------------------------------------------------------------------------------- rows


@dataclass
class Chunk:
    batches: list[dict[str, Any]] = field(default_factory=list)
    events: list[dict[str, Any]] = field(default_factory=list)
    exposures: list[dict[str, Any]] = field(default_factory=list)
    subjects: list[dict[str, Any]] = field(default_factory=list)


def _findings(item: Labelled, length: int) -> dict[str, Any]:
    labels = sorted({LABEL_OF[category][0] for category in item.categories})
    entities = {LABEL_OF[category][1]: max(len(item.people), 1) for category in item.categories}
    return {"labels": labels, "entity_counts": entities, "text_hmac": text_hmac(item.text_id), "text_length": length}


def _browser_detail(w: Workload, i: int, host: str, event_id: uuid.UUID) -> tuple[dict[str, Any], int, str | None]:
    """The event's detail as the collector stores it, its bytes up, and the text HMAC its exposures carry."""
    kind, size, noise = KINDS[w.kind[i]], int(w.size[i]), int(w.noise[i])
    item = w.labelled.get(i)
    verdict = {"action": "warn", "user_choice": "proceeded", "justification": None} if item and noise % 3 else None
    if kind == "upload":
        extension, media_type = MEDIA_TYPES[noise % len(MEDIA_TYPES)]
        file_size = size * 40
        findings = _findings(item, file_size // 3) if item else None
        detail = {
            "host": host,
            "file_name": f"document-{noise % 100_000}.{extension}",
            "file_size": file_size,
            "media_type": media_type,
            "file_sha256": hashlib.sha256(event_id.bytes).hexdigest(),
            "findings": findings,
            "verdict": verdict,
        }
        return detail, file_size, findings["text_hmac"] if findings else None
    if noise % 5 < 2:  # the device classified the text and kept it: findings only
        findings = (
            _findings(item, size)
            if item
            else {"labels": [], "entity_counts": {}, "text_hmac": text_hmac(-i - 1), "text_length": size}
        )
        return {"host": host, "findings": findings, "verdict": verdict}, size, findings["text_hmac"]
    # The text came to the collector, which classified it and kept a keyed hash and its length.
    hmac = text_hmac(item.text_id if item else -i - 1)
    labels = sorted({LABEL_OF[category][0] for category in item.categories}) if item else []
    classification: dict[str, Any] = {
        "labels": labels,
        "scores": {label: round(0.62 + (noise % 37) / 100, 3) for label in labels},
        "entity_counts": {LABEL_OF[c][1].upper(): max(len(item.people), 1) for c in item.categories} if item else {},
    }
    if item:
        classification["snippet"] = "Please summarise the account notes for <EMAIL_ADDRESS> before the review"
    detail = {
        "host": host,
        "findings": None,
        "verdict": verdict,
        "text_hmac": hmac,
        "text_length": size,
        "classification": classification,
    }
    return detail, size, hmac


def build_chunk(w: Workload, start: int, stop: int, api_key_pk: int) -> Chunk:
    chunk = Chunk()
    for i in range(start, stop):
        occurred = WINDOW_START + timedelta(seconds=int(w.seconds[i]))
        event_id = uuid.UUID(bytes=w.event_ids[16 * i : 16 * i + 16])
        person, noise = int(w.person[i]), int(w.noise[i])
        tool_id, host = w.tools[w.tool[i]] if w.tool[i] >= 0 else (None, "chat.unlisted-ai.example")
        batch = i // EVENTS_PER_BATCH + 1
        if i % EVENTS_PER_BATCH == 0:
            last = min(i + EVENTS_PER_BATCH, w.events) - 1
            sent_at = WINDOW_START + timedelta(seconds=int(w.seconds[last]) + 5)
            chunk.batches.append(
                {
                    "id": batch,
                    "batch_id": uuid.UUID(int=batch),
                    "api_key_id": api_key_pk,
                    "schema_version": SCHEMA_VERSION,
                    "sent_at": sent_at,
                    "received_at": sent_at,
                    "event_count": last - i + 1,
                    "stored_count": last - i + 1,
                }
            )
        row: dict[str, Any] = {"event_id": event_id, "batch_id": batch, "kind": KINDS[w.kind[i]], "tool_id": tool_id}
        if w.kind[i] == 0:
            last_seen = occurred + timedelta(seconds=int(w.duration[i]))
            packets_up = 4 + noise % 60
            row |= {
                "source_id": SENSORS[person % len(SENSORS)],
                "client": client_ip(person),
                "occurred_at": occurred,
                "last_seen": last_seen,
                "bytes_up": int(w.size[i]) * 8,
                "bytes_down": int(w.size[i]) * 30 + noise % 50_000,
                "flow_count": 1 + noise % 12,
                "detail": {
                    "client_name": None,
                    "server_ip": f"104.18.{noise % 256}.{noise // 256 % 256}",
                    "server_port": 443,
                    "transport": "udp" if noise % 7 == 0 else "tcp",
                    "server_name": host if tool_id else None,
                    "signals": ["dns", "tls_sni"] if tool_id else ["ech"],
                    "packets_up": packets_up,
                    "packets_down": packets_up * 3,
                },
                "received_at": last_seen + timedelta(seconds=40),
            }
        else:
            detail, bytes_up, hmac = _browser_detail(w, i, host, event_id)
            client = user_name(person)
            row |= {
                "source_id": device_id(person),
                "client": client,
                "occurred_at": occurred,
                "last_seen": occurred,
                "bytes_up": bytes_up,
                "bytes_down": 0,
                "flow_count": 1,
                "detail": detail,
                "received_at": occurred + timedelta(seconds=2),
            }
            item = w.labelled.get(i)
            if item is not None:
                for category in item.categories:
                    chunk.exposures.append(
                        {
                            "event_id": event_id,
                            "category": category.value,
                            "tool_id": tool_id,
                            "client": client,
                            "occurred_at": occurred,
                            "text_hmac": hmac,
                        }
                    )
                chunk.subjects.extend({"event_id": event_id, "subject_hash": subject_hash(int(p))} for p in item.people)
        chunk.events.append(row)
    return chunk


# ------------------------------------------------------------------------------------------------ loading


@dataclass
class Setup:
    seconds_migrate: float
    seconds_load: float
    seconds_analyze: float
    rows: dict[str, int]


def _set_policy(engine: Engine) -> None:
    """A realistic policy: the enterprise assistants sanctioned, two tolerated, the default unsanctioned."""
    sessions = build_session_factory(engine)
    with sessions.begin() as session:
        for tool_id, status in (
            ("microsoft-copilot", ToolStatus.SANCTIONED),
            ("openai-chatgpt", ToolStatus.TOLERATED),
            ("anthropic-claude", ToolStatus.TOLERATED),
            ("github-copilot", ToolStatus.SANCTIONED),
            ("deepseek-chat", ToolStatus.UNSANCTIONED),
        ):
            change(session, SubjectKind.TOOL, tool_id, status, actor="bench", reason="benchmark policy")


def load(target: Target, workload: Workload) -> Setup:
    engine = target.engine()
    try:
        started = time.perf_counter()
        migrate.upgrade(engine)
        sessions = build_session_factory(engine)
        with sessions.begin() as session:
            create_key(session, Scope.SENSOR, SENSORS[0], "exposure benchmark")
        _set_policy(engine)
        with engine.connect() as connection:
            api_key_pk = int(connection.execute(text("SELECT min(id) FROM api_keys")).scalar_one())
        migrated = time.perf_counter()
        statements = [insert(table.__table__) for table in (IngestBatch, StoredEvent, EventExposure, EventSubject)]
        rows = dict.fromkeys(("ingest_batches", "events", "event_exposures", "event_subjects"), 0)
        for start in range(0, workload.events, CHUNK):
            chunk = build_chunk(workload, start, min(start + CHUNK, workload.events), api_key_pk)
            parts = (chunk.batches, chunk.events, chunk.exposures, chunk.subjects)
            with engine.begin() as connection:
                for statement, part, name in zip(statements, parts, rows, strict=True):
                    if part:
                        connection.execute(statement, part)
                        rows[name] += len(part)
            if start // CHUNK % 20 == 19:
                print(f"    {start + CHUNK:,} events loaded", file=sys.stderr)
        loaded = time.perf_counter()
        _analyze(engine)
        analyzed = time.perf_counter()
    finally:
        engine.dispose()
    return Setup(migrated - started, loaded - migrated, analyzed - loaded, rows)


def _analyze(engine: Engine) -> None:
    """PostgreSQL: VACUUM ANALYZE, the state autovacuum brings a table to after a bulk load. SQLite: checkpoint the
    WAL into the file (the collector never runs ANALYZE, so neither does this)."""
    with engine.connect() as connection:
        if engine.dialect.name == "postgresql":
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))
        else:
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")


def database_size(target: Target) -> dict[str, Any]:
    engine = target.engine()
    try:
        with engine.connect() as connection:
            if engine.dialect.name == "postgresql":
                total = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
                tables = {
                    name: connection.execute(text(f"SELECT pg_total_relation_size('{name}')")).scalar_one()
                    for name in ("events", "event_exposures", "event_subjects", "ingest_batches")
                }
                return {"bytes": int(total), "tables_bytes": {k: int(v) for k, v in tables.items()}}
            connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
            files = sorted(target.data_dir.glob("shadowscope.db*"))
            tables = {}
            with contextlib.suppress(Exception):  # dbstat is an optional SQLite feature
                for name, size in connection.exec_driver_sql(
                    "SELECT name, SUM(pgsize) FROM dbstat GROUP BY name ORDER BY 2 DESC"
                ):
                    tables[name] = int(size)
            return {"bytes": sum(path.stat().st_size for path in files), "tables_bytes": tables}
    finally:
        engine.dispose()


# -------------------------------------------------------------------------------------------------- timing


def reset_peak_rss() -> None:
    with contextlib.suppress(OSError):
        Path("/proc/self/clear_refs").write_text("5")


def rss_mib(field_name: str = "VmHWM") -> float:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(f"{field_name}:"):
            return int(line.split()[1]) / 1024
    return float("nan")


@dataclass
class Timings:
    seconds: dict[str, float] = field(default_factory=dict)
    calls: dict[str, int] = field(default_factory=dict)


@contextlib.contextmanager
def timed_functions(targets: Sequence[tuple[Any, str]]) -> Iterator[Timings]:
    """Wrap module-level functions so each call adds its wall time under its name; restore them afterwards."""
    timings = Timings()
    originals = [(module, name, getattr(module, name)) for module, name in targets]

    def wrap(name: str, function: Callable[..., Any]) -> Callable[..., Any]:
        def timed(*args: Any, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return function(*args, **kwargs)
            finally:
                timings.seconds[name] = timings.seconds.get(name, 0.0) + time.perf_counter() - started
                timings.calls[name] = timings.calls.get(name, 0) + 1

        return timed

    for module, name, function in originals:
        setattr(module, name, wrap(name, function))
    try:
        yield timings
    finally:
        for module, name, function in originals:
            setattr(module, name, function)


REPORT_PARTS = (
    (report_module, "stored_window"),
    (report_module, "build_inventory"),
    (report_module, "run_exposure"),
    (run_module, "_sensitivity"),
    (run_module, "simulate"),
)
INVENTORY_PARTS = (
    (inventory_module, "current_policy"),
    (inventory_module, "_by_month"),
    (inventory_module, "_by_department"),
    (inventory_module, "_cells"),
    (inventory_module, "_totals"),
)


@dataclass
class Measurement:
    database: str
    version: str
    setup: Setup
    size: dict[str, Any]
    report_seconds: float
    parts: dict[str, float]
    simulations: int
    trials: int
    report_cpu: dict[str, float]
    report_peak_rss_mib: float
    export_seconds: dict[str, float]
    export_bytes: dict[str, int]
    exports_peak_rss_mib: float
    baseline_rss_mib: float
    evidence: dict[str, Any]
    statements: list[dict[str, Any]]

    @property
    def inventory_seconds(self) -> float:
        return self.parts["build_inventory"]

    @property
    def model_seconds(self) -> float:
        return self.parts["run_exposure"] - self.parts.get("_sensitivity", 0.0)

    @property
    def exports_seconds(self) -> float:
        return sum(self.export_seconds.values())

    @property
    def total_seconds(self) -> float:
        return self.report_seconds + self.exports_seconds

    def as_json(self) -> dict[str, Any]:
        return {
            "database": self.database,
            "version": self.version,
            "setup_seconds": {
                "migrate": round(self.setup.seconds_migrate, 2),
                "load": round(self.setup.seconds_load, 2),
                "analyze_or_checkpoint": round(self.setup.seconds_analyze, 2),
            },
            "rows": self.setup.rows,
            "database_size": self.size,
            "report_seconds": round(self.report_seconds, 3),
            "report_parts_seconds": {name: round(value, 3) for name, value in self.parts.items()},
            "trials": self.trials,
            "simulate_calls": self.simulations,
            "inventory_seconds": round(self.inventory_seconds, 3),
            "model_seconds": round(self.model_seconds, 3),
            "sensitivity_seconds": round(self.parts.get("_sensitivity", 0.0), 3),
            "report_cpu_percent_of_a_core": self.report_cpu,
            "export_seconds": {name: round(value, 3) for name, value in self.export_seconds.items()},
            "export_bytes": self.export_bytes,
            "exports_seconds": round(self.exports_seconds, 3),
            "total_seconds": round(self.total_seconds, 3),
            "baseline_rss_mib": round(self.baseline_rss_mib, 1),
            "report_peak_rss_mib": round(self.report_peak_rss_mib, 1),
            "exports_peak_rss_mib": round(self.exports_peak_rss_mib, 1),
            "evidence": self.evidence,
            "inventory_statements": self.statements,
        }


def measure(
    backend: Backend,
    target: Target,
    setup: Setup,
    catalog: Catalog,
    profile: OrganisationProfile,
    scratch: Path,
    trials: int,
) -> Measurement:
    size = database_size(target)
    engine = target.engine()
    sessions = build_session_factory(engine)
    try:
        gc.collect()
        baseline = rss_mib("VmRSS")
        reset_peak_rss()
        meter = CpuMeter(None, target.database_pid)
        meter.begin()
        with sessions() as session, timed_functions(REPORT_PARTS + INVENTORY_PARTS) as timings:
            started = time.perf_counter()
            report = exposure_report(session, catalog, profile, trials=trials)
            report_seconds = time.perf_counter() - started
        shares = meter.shares_since_begin(report_seconds)
        report_cpu = {"this_process": round(shares.client, 1), "database_server": round(shares.database, 1)}
        report_rss = rss_mib()
        export_seconds, export_bytes = {}, {}
        reset_peak_rss()
        out_dir = scratch / f"exports-{backend.name}"
        for name in FORMATS:
            started = time.perf_counter()
            (path,) = write_exports(report, out_dir, [name])
            export_seconds[name] = time.perf_counter() - started
            export_bytes[name] = path.stat().st_size
        exports_rss = rss_mib()
        statements = inventory_statements(engine, sessions, catalog, profile)
    finally:
        engine.dispose()
    evidence = {
        "window": [report.window_from.isoformat(), report.window_to.isoformat()],
        "events": report.evidence.events,
        "labelled_events": report.evidence.labelled_events,
        "distinct_subjects": report.evidence.distinct_subjects,
        "tools": report.evidence.tools,
        "users": report.evidence.users,
        "heatmap_cells": len(report.heatmap),
        "departments": len(report.departments),
        "sensitivity_items": len(report.sensitivity),
        "total_mean_usd": round(report.total.mean, 0),
        "total_p95_usd": round(report.total.p95, 0),
    }
    return Measurement(
        database=backend.name,
        version=backend.version,
        setup=setup,
        size=size,
        report_seconds=report_seconds,
        parts=timings.seconds,
        simulations=timings.calls.get("simulate", 0),
        trials=trials,
        report_cpu=report_cpu,
        report_peak_rss_mib=report_rss,
        export_seconds=export_seconds,
        export_bytes=export_bytes,
        exports_peak_rss_mib=exports_rss,
        baseline_rss_mib=baseline,
        evidence=evidence,
        statements=statements,
    )


def inventory_statements(
    engine: Engine, sessions: Any, catalog: Catalog, profile: OrganisationProfile
) -> list[dict[str, Any]]:
    """Run build_inventory once more, recording its SQL; then time each statement alone and read its plan."""
    captured: list[tuple[str, Any]] = []

    def record(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        captured.append((statement, parameters))

    with sessions() as session:
        window = stored_window(session)
        assert window is not None
        event.listen(engine, "before_cursor_execute", record)
        try:
            started = time.perf_counter()
            build_inventory(session, catalog, window, profile.departments)
            alone = time.perf_counter() - started
        finally:
            event.remove(engine, "before_cursor_execute", record)
    print(f"    build_inventory alone (warm): {alone:.2f} s, {len(captured)} statements", file=sys.stderr)
    results = []
    with engine.connect() as connection:
        for statement, parameters in captured:
            started = time.perf_counter()
            rows = connection.exec_driver_sql(statement, parameters).fetchall()
            seconds = time.perf_counter() - started
            results.append(
                {
                    "sql": " ".join(statement.split()),
                    "seconds": round(seconds, 3),
                    "rows": len(rows),
                    "plan": query_plan(connection, statement, parameters),
                }
            )
    results.append({"sql": "(build_inventory, whole, warm)", "seconds": round(alone, 3), "rows": None, "plan": []})
    return results


def query_plan(connection: Connection, statement: str, parameters: Any) -> list[str]:
    if connection.dialect.name == "postgresql":
        explain = "EXPLAIN (ANALYZE, BUFFERS) " + statement
        return [str(row[0]) for row in connection.exec_driver_sql(explain, parameters)]
    rows = connection.exec_driver_sql("EXPLAIN QUERY PLAN " + statement, parameters).fetchall()
    depth: dict[int, int] = {0: 0}
    lines = []
    for node, parent, _unused, detail in rows:
        depth[node] = depth.get(parent, 0) + 1
        lines.append("  " * (depth[node] - 1) + str(detail))
    return lines


# ---------------------------------------------------------------------------------------------- reporting


def _s(seconds: float) -> str:
    return f"{seconds:,.2f} s" if seconds < 100 else f"{seconds:,.0f} s"


def _mib(size: float) -> str:
    return f"{size / 2**20:,.0f} MiB"


def markdown_table(results: Sequence[Measurement], events: int) -> str:
    trials = results[0].trials if results else DEFAULT_TRIALS
    header = "| | " + " | ".join(f"{m.database}" for m in results) + " |"
    rule = "|---|" + "---:|" * len(results)
    rows: list[tuple[str, Callable[[Measurement], str]]] = [
        (
            f"setup, untimed: migrate + load {events:,} events (+ VACUUM ANALYZE on PostgreSQL)",
            lambda m: f"{_s(m.setup.seconds_migrate + m.setup.seconds_load)} (+ {_s(m.setup.seconds_analyze)})",
        ),
        ("database size on disk", lambda m: _mib(m.size["bytes"])),
        ("inventory: SQL aggregation (`build_inventory`)", lambda m: _s(m.inventory_seconds)),
        (
            f"Monte Carlo, {trials:,} trials, and summaries (`run_exposure` less sensitivity)",
            lambda m: _s(m.model_seconds),
        ),
        (
            "sensitivity: read off the main run (conditional means of the lowest and highest tenth of each parameter)",
            lambda m: f"{_s(m.parts.get('_sensitivity', 0.0))} ({m.simulations - 1} runs)",
        ),
        ("`exposure_report` in all (incl. `stored_window`)", lambda m: f"**{_s(m.report_seconds)}**"),
        *(
            (
                f"export {name}",
                lambda m, name=name: f"{_s(m.export_seconds[name])} ({m.export_bytes[name] / 1024:,.0f} KiB)",
            )
            for name in FORMATS
        ),
        ("all four exports", lambda m: f"**{_s(m.exports_seconds)}**"),
        ("total: report + four exports", lambda m: f"**{_s(m.total_seconds)}**"),
        (
            "peak RSS of the process: report / exports (RSS before)",
            lambda m: f"{m.report_peak_rss_mib:,.0f} / {m.exports_peak_rss_mib:,.0f} MiB ({m.baseline_rss_mib:,.0f})",
        ),
        (
            "CPU during the report, % of a core: this process / database server",
            lambda m: f"{m.report_cpu['this_process']:.0f} / {m.report_cpu['database_server']:.0f}",
        ),
    ]
    lines = [header, rule]
    for label, cell in rows:
        lines.append(f"| {label} | " + " | ".join(cell(m) for m in results) + " |")
    return "\n".join(lines)


def inventory_table(results: Sequence[Measurement]) -> str:
    lines = [
        "| inventory part | " + " | ".join(m.database for m in results) + " |",
        "|---|" + "---:|" * len(results),
    ]
    for _module, name in (*INVENTORY_PARTS, (report_module, "stored_window")):
        lines.append(f"| `{name}` | " + " | ".join(_s(m.parts.get(name, 0.0)) for m in results) + " |")
    return "\n".join(lines)


def slowest_statements(results: Sequence[Measurement], count: int = 4) -> str:
    lines = []
    for m in results:
        ranked = sorted((s for s in m.statements if s["rows"] is not None), key=lambda s: -s["seconds"])[:count]
        lines.append(f"\n{m.database}: slowest inventory statements, each alone")
        for item in ranked:
            lines.append(f"  {item['seconds']:.3f} s  {item['rows']} rows  {item['sql'][:220]}")
            lines.extend(f"      {line}" for line in item["plan"][:14])
    return "\n".join(lines)


# ------------------------------------------------------------------------------------------------------ main


@dataclass(frozen=True)
class Options:
    events: int
    databases: tuple[str, ...]
    output: Path
    quick: bool
    seed: int
    wait_quiet: float
    trials: int


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--events", type=int, default=FULL_EVENTS, help="Stored events to load (default 1,000,000).")
    parser.add_argument("--quick", action="store_true", help=f"A smoke run on {QUICK_EVENTS:,} events.")
    parser.add_argument("--databases", default=",".join(DATABASES), help="Comma-separated: sqlite,postgresql.")
    parser.add_argument("--output", type=Path, help=f"JSON results (default {DEFAULT_OUTPUT.relative_to(ROOT)}).")
    parser.add_argument("--seed", type=int, default=20261125, help="Seed of the workload.")
    parser.add_argument(
        "--trials", type=int, default=DEFAULT_TRIALS, help=f"Monte Carlo trials (default {DEFAULT_TRIALS:,})."
    )
    parser.add_argument(
        "--wait-quiet", type=float, default=0.0, metavar="SECONDS", help="Wait up to this long for an idle machine."
    )
    args = parser.parse_args(argv)
    databases = tuple(name.strip() for name in args.databases.split(",") if name.strip())
    unknown = sorted(set(databases) - set(DATABASES))
    if unknown:
        parser.error(f"unknown database(s) {', '.join(unknown)}; choose from {', '.join(DATABASES)}")
    events = QUICK_EVENTS if args.quick else args.events
    if events < CHUNK:
        parser.error(f"--events must be at least {CHUNK:,}")
    output = args.output or (QUICK_OUTPUT if args.quick else DEFAULT_OUTPUT)
    return Options(events, databases, output, args.quick, args.seed, args.wait_quiet, args.trials)


def run(options: Options) -> tuple[list[Measurement], dict[str, str], dict[str, Any]]:
    catalog = load_catalog()
    print(f"building the workload: {options.events:,} events", file=sys.stderr)
    workload = build_workload(options.events, catalog, options.seed)
    profile = load_profile().model_copy(update={"departments": workload.departments})
    summary = workload.summary() | {"build_seconds": round(workload.build_seconds, 2)}
    print(f"  {summary}", file=sys.stderr)
    results: list[Measurement] = []
    versions: dict[str, str] = {}
    scratch = Path(tempfile.mkdtemp(prefix="shadowscope-bench-exposure-"))
    scratch.chmod(0o755)  # the PostgreSQL server user needs to reach the data directories under it
    try:
        for name in options.databases:
            with open_backend(name, scratch) as backend:
                if backend is None:
                    versions[name] = "SKIPPED (see the message above)"
                    continue
                versions[name] = backend.version
                target = backend.new_target(f"exposure_{name}")
                print(f"[{name}] loading {options.events:,} events", file=sys.stderr)
                setup = load(target, workload)
                print(
                    f"  loaded in {setup.seconds_load:.1f} s (+ {setup.seconds_analyze:.1f} s analyze/checkpoint): "
                    f"{setup.rows}",
                    file=sys.stderr,
                )
                wait_for_quiet_machine(options.wait_quiet)
                result = measure(backend, target, setup, catalog, profile, scratch, options.trials)
                print(
                    f"  report {result.report_seconds:.2f} s (inventory {result.inventory_seconds:.2f} s), "
                    f"exports {result.exports_seconds:.2f} s",
                    file=sys.stderr,
                )
                results.append(result)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results, versions, summary


def source_state() -> dict[str, Any]:
    return git_state(ROOT, ("collector", "exposure", "rules", "migrations", "bench/exposure_exports.py"))


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    started = datetime.now(UTC).replace(microsecond=0)
    source = source_state()
    results, versions, summary = run(options)
    command = " ".join([".venv/bin/python", "bench/exposure_exports.py", *(argv or sys.argv[1:])])
    report = {
        "started_at": started.isoformat(),
        "command": command,
        "machine": machine_info(),
        "source": source,
        "versions": versions,
        "workload": summary,
        "trials": options.trials,
        "sensitivity_trials": 0,
        "results": [m.as_json() for m in results],
    }
    print(f"\n{'QUICK smoke run' if options.quick else 'Run'} started {report['started_at']}: `{command}`")
    modified = f" + uncommitted changes to {', '.join(source['modified'])}" if source["modified"] else ""
    print(f"Code: commit {source['commit']}{modified}; {'; '.join(f'{k}: {v}' for k, v in versions.items())}")
    print(
        f"Workload: {summary['events']:,} events {summary['by_kind']}, {summary['labelled_events']:,} labelled, "
        f"{summary['event_exposures_rows']:,} exposure rows, {summary['event_subjects_rows']:,} subject rows\n"
    )
    print(markdown_table(results, options.events))
    print()
    print(inventory_table(results))
    print(slowest_statements(results))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2, default=_json_default) + "\n")
    print(f"\nwrote {options.output}", file=sys.stderr)
    return 0 if results else 1


def _json_default(value: object) -> object:
    if isinstance(value, date):
        return value.isoformat()
    raise TypeError(f"not JSON serialisable: {type(value).__name__}")


if __name__ == "__main__":
    sys.exit(main())
