"""Console and alert-API page latency with a million stored events and ten thousand alerts, SQLite and PostgreSQL.

For each database (embedded SQLite; a throwaway PostgreSQL server) the script:

1. loads the exposure benchmark's workload (bench/exposure_exports.py: 1,000,000 events over 12 months, ~8% of
   browser events labelled, a realistic policy) straight into the tables (untimed), then 10,000 alerts built from
   labelled events — 1 to 5 evidence events each, statuses spread as a working queue would have them (most new,
   some triaged, escalated, resolved, dismissed), an audit entry per change, a comment on every tenth — and a
   reviewer account;
2. starts the real collector (`shadowscope collector serve`, one worker) on that database and signs in over HTTP
   like a browser (POST /api/v1/session; the session cookie is kept);
3. finds the console's pages by following the navigation links of its overview page (so the benchmark follows the
   console as it changes), plus the alert queue with a status filter, the first alert's detail page, and the JSON
   alert list and detail; times each page `--requests` times after two warm-up requests, sequentially, as one
   reviewer clicking through;
4. times GET /healthz in the same run as the in-run reference: the server's floor for any request on this
   machine at this moment (these machines are shared; compare pages to it rather than across runs);
5. does all this twice: first with no daily rollup (a collector whose scheduler has never run: usage pages group
   every day from the events), then after catching up the rollups the way the scheduler's job does (the steady
   state); pages are timed only once the overview's background exposure figure is ready;
6. reads the collector's peak RSS (VmHWM) at the end.

Usage:

    .venv/bin/python bench/console_latency.py [--events N] [--alerts N] [--requests N]
        [--databases sqlite,postgresql] [--output FILE.json]

Writes bench/results/console-latency.json (or --output) and prints a markdown table. Without the PostgreSQL
server binaries the script says so and measures SQLite only.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from html.parser import HTMLParser
from pathlib import Path
from typing import Any
from urllib.parse import urljoin, urlsplit

import httpx
from code_version import git_state
from exposure_exports import build_workload, load
from ingest_targets import ROOT, Target, open_backend
from ingest_throughput import machine_info, running_collector
from process_meter import peak_rss_mib
from sqlalchemy import Engine, insert, select, text

from collector.accounts import users
from collector.accounts.roles import Role
from collector.db import build_session_factory
from collector.models import Alert, AlertComment, AlertEvent, AuditEntry, EventExposure
from collector.scheduling.rollups import roll_up
from rules.catalog import load_catalog
from rules.detection_rules import load_detection_rules

FULL_EVENTS = 1_000_000
FULL_ALERTS = 10_000
REVIEWER = "bench-reviewer"
PASSWORD = "a long benchmark passphrase"
DEFAULT_OUTPUT = ROOT / "bench" / "results" / "console-latency.json"
# A queue as it looks after some weeks of triage: most alerts still new.
STATUS_SHARES = {"new": 0.55, "triaged": 0.15, "escalated": 0.05, "resolved": 0.15, "dismissed": 0.10}
RESOLUTION_OF = {"resolved": "remediated", "dismissed": "false_positive"}
WARMUP = 2


@dataclass
class PageTiming:
    name: str
    path: str
    status: int
    bytes: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    ratio_to_healthz: float = 0.0


@dataclass
class Measurement:
    database: str
    events: int
    alerts: int
    seconds_setup: float
    pages_without_rollup: list[PageTiming] = field(default_factory=list)
    seconds_rollup: float = 0.0  # catching up a year of daily rollups, as the scheduler does on its first run
    pages: list[PageTiming] = field(default_factory=list)
    peak_rss_mib: float = 0.0
    seconds_headline: float = 0.0  # the overview's exposure headline, computed in the background after start-up


# --------------------------------------------------------------------------------------------------- seeding


def seed_alerts(engine: Engine, count: int, seed: int) -> None:
    """`count` alerts over the labelled events, with evidence, audit entries and some comments; and the reviewer."""
    sessions = build_session_factory(engine)
    with sessions.begin() as session:
        reviewer = users.create(session, REVIEWER, Role.REVIEWER, PASSWORD, actor="bench")
        reviewer_id = reviewer.id
    labelled = _labelled_events(engine, count * 5)
    if len(labelled) < count:
        raise SystemExit(f"only {len(labelled)} labelled events for {count} alerts: load more events")
    alerts, evidence = _alert_rows(labelled, count, reviewer_id, random.Random(seed))
    comments = [
        {"alert_id": alert["id"], "author_id": reviewer_id, "body": "Checked with the team lead; see ticket."}
        for alert in alerts[::10]
    ]
    with engine.begin() as connection:
        connection.execute(insert(Alert), alerts)
        connection.execute(insert(AlertEvent), evidence)
        connection.execute(insert(AuditEntry), _audit_rows(alerts))
        connection.execute(insert(AlertComment), comments)
        if engine.dialect.name == "postgresql":
            # Rows were inserted with explicit ids: move the sequence past them, as the collector would have.
            connection.execute(
                text("SELECT setval(pg_get_serial_sequence('alerts', 'id'), (SELECT max(id) FROM alerts))")
            )
    if engine.dialect.name == "postgresql":
        with engine.connect() as connection:
            connection.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE"))


def _labelled_events(engine: Engine, limit: int) -> list[Any]:
    # Through the model, so the UTC column type turns SQLite's text back into aware datetimes.
    with engine.connect() as connection:
        return list(
            connection.execute(
                select(
                    EventExposure.event_id,
                    EventExposure.client,
                    EventExposure.tool_id,
                    EventExposure.occurred_at,
                    EventExposure.category,
                )
                .order_by(EventExposure.occurred_at)
                .limit(limit)
            )
        )


def _alert_rows(
    labelled: Sequence[Any], count: int, reviewer_id: int, rng: random.Random
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Alert rows over consecutive labelled events (1 to 5 each), and their evidence links."""
    rules = [loaded.rule for loaded in load_detection_rules() if loaded.rule.match.labels_any]
    statuses = rng.choices(list(STATUS_SHARES), weights=list(STATUS_SHARES.values()), k=count)
    alerts: list[dict[str, Any]] = []
    evidence: dict[tuple[int, Any], None] = {}  # an event has several categories: one link each
    position = 0
    for index, status in enumerate(statuses):
        rows = labelled[position : position + rng.randint(1, 5)] or [labelled[index]]
        position += len(rows)
        first, rule = rows[0], rules[index % len(rules)]
        occurred = [row.occurred_at for row in rows]
        alerts.append(
            {
                "id": index + 1,
                "rule_id": str(rule.id),
                "severity": rule.level,
                "status": status,
                "resolution": RESOLUTION_OF.get(status),
                "group_key": json.dumps({"client": first.client, "tool_id": first.tool_id}, separators=(",", ":")),
                "client": first.client,
                "tool_id": first.tool_id,
                "source_id": None,
                "first_seen": min(occurred),
                "last_seen": max(occurred),
                "event_count": len(rows),
                "labels": sorted({str(row.category) for row in rows}),
                "entity_types": [],
                "assignee_id": reviewer_id if status != "new" else None,
                "created_at": min(occurred),
                "updated_at": max(occurred),
            }
        )
        evidence.update(dict.fromkeys((index + 1, row.event_id) for row in rows))
    return alerts, [{"alert_id": alert_id, "event_id": event_id} for alert_id, event_id in evidence]


