"""`shadowscope demo`: the main job end to end on embedded defaults.

Starts a real collector process on SQLite, delivers the bundled sample batches over HTTP the way a sensor and
the browser gateway do, re-sends one to show idempotency, sends a broken one to show the error, runs the sensor
over the bundled capture so its usage events arrive too, and reports what was stored. Then the browser gateway
delivers three months of prompts from an invented health-tech company (classified by the collector on arrival),
the alerts the collector raised on arrival are listed, and the board exposure report is built from the stored
events into out/demo/ (PDF, XLSX, CSV and JSON).
"""

from __future__ import annotations

import json
import shutil
import subprocess
import sys
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
import typer

from collector.keys import IssuedKey, Scope, create_key
from collector.settings import load_settings
from events.models import EventBatch, NetworkUsageEvent
from sensor.delivery import CollectorClient, DeliveryRefused
from shadowscope.database import open_sessions
from shadowscope.local_collector import LocalCollector

SAMPLE_DIR = Path(__file__).resolve().parents[1] / "sample-data"
READY_TIMEOUT_S = 60.0
OUT_DIR = Path("out/demo")  # relative to where the demo runs: the project root under `make demo`
REPORT_FILES = ("report.pdf", "report.xlsx", "report.csv", "report.json")
PROMPTS_FROM, PROMPTS_TO = "2026-08-01", "2026-10-31"  # the three months of prompts in sample-data/
LABELS = ("pii", "phi", "payment_card", "financial", "legal", "credentials")


def _issue_keys(data_dir: Path, sensor_id: str) -> dict[Scope, IssuedKey]:
    with open_sessions(load_settings(data_dir=data_dir)) as sessions, sessions.begin() as session:
        return {
            Scope.SENSOR: create_key(session, Scope.SENSOR, sensor_id, "demo sensor"),
            Scope.BROWSER: create_key(session, Scope.BROWSER, None, "demo browser gateway"),
            Scope.READ: create_key(session, Scope.READ, None, "demo reader"),
        }


def _deliver(base_url: str, keys: dict[Scope, IssuedKey]) -> None:
    network = EventBatch.model_validate_json((SAMPLE_DIR / "network-batch.json").read_bytes())
    browser = EventBatch.model_validate_json((SAMPLE_DIR / "browser-batch.json").read_bytes())
    with CollectorClient(base_url, keys[Scope.SENSOR].token) as sensor:
        receipt = sensor.send(network)
        typer.echo(f"sensor batch: {receipt.received} events received, {receipt.stored} stored")
        receipt = sensor.send(network)
        typer.echo(f"same batch again: {receipt.stored} stored (duplicate batch: {receipt.duplicate_batch})")
        broken = network.model_dump(mode="json")
        broken["batch_id"] = "00000000-0000-4000-8000-000000000000"
        broken["events"][3]["bytes_up"] = -5
        response = httpx.post(
            f"{base_url}/api/v1/batches",
            json=broken,
            headers={"Authorization": f"Bearer {keys[Scope.SENSOR].token}"},
        )
        typer.echo(f"batch with one bad event: HTTP {response.status_code}: {response.json()['error']['message']}")
    with CollectorClient(base_url, keys[Scope.BROWSER].token) as gateway:
        receipt = gateway.send(browser)
        typer.echo(f"browser batch: {receipt.received} events received, {receipt.stored} stored")
        try:
            gateway.send(network)
        except DeliveryRefused as error:
            typer.echo(f"network events under a browser key: {error}")


def _run_sensor(base_url: str, sensor_id: str, key: IssuedKey, workdir: Path) -> None:
    """The network path: the sensor reads a capture, finds AI-tool use and delivers usage events."""
    capture = SAMPLE_DIR / "office-morning.pcap"
    typer.echo(f"\nsensor reads {capture.name} and delivers usage events:")
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        [
            sys.executable,
            "-m",
            "shadowscope",
            "sensor",
            "read",
            str(capture),
            "--sensor-id",
            sensor_id,
            "--collector",
            base_url,
            "--api-key",
            key.token,
            "--spool-dir",
            str(workdir / "spool"),
        ],
        capture_output=True,
        text=True,
        check=False,
        timeout=300,
    )
    for line in result.stderr.splitlines():
        typer.echo(f"  {line}")
    if result.returncode != 0:
        raise RuntimeError(f"the sensor failed with status {result.returncode}")


