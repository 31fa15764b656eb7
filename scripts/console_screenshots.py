"""Render the console's pages at 1366x768 into docs/console/*.png, from a real collector with invented data.

A collector process starts on a throwaway database; a month of network usage and some browser pastes and uploads
(findings only, never text) are posted to /api/v1/batches, so the alerts are the collector's own; two sensors and
three browser extensions send heartbeats. Debian's Chromium, driven by Playwright, signs in as a reviewer,
triages one alert, and screenshots each page. Deterministic data (fixed seed); the times are relative to now.

    .venv/bin/python scripts/console_screenshots.py [--out docs/console]
"""

from __future__ import annotations

import argparse
import random
import shutil
import sys
import tempfile
import time
import uuid
from collections.abc import Iterable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx

from collector import policy
from collector.accounts import users
from collector.accounts.roles import Role
from collector.keys import Scope, create_key
from collector.settings import load_settings
from shadowscope.database import open_sessions
from shadowscope.local_collector import LocalCollector

if TYPE_CHECKING:
    from playwright.sync_api import ViewportSize

ROOT = Path(__file__).resolve().parents[1]
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
PASSWORD = "correct horse battery staple"
VIEWPORT: ViewportSize = {"width": 1366, "height": 768}
# (tool id, host name, server IP, daily network events on a weekday): what an office of 40 people uses.
TOOLS = (
    ("openai-chatgpt", "chatgpt.com", "104.18.32.47", 38),
    ("github-copilot", "api.githubcopilot.com", "140.82.112.21", 30),
    ("microsoft-365-copilot", "copilot.microsoft.com", "13.107.42.14", 18),
    ("google-gemini", "gemini.google.com", "142.250.74.78", 12),
    ("anthropic-claude", "claude.ai", "160.79.104.10", 9),
    ("deepseek-chat", "chat.deepseek.com", "116.205.40.120", 6),
    ("perplexity", "www.perplexity.ai", "104.18.26.48", 5),
    ("otter-ai", "otter.ai", "52.33.110.12", 2),
)
STATUSES = {
    "openai-chatgpt": policy.ToolStatus.SANCTIONED,
    "microsoft-365-copilot": policy.ToolStatus.SANCTIONED,
    "github-copilot": policy.ToolStatus.SANCTIONED,
    "google-gemini": policy.ToolStatus.TOLERATED,
    "perplexity": policy.ToolStatus.TOLERATED,
}
PEOPLE = ("j.doe", "m.curie", "a.lovelace", "g.hopper", "k.johnson", "t.berners-lee")
# (person, tool, host, kind, labels, minutes ago): the browser findings that raise alerts.
FINDINGS = (
    ("j.doe", "deepseek-chat", "chat.deepseek.com", "paste", ["pii"], 35),
    ("j.doe", "deepseek-chat", "chat.deepseek.com", "paste", ["pii", "phi"], 25),
    ("m.curie", "anthropic-claude", "claude.ai", "paste", ["payment_card"], 80),
    ("a.lovelace", "openai-chatgpt", "chatgpt.com", "paste", ["credentials"], 140),
    ("g.hopper", "otter-ai", "otter.ai", "upload", ["legal"], 300),
    ("k.johnson", "deepseek-chat", "chat.deepseek.com", "prompt", ["phi"], 26 * 60),
    ("t.berners-lee", "anthropic-claude", "claude.ai", "upload", ["financial", "pii"], 50 * 60),
)
ENTITIES = {
    "pii": {"person": 2, "email_address": 3},
    "phi": {"medical_record_number": 1, "person": 1},
    "payment_card": {"credit_card": 1},
    "credentials": {"api_key": 1},
    "legal": {},
    "financial": {},
}


def _batch(events: list[dict[str, Any]]) -> dict[str, Any]:
    return {
        "schema_version": "1.0",
        "batch_id": str(uuid.uuid4()),
        "sent_at": datetime.now(UTC).isoformat(),
        "events": events,
    }