def _audit_rows(alerts: Sequence[dict[str, Any]]) -> list[dict[str, Any]]:
    """A creation entry per alert, and the reviewer's status change for those no longer new."""
    entries = []
    for alert in alerts:
        common = {"subject_kind": "alert", "subject_id": str(alert["id"])}
        entries.append(
            {
                **common,
                "occurred_at": alert["created_at"],
                "actor": "system",
                "action": "alert.created",
                "from_value": None,
                "to_value": alert["severity"],
                "reason": None,
            }
        )
        if alert["status"] != "new":
            entries.append(
                {
                    **common,
                    "occurred_at": alert["updated_at"] + timedelta(hours=1),
                    "actor": f"user:{REVIEWER}",
                    "action": "alert.status",
                    "from_value": "new",
                    "to_value": alert["status"],
                    "reason": "benchmark triage",
                }
            )
    return entries


# ---------------------------------------------------------------------------------------------------- pages


class LinkCollector(HTMLParser):
    """The links of a page, and separately those inside its main navigation (`<nav aria-label="Main">`)."""

    def __init__(self) -> None:
        super().__init__()
        self.links: list[str] = []
        self.nav_links: list[str] = []
        self._in_main_nav = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        attributes = dict(attrs)
        if tag == "nav" and attributes.get("aria-label") == "Main":
            self._in_main_nav = True
        href = attributes.get("href")
        if tag == "a" and href:
            self.links.append(href)
            if self._in_main_nav:
                self.nav_links.append(href)

    def handle_endtag(self, tag: str) -> None:
        if tag == "nav":
            self._in_main_nav = False