def _show_usage(base_url: str, reader: IssuedKey) -> None:
    response = httpx.get(
        f"{base_url}/api/v1/usage",
        params={"group_by": "tool"},
        headers={"Authorization": f"Bearer {reader.token}"},
    )
    response.raise_for_status()
    typer.echo("\nAI-tool usage stored by the collector (GET /api/v1/usage):")
    typer.echo(f"{'tool':<20}{'events':>8}{'flows':>7}{'clients':>9}{'MB up':>9}{'MB down':>9}")
    for row in response.json()["rows"]:
        typer.echo(
            f"{row['tool_id'] or '(unknown)':<20}{row['events']:>8}{row['flows']:>7}{row['clients']:>9}"
            f"{row['bytes_up'] / 1e6:>9.2f}{row['bytes_down'] / 1e6:>9.2f}"
        )


def _deliver_prompts(base_url: str, gateway_key: IssuedKey) -> None:
    """The browser path with text: three months of prompts and pastes, classified by the collector as they arrive."""
    typer.echo("\nbrowser gateway delivers three months of prompts from Lumenwell Health (invented):")
    with CollectorClient(base_url, gateway_key.token) as gateway:
        for path in sorted(SAMPLE_DIR.glob("prompts-batch-*.json")):
            receipt = gateway.send(EventBatch.model_validate_json(path.read_bytes()))
            typer.echo(f"  {path.name}: {receipt.received} events received, {receipt.stored} stored")


def _content_events(base_url: str, reader: IssuedKey) -> list[dict[str, Any]]:
    events: list[dict[str, Any]] = []
    for kind in ("prompt", "paste"):
        after: int | None = None
        while True:
            params: dict[str, str | int] = {"kind": kind, "limit": 1000}
            if after is not None:
                params["after"] = after
            response = httpx.get(
                f"{base_url}/api/v1/events", params=params, headers={"Authorization": f"Bearer {reader.token}"}
            )
            response.raise_for_status()
            page = response.json()
            events.extend(page["events"])
            after = page["next_after"]
            if after is None:
                break
    return events


def _show_classification(base_url: str, reader: IssuedKey) -> None:
    """What the collector found in the texts (GET /api/v1/events: labels and counts, never the text)."""
    events = _content_events(base_url, reader)
    per_label: Counter[str] = Counter()
    people: dict[str, set[str]] = {}
    classified = labelled = 0
    for event in events:
        classification = event["detail"].get("classification")
        if classification is None:  # a paste the device had already reduced to findings
            continue
        classified += 1
        labelled += bool(classification["labels"])
        for label in classification["labels"]:
            per_label[label] += 1
            people.setdefault(label, set()).add(event["client"])
    typer.echo(
        f"\nwhat the collector found in {classified} prompt and paste texts (GET /api/v1/events; it stores labels,"
        "\nentity counts and a redacted snippet, not the text):"
    )
    typer.echo(f"{'label':<14}{'events':>8}{'users':>7}")
    for label in LABELS:
        typer.echo(f"{label:<14}{per_label[label]:>8}{len(people.get(label, ())):>7}")
    typer.echo(f"{labelled} of {classified} texts carry at least one label; the rest are ordinary work")


def _show_alerts(base_url: str, reader: IssuedKey) -> None:
    """The alerts the collector raised on arrival from its detection rules (GET /api/v1/alerts), per rule."""
    per_rule: Counter[tuple[str, str]] = Counter()
    folded: Counter[tuple[str, str]] = Counter()
    before: str | None = None
    while True:
        params: dict[str, str | int] = {"limit": 200}
        if before is not None:
            params["before"] = before
        response = httpx.get(
            f"{base_url}/api/v1/alerts", params=params, headers={"Authorization": f"Bearer {reader.token}"}
        )
        response.raise_for_status()
        page = response.json()
        for alert in page["alerts"]:
            key = (alert["severity"], alert["rule_title"] or alert["rule_id"])
            per_rule[key] += 1
            folded[key] += alert["event_count"]
        before = page["next_before"]
        if before is None:
            break
    typer.echo("\nalerts the collector raised from its detection rules as the events arrived (GET /api/v1/alerts):")
    typer.echo(f"{'level':<10}{'alerts':>7}{'events':>8}  rule")
    for (level, title), count in sorted(per_rule.items(), key=lambda item: (-item[1], item[0])):
        typer.echo(f"{level:<10}{count:>7}{folded[(level, title)]:>8}  {title}")


