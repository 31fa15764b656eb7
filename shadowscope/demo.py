"""`shadowscope demo`: the main job end to end on embedded defaults.

Starts a real collector process on SQLite, delivers the bundled sample batches over HTTP the way a sensor and
the browser gateway do, re-sends one to show idempotency, sends a broken one to show the error, runs the sensor
over the bundled capture so its usage events arrive too, and reports what was stored.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

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


def run_demo(workdir: Path) -> None:
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
        typer.echo(
            f"\nThe database stays in {workdir}; try: .venv/bin/shadowscope report usage --data-dir "
            f"{workdir} --group-by tool,client"
        )
    finally:
        server.stop()