def parse_links(response: httpx.Response) -> LinkCollector:
    parser = LinkCollector()
    parser.feed(response.text)
    return parser


def paths(links: Sequence[str], base: str) -> list[str]:
    return [urlsplit(urljoin(base, link)).path for link in links]


def discover_pages(client: httpx.Client) -> list[tuple[str, str]]:
    """(name, path): every page of the console's main navigation, the queue filtered, the newest alert's detail
    page and the busiest tool's (the first link of each kind on the queue and the tools page), and the JSON API."""
    overview = client.get("/console/")
    overview.raise_for_status()
    pages: list[tuple[str, str]] = []
    for path in dict.fromkeys(paths(parse_links(overview).nav_links, str(overview.url))):
        if path.startswith("/console/") and "logout" not in path:
            name = path.rstrip("/").rsplit("/", 1)[-1]
            pages.append(("overview" if name == "console" else name, path))
    for name, path in list(pages):
        if name in {"alerts", "tools"}:
            listing = client.get(path)
            item = next(
                (p for p in paths(parse_links(listing).links, str(listing.url)) if p.startswith(path + "/")), None
            )
            if item:
                pages.append((f"{name} detail", item))
        if name == "alerts":
            pages.append(("alerts?status=new", f"{path}?status=new"))
    alerts = client.get("/api/v1/alerts", params={"limit": 1}).json()
    first = (alerts.get("alerts") or alerts.get("items") or [{}])[0] if isinstance(alerts, dict) else alerts[0]
    pages.append(("API alert list", "/api/v1/alerts"))
    if isinstance(first, dict) and "id" in first:
        pages.append(("API alert detail", f"/api/v1/alerts/{first['id']}"))
    return pages


def time_page(client: httpx.Client, name: str, path: str, requests: int) -> PageTiming:
    for _ in range(WARMUP):
        client.get(path)
    latencies: list[float] = []
    status, size = 0, 0
    for _ in range(requests):
        started = time.perf_counter()
        response = client.get(path)
        latencies.append((time.perf_counter() - started) * 1000)
        status, size = response.status_code, len(response.content)
    latencies.sort()
    p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
    return PageTiming(name, path, status, size, statistics.median(latencies), p95, latencies[-1])


# ----------------------------------------------------------------------------------------------------- main


def measure(target: Target, events: int, alerts: int, requests: int, seed: int) -> Measurement:
    started = time.perf_counter()
    catalog = load_catalog()
    print(f"  loading {events:,} events", file=sys.stderr)
    load(target, build_workload(events, catalog, seed))
    engine = target.engine()
    try:
        print(f"  seeding {alerts:,} alerts", file=sys.stderr)
        seed_alerts(engine, alerts, seed)
    finally:
        engine.dispose()
    result = Measurement(target.backend, events, alerts, time.perf_counter() - started)
    # The collector's own scheduler would catch up the rollups, evaluate a year of rule windows and purge events
    # past the retention period while pages are timed; the benchmark runs the rollup itself, between the rounds.
    os.environ["SHADOWSCOPE_COLLECTOR_RUN_SCHEDULER"] = "false"
    with running_collector(target, workers=1) as server, httpx.Client(base_url=server.base_url, timeout=120) as client:
        signed_in = client.post("/api/v1/session", json={"username": REVIEWER, "password": PASSWORD})
        signed_in.raise_for_status()
        client.headers["Authorization"] = f"Bearer {signed_in.json()['token']}"
        result.seconds_headline = wait_for_headline(client)
        pages = discover_pages(client)
        print("  pages, no daily rollup yet (every day grouped from the events):", file=sys.stderr)
        result.pages_without_rollup = time_pages(client, pages, requests)
        engine = target.engine()
        try:
            rolled = time.perf_counter()
            days = roll_up(build_session_factory(engine), datetime.now(UTC), late_days=7)
            result.seconds_rollup = time.perf_counter() - rolled
        finally:
            engine.dispose()
        print(f"  rolled up {days} days in {result.seconds_rollup:.1f} s; pages again:", file=sys.stderr)
        result.pages = time_pages(client, pages, requests)
        result.peak_rss_mib = peak_rss_mib(server.pids())
    return result