def network_events(sensor_id: str, now: datetime, rng: random.Random) -> Iterable[dict[str, Any]]:
    for days_ago in range(29, -1, -1):
        day = now - timedelta(days=days_ago)
        weekend = day.weekday() >= 5
        for tool_id, host, server_ip, per_day in TOOLS:
            # Growing use over the month, little at weekends: the trend a reviewer should notice.
            count = int(
                per_day * (0.15 if weekend else 1.0) * (0.6 + 0.4 * (30 - days_ago) / 30) * rng.uniform(0.7, 1.3)
            )
            for _ in range(count):
                start = day.replace(hour=rng.randint(7, 18), minute=rng.randint(0, 59), second=0, microsecond=0)
                if start > now:
                    start = now - timedelta(minutes=rng.randint(5, 60))
                yield {
                    "event_id": str(uuid.uuid4()),
                    "kind": "network_usage",
                    "sensor_id": sensor_id,
                    "client_ip": f"10.0.{rng.randint(1, 3)}.{rng.randint(10, 60)}",
                    "server_ip": server_ip,
                    "server_port": 443,
                    "transport": "tcp",
                    "tool_id": tool_id,
                    "server_name": host,
                    "signals": ["dns", "tls_sni"],
                    "bytes_up": rng.randint(2_000, 400_000),
                    "bytes_down": rng.randint(20_000, 2_000_000),
                    "packets_up": 20,
                    "packets_down": 40,
                    "first_seen": start.isoformat(),
                    "last_seen": (start + timedelta(minutes=4)).isoformat(),
                }


def browser_events(now: datetime) -> list[dict[str, Any]]:
    events = []
    for index, (person, tool_id, host, kind, labels, minutes_ago) in enumerate(FINDINGS):
        counts: dict[str, int] = {}
        for label in labels:
            counts.update(ENTITIES[label])
        findings = {"labels": labels, "entity_counts": counts, "text_hmac": f"{index + 1:064x}", "text_length": 900}
        event: dict[str, Any] = {
            "event_id": str(uuid.uuid4()),
            "kind": kind,
            "device_id": f"laptop-{PEOPLE.index(person) + 1:04d}",
            "user": person,
            "tool_id": tool_id,
            "host": host,
            "occurred_at": (now - timedelta(minutes=minutes_ago)).isoformat(),
            "findings": findings,
        }
        if kind == "upload":
            event |= {"file_name": "q3-board-pack.pdf", "file_size": 482_113, "file_sha256": f"{index + 7:064x}"}
        events.append(event)
    return events


def heartbeat(producer_id: str, kind: str, now: datetime, **values: Any) -> dict[str, Any]:
    return {
        "producer_id": producer_id,
        "kind": kind,
        "version": "0.1.0",
        "sent_at": now.isoformat(),
        "spool_batches": 0,
        "spool_bytes": 0,
        **values,
    }


def post(client: httpx.Client, path: str, token: str, body: dict[str, Any]) -> None:
    answer = client.post(path, json=body, headers={"Authorization": f"Bearer {token}"})
    if answer.status_code >= 300:
        raise SystemExit(f"{path}: {answer.status_code} {answer.text}")


