"""Alert evaluation with a million stored events and ten thousand alerts, on SQLite and PostgreSQL.

For each database (embedded SQLite; a throwaway PostgreSQL server) the script:

1. loads the exposure benchmark's workload (bench/exposure_exports.py: a year of network usage and browser
   prompts, pastes and uploads by ~2,000 people to 40 tools, ~8% of browser events labelled, a realistic policy)
   straight into the tables, then 10,000 alerts of the on-ingest rules with one evidence row each (untimed);
2. ingest with the rules on vs off: the collector's own `ingest_batch` (no HTTP: the HTTP cost is the same in
   both modes and measured by bench/ingest_throughput.py) on 1,000-event batches made like the workload's —
   7 network batches for 3 browser batches, browser events with device findings (so no classifier runs) —
   alternating the two modes round by round on the same database; the modes differ only in whether the call to
   `collector.alerts.on_ingest.evaluate_new_events` runs. Untimed warm-up batches first fill the in-process
   "tool already seen" cache, as a running collector's would be;
3. windowed evaluation: sets the windowed rules' watermarks to the first stored event and times
   `evaluate_due_windows` over the whole year (events/s = stored events in the span / seconds), per rule, then
   once more with nothing due;
4. reads this process's peak RSS per phase (VmHWM, reset through /proc/self/clear_refs).

The peer comparison is ingest without the rules, in the same run. Usage:

    .venv/bin/python bench/alert_evaluation.py [--events N] [--databases sqlite,postgresql] [--rounds N]
        [--output FILE.json]

The JSON goes to bench/results/alert-evaluation.json unless --output says otherwise.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import numpy as np
from code_version import git_state
from exposure_exports import (
    KINDS,
    LABEL_OF,
    SENSORS,
    WINDOW_DAYS,
    WINDOW_START,
    Workload,
    build_workload,
    client_ip,
    device_id,
    load,
    reset_peak_rss,
    rss_mib,
    user_name,
)
from ingest_targets import ROOT, Target, open_backend
from ingest_throughput import machine_info
from sqlalchemy import func, insert, select

import collector.ingest as ingest_module
from collector.alerts.on_ingest import evaluate_new_events
from collector.alerts.ruleset import alert_rules, group_key
from collector.alerts.windows import LAG, evaluate_due_windows, evaluate_rule
from collector.ingest import ingest_batch
from collector.keys import Principal, Scope, authenticate, create_key
from collector.models import Alert, AlertEvent, DetectionWatermark, StoredEvent
from collector.runtime import Runtime
from collector.settings import CollectorSettings
from events.models import SCHEMA_VERSION, EventBatch
from rules.catalog import load_catalog

DATABASES = ("sqlite", "postgresql")
FULL_EVENTS = 1_000_000
ALERTS = 10_000
BATCH = 1_000
NETWORK_BATCHES, BROWSER_BATCHES = 7, 3  # per round and mode: the workload's 70 / 30 split
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "alert-evaluation.json"
SENSITIVE_RULE = "874f5ad6-f0c4-4e09-8813-b21f6dc6651e"
CREDENTIALS_RULE = "8c0a3842-4566-4e2a-b577-58bb89d0ac48"


@dataclass(frozen=True)
class Options:
    events: int
    databases: tuple[str, ...]
    rounds: int
    output: Path
    seed: int


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--events", type=int, default=FULL_EVENTS, help="Stored events to load (default 1,000,000).")
    parser.add_argument("--databases", default=",".join(DATABASES), help="Comma-separated: sqlite,postgresql.")
    parser.add_argument("--rounds", type=int, default=10, help="Rounds of 10 batches per mode (default 10).")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="JSON results.")
    parser.add_argument("--seed", type=int, default=20261125, help="Seed of the workload.")
    args = parser.parse_args(argv)
    databases = tuple(name.strip() for name in args.databases.split(",") if name.strip())
    unknown = sorted(set(databases) - set(DATABASES))
    if unknown:
        parser.error(f"unknown database(s) {', '.join(unknown)}; choose from {', '.join(DATABASES)}")
    if args.events < 10_000:
        parser.error("--events must be at least 10,000")
    return Options(args.events, databases, args.rounds, args.output, args.seed)


# ------------------------------------------------------------------------------------------------- alerts


def insert_alerts(target: Target, workload: Workload, count: int) -> None:
    """`count` alerts of the on-ingest rules over people x tools, 70% open, with one evidence event each."""
    rules = {str(rule.id): rule for rule in alert_rules().on_ingest}
    rng = np.random.default_rng(7)
    engine = target.engine()
    try:
        with engine.begin() as connection:
            first_event = int(connection.execute(select(func.min(StoredEvent.id))).scalar_one())
            rows, evidence = [], []
            for number in range(count):
                rule = rules[SENSITIVE_RULE if number % 4 else CREDENTIALS_RULE]
                person = int(rng.integers(2_000))
                tool_id, _ = workload.tools[int(rng.integers(len(workload.tools)))]
                seen = WINDOW_START + timedelta(seconds=int(rng.integers(WINDOW_DAYS * 86_400)))
                status = ("new", "new", "triaged", "escalated", "new", "triaged", "new", "resolved", "dismissed")[
                    number % 9
                ]
                rows.append(
                    {
                        "id": number + 1,
                        "rule_id": str(rule.id),
                        "severity": rule.level,
                        "status": status,
                        "resolution": {"resolved": "remediated", "dismissed": "benign"}.get(status),
                        "group_key": group_key(rule, (user_name(person), tool_id)),
                        "client": user_name(person),
                        "tool_id": tool_id,
                        "source_id": device_id(person),
                        "first_seen": seen,
                        "last_seen": seen + timedelta(hours=int(rng.integers(0, 20))),
                        "event_count": int(rng.integers(1, 30)),
                        "labels": ["pii"],
                        "entity_types": ["email_address"],
                        "created_at": seen,
                        "updated_at": seen,
                    }
                )
            connection.execute(insert(Alert), rows)
            ids = connection.execute(
                select(StoredEvent.event_id).where(StoredEvent.id < first_event + count).order_by(StoredEvent.id)
            ).scalars()
            evidence = [{"alert_id": number + 1, "event_id": event_id} for number, event_id in enumerate(ids)]
            connection.execute(insert(AlertEvent), evidence)
            if engine.dialect.name == "postgresql":
                # The loader wrote ids itself; the sequences must continue after them for the collector's inserts.
                for table in (
                    "alerts",
                    "alert_events",
                    "ingest_batches",
                    "events",
                    "event_exposures",
                    "event_subjects",
                ):
                    connection.exec_driver_sql(f"SELECT setval('{table}_id_seq', (SELECT max(id) FROM {table}))")
    finally:
        engine.dispose()


# ------------------------------------------------------------------------------------------------- ingest


class Batches:
    """Ready EventBatch objects like the workload's events, stamped within the last hour (the contract refuses
    timestamps far from now); validation is done here, untimed."""

    def __init__(self, workload: Workload, seed: int) -> None:
        self.workload = workload
        self.rng = np.random.default_rng(seed)
        self.now = datetime.now(UTC).replace(microsecond=0)

    def _tool(self) -> tuple[str | None, str]:
        if self.rng.random() < 0.02:
            return None, "chat.unlisted-ai.example"
        weights = 1.0 / np.arange(1, len(self.workload.tools) + 1) ** 1.1
        return self.workload.tools[int(self.rng.choice(len(weights), p=weights / weights.sum()))]

    def _at(self) -> str:
        return (self.now - timedelta(seconds=int(self.rng.integers(60, 3_600)))).isoformat()

    def network(self) -> EventBatch:
        events = []
        for _ in range(BATCH):
            tool_id, host = self._tool()
            at = self._at()
            events.append(
                {
                    "event_id": str(uuid.uuid4()),
                    "kind": "network_usage",
                    "sensor_id": SENSORS[0],
                    "client_ip": client_ip(int(self.rng.integers(2_000))),
                    "server_ip": "104.18.32.47",
                    "server_port": 443,
                    "transport": "tcp",
                    "tool_id": tool_id,
                    "server_name": host if tool_id else None,
                    "signals": ["dns", "tls_sni"] if tool_id else ["ech"],
                    "bytes_up": int(self.rng.lognormal(6.3, 1.1)) * 8,
                    "bytes_down": 50_000,
                    "packets_up": 10,
                    "packets_down": 30,
                    "first_seen": at,
                    "last_seen": at,
                }
            )
        return self._batch(events)

    def browser(self) -> EventBatch:
        events = []
        for _ in range(BATCH):
            tool_id, host = self._tool()
            person = int(self.rng.integers(2_000))
            kind = KINDS[int(self.rng.choice([1, 2, 3], p=[0.6, 0.3, 0.1]))]
            labels, entities = [], {}
            if self.rng.random() < 0.08:
                label, entity = list(LABEL_OF.values())[int(self.rng.integers(len(LABEL_OF)))]
                labels, entities = [label], {entity: 1}
            found = {"labels": labels, "entity_counts": entities, "text_hmac": "ab" * 32, "text_length": 300}
            event: dict[str, Any] = {
                "event_id": str(uuid.uuid4()),
                "kind": kind,
                "device_id": device_id(person),
                "user": user_name(person),
                "tool_id": tool_id,
                "host": host,
                "occurred_at": self._at(),
                "findings": found,
            }
            if kind == "upload":
                event |= {"file_name": "q3.xlsx", "file_size": 250_000, "file_sha256": "cd" * 32}
            events.append(event)
        return self._batch(events)

    def _batch(self, events: list[dict[str, Any]]) -> EventBatch:
        return EventBatch.model_validate(
            {"schema_version": SCHEMA_VERSION, "batch_id": str(uuid.uuid4()), "sent_at": self.now, "events": events}
        )

    def round(self) -> list[tuple[str, EventBatch]]:
        return [("sensor", self.network()) for _ in range(NETWORK_BATCHES)] + [
            ("browser", self.browser()) for _ in range(BROWSER_BATCHES)
        ]


@contextmanager
def rules(on: bool) -> Iterator[None]:
    """Off: the ingest transaction skips the one call that evaluates the rules; nothing else changes."""
    if not on:
        ingest_module.evaluate_new_events = lambda *_args, **_kwargs: 0  # type: ignore[assignment]
    try:
        yield
    finally:
        ingest_module.evaluate_new_events = evaluate_new_events


def principals(runtime: Runtime) -> dict[str, Principal]:
    with runtime.sessions.begin() as session:
        sensor = create_key(session, Scope.SENSOR, SENSORS[0], "alert benchmark").token
        browser = create_key(session, Scope.BROWSER, None, "alert benchmark").token
    with runtime.sessions.begin() as session:
        now = datetime.now(UTC)
        return {"sensor": authenticate(session, sensor, now), "browser": authenticate(session, browser, now)}


def alert_count(runtime: Runtime) -> int:
    with runtime.sessions() as session:
        return int(session.scalar(select(func.count()).select_from(Alert)) or 0)


def measure_ingest(runtime: Runtime, workload: Workload, rounds: int) -> dict[str, Any]:
    keys = principals(runtime)
    batches = Batches(workload, seed=11)
    for scope, batch in batches.round():  # warm-up: connections, caches, the first-use cache
        ingest_batch(runtime.sessions, keys[scope], batch, runtime.rows, runtime.catalog)
    seconds = {"on": 0.0, "off": 0.0}
    events = {"on": 0, "off": 0}
    before = alert_count(runtime)
    reset_peak_rss()
    for number in range(rounds):
        for mode in ("on", "off") if number % 2 == 0 else ("off", "on"):
            work = batches.round()
            with rules(mode == "on"):
                started = time.perf_counter()
                for scope, batch in work:
                    ingest_batch(runtime.sessions, keys[scope], batch, runtime.rows, runtime.catalog)
                seconds[mode] += time.perf_counter() - started
            events[mode] += BATCH * len(work)
    on, off = events["on"] / seconds["on"], events["off"] / seconds["off"]
    return {
        "events_per_mode": events["on"],
        "seconds": {mode: round(value, 3) for mode, value in seconds.items()},
        "events_per_s_rules_on": round(on, 1),
        "events_per_s_rules_off": round(off, 1),
        "ratio_on_to_off": round(on / off, 4),
        "alerts_raised": alert_count(runtime) - before,
        "peak_rss_mib": round(rss_mib(), 1),
    }


# ------------------------------------------------------------------------------------------------ windows


def measure_windows(runtime: Runtime) -> dict[str, Any]:
    end = WINDOW_START + timedelta(days=WINDOW_DAYS)
    now = end + LAG
    with runtime.sessions() as session:
        events = int(
            session.scalar(
                select(func.count())
                .select_from(StoredEvent)
                .where(StoredEvent.occurred_at >= WINDOW_START, StoredEvent.occurred_at < end)
            )
            or 0
        )
    with runtime.sessions.begin() as session:
        for rule in alert_rules().windowed:
            session.merge(DetectionWatermark(rule_id=str(rule.id), evaluated_until=WINDOW_START))
    before = alert_count(runtime)
    reset_peak_rss()
    per_rule = []
    started = time.perf_counter()
    for rule in alert_rules().windowed:
        rule_started = time.perf_counter()
        recorded = evaluate_rule(runtime, rule, now)
        per_rule.append(
            {
                "rule": rule.title,
                "kind": rule.kind,
                "seconds": round(time.perf_counter() - rule_started, 3),
                "firings_recorded": recorded,
            }
        )
    total = time.perf_counter() - started
    peak = rss_mib()
    idle_started = time.perf_counter()
    evaluate_due_windows(runtime, now)
    idle = time.perf_counter() - idle_started
    return {
        "events_in_span": events,
        "span_days": WINDOW_DAYS,
        "seconds": round(total, 3),
        "events_per_s": round(events / total, 1),
        "per_rule": per_rule,
        "alerts_raised": alert_count(runtime) - before,
        "seconds_nothing_due": round(idle, 4),
        "peak_rss_mib": round(peak, 1),
    }


# --------------------------------------------------------------------------------------------------- main


def run(options: Options) -> tuple[list[dict[str, Any]], dict[str, str]]:
    catalog = load_catalog()
    print(f"building the workload: {options.events:,} events", file=sys.stderr)
    workload = build_workload(options.events, catalog, options.seed)
    results, versions = [], {}
    scratch = Path(tempfile.mkdtemp(prefix="shadowscope-bench-alerts-"))
    scratch.chmod(0o755)  # the PostgreSQL server user needs to reach the data directories under it
    try:
        for name in options.databases:
            with open_backend(name, scratch) as backend:
                if backend is None:
                    versions[name] = "SKIPPED (see the message above)"
                    continue
                versions[name] = backend.version
                target = backend.new_target(f"alerts_{name}")
                print(f"[{name}] loading {options.events:,} events and {ALERTS:,} alerts", file=sys.stderr)
                setup = load(target, workload)
                insert_alerts(target, workload, ALERTS)
                settings = CollectorSettings(
                    data_dir=target.data_dir,
                    database_url=target.database_url,
                    classify_content=False,
                    run_scheduler=False,
                )
                runtime = Runtime.start(settings)
                try:
                    ingest = measure_ingest(runtime, workload, options.rounds)
                    print(f"  ingest {ingest}", file=sys.stderr)
                    windows = measure_windows(runtime)
                    print(f"  windows {windows}", file=sys.stderr)
                finally:
                    runtime.engine.dispose()
                results.append(
                    {
                        "database": name,
                        "setup_seconds": {
                            "load": round(setup.seconds_load, 1),
                            "analyze": round(setup.seconds_analyze, 1),
                        },
                        "stored_alerts_before": ALERTS,
                        "ingest": ingest,
                        "windows": windows,
                    }
                )
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return results, versions


def markdown_table(results: Sequence[dict[str, Any]]) -> str:
    lines = ["| | " + " | ".join(r["database"] for r in results) + " |", "|---|" + "---:|" * len(results)]

    def row(title: str, cells: list[str]) -> None:
        lines.append(f"| {title} | " + " | ".join(cells) + " |")

    row("ingest, rules on (events/s)", [f"{r['ingest']['events_per_s_rules_on']:,.0f}" for r in results])
    row("ingest, rules off (events/s)", [f"{r['ingest']['events_per_s_rules_off']:,.0f}" for r in results])
    row("on / off", [f"{r['ingest']['ratio_on_to_off']:.2f}" for r in results])
    row("windowed rules, a year (events/s)", [f"{r['windows']['events_per_s']:,.0f}" for r in results])
    row("windowed rules, a year (s)", [f"{r['windows']['seconds']:.1f}" for r in results])
    row("nothing due (s)", [f"{r['windows']['seconds_nothing_due']:.3f}" for r in results])
    row(
        "peak RSS: ingest / windows (MiB)",
        [f"{r['ingest']['peak_rss_mib']:.0f} / {r['windows']['peak_rss_mib']:.0f}" for r in results],
    )
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    started = datetime.now(UTC).replace(microsecond=0)
    source = git_state(ROOT, ("collector", "rules", "migrations", "bench/alert_evaluation.py"))
    results, versions = run(options)
    command = " ".join([".venv/bin/python", "bench/alert_evaluation.py", *(argv or sys.argv[1:])])
    report = {
        "started_at": started.isoformat(),
        "command": command,
        "machine": machine_info(),
        "source": source,
        "versions": versions,
        "events": options.events,
        "alerts": ALERTS,
        "rounds": options.rounds,
        "batch_events": BATCH,
        "results": results,
    }
    modified = f" + uncommitted changes to {', '.join(source['modified'])}" if source["modified"] else ""
    print(f"\nRun started {report['started_at']}: `{command}`")
    print(f"Code: commit {source['commit']}{modified}; {'; '.join(f'{k}: {v}' for k, v in versions.items())}\n")
    print(markdown_table(results))
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2) + "\n")
    print(f"\nwrote {options.output}", file=sys.stderr)
    return 0 if results else 1


if __name__ == "__main__":
    sys.exit(main())