def wait_for_headline(client: httpx.Client, limit_s: float = 600.0) -> float:
    """Seconds until the overview shows its exposure figure: until then a background thread shares the worker's
    CPU with the pages and would inflate their times."""
    started = time.perf_counter()
    while time.perf_counter() - started < limit_s:
        if "Being computed in the background" not in client.get("/console/").text:
            return time.perf_counter() - started
        time.sleep(1.0)
    raise RuntimeError(f"the exposure headline was not computed within {limit_s:.0f} s")


def time_pages(client: httpx.Client, pages: Sequence[tuple[str, str]], requests: int) -> list[PageTiming]:
    reference = time_page(client, "GET /healthz (reference)", "/healthz", requests)
    timings = [reference]
    for name, path in pages:
        timing = time_page(client, name, path, requests)
        timing.ratio_to_healthz = timing.p50_ms / reference.p50_ms if reference.p50_ms else 0.0
        timings.append(timing)
        print(f"    {name}: p50 {timing.p50_ms:.1f} ms, p95 {timing.p95_ms:.1f} ms", file=sys.stderr)
    return timings


def markdown(results: Sequence[Measurement]) -> str:
    lines = [
        "| database | page | status | p50 ms | p95 ms | max ms | p50 / healthz | p50 ms before the rollup | KiB |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for result in results:
        before = {page.name: page for page in result.pages_without_rollup}
        for page in result.pages:
            earlier = before.get(page.name)
            lines.append(
                f"| {result.database} | {page.name} | {page.status} | {page.p50_ms:.1f} | {page.p95_ms:.1f} | "
                f"{page.max_ms:.1f} | {page.ratio_to_healthz:.1f} | {earlier.p50_ms if earlier else 0:.1f} | "
                f"{page.bytes / 1024:.0f} |"
            )
    lines.append("")
    lines += [
        f"- {r.database}: collector peak RSS {r.peak_rss_mib:.0f} MiB; setup {r.seconds_setup:.0f} s; exposure "
        f"headline ready after {r.seconds_headline:.1f} s; daily rollup catch-up {r.seconds_rollup:.1f} s"
        for r in results
    ]
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=FULL_EVENTS)
    parser.add_argument("--alerts", type=int, default=FULL_ALERTS)
    parser.add_argument("--requests", type=int, default=20, help="timed requests per page")
    parser.add_argument("--databases", default="sqlite,postgresql")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT)
    return parser.parse_args(argv)


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    results: list[Measurement] = []
    with tempfile.TemporaryDirectory(prefix="shadowscope-console-bench-") as scratch:
        for name in options.databases.split(","):
            with open_backend(name.strip(), Path(scratch)) as backend:
                if backend is None:
                    continue
                print(f"{backend.version}", file=sys.stderr)
                target = backend.new_target(f"console_{uuid.uuid4().hex[:8]}")
                results.append(measure(target, options.events, options.alerts, options.requests, options.seed))
    report = {
        "benchmark": "console-latency",
        "measured_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "code": git_state(ROOT, ["collector", "rules", "migrations"]),
        "machine": machine_info(),
        "options": {k: str(v) for k, v in vars(options).items()},
        "results": [asdict(result) for result in results],
    }
    options.output.parent.mkdir(parents=True, exist_ok=True)
    options.output.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