def _build_report(workdir: Path, out_dir: Path, trials: int | None) -> None:
    """`shadowscope report --out`: the board exposure report from the stored events, in its own process."""
    organisation = SAMPLE_DIR / "organisation.yaml"
    typer.echo(
        f"\nbuilding the board exposure report for {PROMPTS_FROM} to {PROMPTS_TO} (organisation profile "
        f"sample-data/{organisation.name}):"
    )
    command = [
        sys.executable,
        "-m",
        "shadowscope",
        "report",
        "--out",
        str(out_dir),
        "--data-dir",
        str(workdir),
        "--org",
        str(organisation),
        "--from",
        PROMPTS_FROM,
        "--to",
        PROMPTS_TO,
    ]
    if trials is not None:
        command += ["--trials", str(trials)]
    for name in REPORT_FILES:  # a failed run must not leave last run's files looking current
        (out_dir / name).unlink(missing_ok=True)
    result = subprocess.run(  # noqa: S603 - our own interpreter and arguments
        command, capture_output=True, text=True, check=False, timeout=600
    )
    if result.returncode != 0:
        for line in (result.stderr or result.stdout).splitlines():
            typer.echo(f"  {line}")
        raise RuntimeError(f"the report failed with status {result.returncode}")
    headline = next((line for line in result.stdout.splitlines() if line.startswith("expected annual loss")), None)
    if headline:
        typer.echo(f"  {headline}")
    _show_regulations(out_dir / "report.json")
    typer.echo(f"\nthe board report is in {out_dir}/:")
    for name in REPORT_FILES:
        path = out_dir / name
        typer.echo(f"  {path}  ({path.stat().st_size / 1024:,.0f} KB)")


def _show_regulations(report_json: Path) -> None:
    """Where the expected loss comes from, read back from the JSON export (the figures every export shows)."""
    try:
        report = json.loads(report_json.read_text(encoding="utf-8"))
        regulations = [
            (str(r["name"]), bool(r["applies"]), str(r["why"]), float(r["loss"]["mean"])) for r in report["regulations"]
        ]
        response = float(report["shared_response"]["mean"])
        evidence = report["evidence"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        typer.echo(f"  (could not read {report_json.name}: {error})")
        return
    typer.echo(
        f"  {evidence['labelled_events']} labelled events, {evidence['distinct_subjects']} distinct people, "
        f"{evidence['users']} users, {evidence['tools']} tools; expected annual loss (mean) by source:"
    )
    typer.echo(f"    {'Response costs (shared, once per loss event)':<52}${response:>12,.0f}")
    for name, applies, why, mean in sorted(regulations, key=lambda row: -row[3]):
        typer.echo(f"    {name:<52}${mean:>12,.0f}" if applies else f"    {name:<52}{'n/a':>13}  ({why})")


def run_demo(workdir: Path, out_dir: Path = OUT_DIR, trials: int | None = None) -> None:
    shutil.rmtree(workdir, ignore_errors=True)
    workdir.mkdir(parents=True)
    network = EventBatch.model_validate_json((SAMPLE_DIR / "network-batch.json").read_bytes())
    sensor_id = next(event.sensor_id for event in network.events if isinstance(event, NetworkUsageEvent))
    keys = _issue_keys(workdir, sensor_id)
    server = LocalCollector(workdir, quiet=False)
    typer.echo(f"starting the collector on {server.url} (SQLite in {workdir})")
    server.start()
    try:
        _deliver(server.url, keys)
        _run_sensor(server.url, sensor_id, keys[Scope.SENSOR], workdir)
        _show_usage(server.url, keys[Scope.READ])
        _deliver_prompts(server.url, keys[Scope.BROWSER])
        _show_classification(server.url, keys[Scope.READ])
        _show_alerts(server.url, keys[Scope.READ])
    finally:
        server.stop()
    _build_report(workdir, out_dir, trials)
    typer.echo(
        f"\nThe database stays in {workdir}; try: .venv/bin/shadowscope report usage --data-dir "
        f"{workdir} --group-by tool,client"
    )
    typer.echo(
        "To triage the alerts in the web console: .venv/bin/shadowscope collector users create you --role admin "
        f"--data-dir {workdir}\n  then .venv/bin/shadowscope collector serve --data-dir {workdir} and open "
        "http://127.0.0.1:8080/console/"
    )