def seed(collector: LocalCollector) -> None:
    now = datetime.now(UTC)
    rng = random.Random(20261125)
    with open_sessions(load_settings(data_dir=collector.data_dir)) as sessions, sessions.begin() as session:
        users.create(session, "ada", Role.ADMIN, PASSWORD, actor="system", display_name="Ada Admin")
        users.create(session, "rita", Role.REVIEWER, PASSWORD, actor="system", display_name="Rita Reviewer")
        users.create(session, "otto", Role.READ_ONLY, PASSWORD, actor="system", display_name="Otto Auditor")
        for tool_id, status in STATUSES.items():
            policy.change(session, policy.SubjectKind.TOOL, tool_id, status, actor="user:ada", reason="tool review")
        hq = create_key(session, Scope.SENSOR, "tap-hq-01", "HQ tap").token
        branch = create_key(session, Scope.SENSOR, "tap-branch-02", "branch tap").token
        browser = create_key(session, Scope.BROWSER, None, "extension gateway").token
    with httpx.Client(base_url=collector.url, timeout=60) as client:
        network = list(network_events("tap-hq-01", now, rng))
        for start in range(0, len(network), 1000):
            post(client, "/api/v1/batches", hq, _batch(network[start : start + 1000]))
        post(client, "/api/v1/batches", browser, _batch(browser_events(now)))
        healthy = heartbeat("tap-hq-01", "sensor", now, packets=9_812_004, events=len(network), capture_drops=0)
        post(client, "/api/v1/heartbeats", hq, healthy)
        # The branch tap cannot reach the collector: 14 batches wait on its disk, the oldest for 42 minutes.
        spooled = (now - timedelta(minutes=42)).isoformat()
        behind = heartbeat(
            "tap-branch-02", "sensor", now, spool_batches=14, spool_bytes=3_811_002, oldest_spooled_at=spooled
        )
        post(client, "/api/v1/heartbeats", branch, behind | {"capture_drops": 112})
        for number in range(1, 4):
            post(client, "/api/v1/heartbeats", browser, heartbeat(f"laptop-{number:04d}", "extension", now))


def wait_for_headline(page: Any) -> None:
    """The exposure figure is computed in the background; reload until it is there (or give up after a minute)."""
    deadline = time.monotonic() + 60
    while "a year (P90" not in page.content() and time.monotonic() < deadline:
        time.sleep(1)
        page.reload()


def screenshots(url: str, out: Path) -> list[Path]:
    from playwright.sync_api import sync_playwright  # noqa: PLC0415 - a development tool, not a dependency

    taken: list[Path] = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        page = browser.new_context(viewport=VIEWPORT, base_url=url).new_page()

        def shot(name: str, full_page: bool = False) -> None:
            path = out / f"{name}.png"
            page.screenshot(path=path, full_page=full_page)
            taken.append(path)

        page.goto("/console/login")
        page.get_by_label("Username").fill("rita")
        shot("login")
        page.get_by_label("Password").fill(PASSWORD)
        page.get_by_role("button", name="Sign in").click()
        page.wait_for_url("**/console/")
        wait_for_headline(page)
        shot("overview")
        page.goto("/console/alerts")
        shot("alerts")
        page.goto("/console/alerts?severity=high&client=j.doe")
        page.get_by_role("link", name="Personal, health or card data sent to an unsanctioned AI tool").first.click()
        actions = page.get_by_role("region", name="Triage")
        actions.get_by_label("Triaged").check()
        actions.get_by_label("Reason").fill("Asked j.doe what was pasted")
        actions.get_by_role("button", name="Change status").click()
        page.get_by_label("Add a comment").fill("j.doe confirms a customer export; data deleted from the chat.")
        page.get_by_role("button", name="Comment").click()
        page.goto(page.url.split("?")[0])
        shot("alert-detail", full_page=True)
        page.goto("/console/tools?in_use=1")
        shot("tools")
        page.goto("/console/tools/deepseek-chat")
        shot("tool-detail")
        page.goto("/console/producers")
        shot("producers")
        browser.close()
    return taken


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "console")
    args = parser.parse_args(argv)
    if not Path(CHROMIUM).exists():
        print("Chromium is missing: apt-get install -y chromium", file=sys.stderr)
        return 2
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory() as work:
        collector = LocalCollector(Path(work) / "collector")
        collector.start()
        try:
            seed(collector)
            for path in screenshots(collector.url, args.out):
                print(path)
        finally:
            collector.stop()
    return 0


if __name__ == "__main__":
    sys.exit(main())
