"""`shadowscope sensor`: find AI-tool use in capture files and on live interfaces; deliver it to the collector."""

from __future__ import annotations

import hashlib
import os
import socket
from dataclasses import dataclass
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from shadowscope.options import fail

if TYPE_CHECKING:
    from sensor.capture.base import PacketSource
    from sensor.runner import Summary

app = typer.Typer(
    help="Network sensor: find AI-tool use on taps and deliver it to the collector.", no_args_is_help=True
)

CollectorUrl = Annotated[
    str, typer.Option("--collector", envvar="SHADOWSCOPE_COLLECTOR_URL", help="Collector base URL.")
]
ApiKey = Annotated[
    str,
    typer.Option("--api-key", envvar="SHADOWSCOPE_SENSOR_API_KEY", help="This sensor's API key.", show_default=False),
]
SensorId = Annotated[
    str, typer.Option("--sensor-id", envvar="SHADOWSCOPE_SENSOR_ID", help="This sensor's id (its key is bound to it).")
]
SpoolDir = Annotated[
    Path,
    typer.Option(
        "--spool-dir", envvar="SHADOWSCOPE_SENSOR_SPOOL", help="Where batches wait until delivered.", file_okay=False
    ),
]
Jsonl = Annotated[bool, typer.Option("--jsonl", help="Write one observation per line to stdout; send nothing.")]
Window = Annotated[int, typer.Option("--window", min=10, max=86_400, help="Seconds per usage-event window.")]
HeartbeatInterval = Annotated[
    float,
    typer.Option(
        "--heartbeat-interval",
        envvar="SHADOWSCOPE_SENSOR_HEARTBEAT_INTERVAL",
        min=1.0,
        max=3600.0,
        help="Seconds between heartbeats to the collector (health: liveness and spool backlog).",
    ),
]


class Backend(StrEnum):
    BLOCKS = "blocks"
    DPKT = "dpkt"
    SCAPY = "scapy"
    TSHARK = "tshark"


BackendOption = Annotated[
    Backend,
    typer.Option(
        "--backend",
        help="Capture-file reader: blocks (the fast one), or dpkt / scapy / tshark to cross-check it. pcapng files "
        "are read by our own walker under blocks and dpkt alike.",
        case_sensitive=False,
    ),
]


def _file_sources(captures: list[str], backend: Backend) -> list[PacketSource]:
    # Only the chosen backend is imported: scapy alone costs a tenth of a second and 20 MiB.
    if backend is Backend.SCAPY:
        from sensor.capture.scapy_file import ScapyFile

        return [ScapyFile(capture) for capture in captures]
    if backend is Backend.TSHARK:
        from sensor.capture.tshark import INSTALL_HINT, TsharkFile

        if not TsharkFile.available():
            raise fail(f"--backend tshark needs tshark: {INSTALL_HINT}")
        return [TsharkFile(capture) for capture in captures]
    from sensor.capture.files import CaptureFile

    if backend is Backend.DPKT:
        return [CaptureFile(capture, pcap_reader="dpkt") for capture in captures]
    return [CaptureFile(capture) for capture in captures]


def _default_spool() -> Path:
    base = os.environ.get("XDG_STATE_HOME") or Path.home() / ".local" / "state"
    return Path(base) / "shadowscope" / "spool"


def _echo_summary(summary: Summary) -> None:
    for line in summary.lines():
        typer.echo(line, err=True)


@dataclass(frozen=True)
class _Delivery:
    """Where usage events go: the options `read` and `live` share."""

    sensor_id: str
    collector: str
    api_key: str
    spool_dir: Path | None
    window: int
    heartbeat_interval: float = 60.0


def _run(sources: list[PacketSource], jsonl: bool, delivery: _Delivery, run_id: str, drain_timeout: float) -> None:
    """Observations to stdout (--jsonl), or usage events to the collector; a capture that cannot be read is an error."""
    from sensor.capture.base import CaptureError
    from sensor.runner import write_observations

    try:
        if jsonl:
            _echo_summary(write_observations(sources))
            return
        if not delivery.api_key or not delivery.sensor_id:
            raise fail("sending to the collector needs --sensor-id and --api-key (or use --jsonl)")
        _deliver(sources, delivery, run_id, drain_timeout)
    except CaptureError as error:
        raise fail(str(error)) from error


def _deliver(sources: list[PacketSource], delivery: _Delivery, run_id: str, drain_timeout: float) -> Summary:
    from sensor.delivery import CollectorClient, RetryPolicy
    from sensor.heartbeat import CaptureCounters, HeartbeatSender
    from sensor.runner import aggregate_usage
    from sensor.shipper import EventBatcher, Shipper
    from sensor.spool import Spool

    spool_dir = delivery.spool_dir or _default_spool()
    spool = Spool(spool_dir)
    batcher = EventBatcher(spool)
    # One attempt per try: the shipper owns backoff, so the packet loop is never held up by a slow collector.
    client = CollectorClient(delivery.collector, delivery.api_key, retry=RetryPolicy(attempts=1), timeout=15.0)
    shipper = Shipper(spool, client)
    emitted = [0]

    def counters() -> CaptureCounters:
        interface = getattr(sources[0], "interface", None) if len(sources) == 1 else None
        return CaptureCounters(sum(source.stats.frames for source in sources), emitted[0], interface)

    heartbeat = HeartbeatSender(
        client, delivery.sensor_id, spool, interval=delivery.heartbeat_interval, counters=counters
    )
    shipper.start()
    heartbeat.start()
    try:

        def emit(event: object) -> None:
            batcher.add(event)  # type: ignore[arg-type]
            emitted[0] += 1
            shipper.poke()

        summary = aggregate_usage(sources, delivery.sensor_id, emit, delivery.window, run_id)
        batcher.flush()
    finally:
        drained = shipper.stop(drain_timeout=drain_timeout)
        heartbeat.stop()
        client.close()
    _echo_summary(summary)
    stats = spool.stats
    typer.echo(
        f"delivery: {stats.delivered} batches delivered, {len(spool.pending())} still spooled in {spool_dir}, "
        f"{stats.rejected} refused (kept in {spool.rejected_dir})",
        err=True,
    )
    if not drained:
        typer.echo(f"collector not reachable ({shipper.last_error}); the next run delivers the spool", err=True)
    return summary


@app.command()
def read(
    captures: Annotated[list[str], typer.Argument(help="pcap or pcapng files, or - for standard input.")],
    jsonl: Jsonl = False,
    sensor_id: SensorId = "",
    collector: CollectorUrl = "http://127.0.0.1:8080",
    api_key: ApiKey = "",
    spool_dir: SpoolDir = None,  # type: ignore[assignment]
    window: Window = 300,
    heartbeat_interval: HeartbeatInterval = 60.0,
    drain_timeout: Annotated[float, typer.Option(help="Seconds to keep trying delivery at the end.")] = 60.0,
    backend: BackendOption = Backend.BLOCKS,
) -> None:
    """Read capture files: print observations (--jsonl), or send usage events to the collector."""
    for capture in captures:
        if capture != "-" and not Path(capture).is_file():
            raise fail(f"{capture}: no such file")
    # Re-reading the same files yields the same event ids, so the collector stores them once.
    run_id = hashlib.sha256("\0".join(os.path.abspath(c) for c in captures).encode()).hexdigest()[:16]
    delivery = _Delivery(sensor_id, collector, api_key, spool_dir, window, heartbeat_interval)
    _run(_file_sources(captures, backend), jsonl, delivery, run_id, drain_timeout)


@app.command()
def live(
    interface: Annotated[str, typer.Option("--interface", "-i", help="Interface to capture on (e.g. eth1).")],
    bpf: Annotated[
        str | None, typer.Option(help="BPF filter; default: web and DNS ports, also inside VLAN tags.")
    ] = None,
    jsonl: Jsonl = False,
    sensor_id: SensorId = "",
    collector: CollectorUrl = "http://127.0.0.1:8080",
    api_key: ApiKey = "",
    spool_dir: SpoolDir = None,  # type: ignore[assignment]
    window: Window = 300,
    heartbeat_interval: HeartbeatInterval = 60.0,
) -> None:
    """Capture on an interface until interrupted (needs CAP_NET_RAW; see docs/sensor.md)."""
    from sensor.capture.live import DEFAULT_BPF, LiveCapture

    sources: list[PacketSource] = [LiveCapture(interface, bpf if bpf is not None else DEFAULT_BPF)]
    # A live run's events are its own: a restarted sensor must not reuse the ids of the windows it sent before.
    run_id = f"{socket.gethostname()}-{os.getpid()}-{os.urandom(4).hex()}"
    try:
        delivery = _Delivery(sensor_id, collector, api_key, spool_dir, window, heartbeat_interval)
        _run(sources, jsonl, delivery, run_id, drain_timeout=30.0)
    except KeyboardInterrupt:
        typer.echo("stopped", err=True)


@app.command()
def crosscheck(
    captures: Annotated[list[str], typer.Argument(help="pcap or pcapng files.")],
) -> None:
    """Compare the names ShadowScope reads with those tshark's dissectors find; exit 1 if tshark found one we missed.

    Exit 2 if a file could not be checked (not a capture, or tshark missing).
    """
    from sensor.capture.base import CaptureError
    from sensor.capture.tshark import INSTALL_HINT, TsharkFile
    from sensor.crosscheck import crosscheck as compare_with_tshark
    from sensor.runner import build_resolver

    if not TsharkFile.available():
        raise fail(f"crosscheck needs tshark: {INSTALL_HINT}")
    resolver = build_resolver()
    missed = unreadable = False
    for capture in captures:
        if not Path(capture).is_file():
            typer.echo(f"{capture}: no such file", err=True)
            unreadable = True
            continue
        try:
            comparison = compare_with_tshark(capture, resolver)
        except CaptureError as error:
            typer.echo(str(error), err=True)
            unreadable = True
            continue
        for line in comparison.lines():
            typer.echo(line)
        missed = missed or comparison.missed
    if unreadable:
        raise typer.Exit(2)
    if missed:
        raise typer.Exit(1)


@app.command()
def send(
    batch_files: Annotated[
        list[Path],
        typer.Argument(
            help="Event batch JSON files (the contract in events/).", exists=True, dir_okay=False, readable=True
        ),
    ],
    collector: CollectorUrl = "http://127.0.0.1:8080",
    api_key: ApiKey = "",
) -> None:
    """Validate event batch files against the contract and deliver them, retrying transient failures."""
    from pydantic import ValidationError

    from events.models import EventBatch
    from sensor.delivery import CollectorClient, DeliveryFailed, DeliveryRefused

    if not api_key:
        raise fail("no API key: pass --api-key or set SHADOWSCOPE_SENSOR_API_KEY")
    failures = 0
    with CollectorClient(collector, api_key) as client:
        for path in batch_files:
            try:
                batch = EventBatch.model_validate_json(path.read_bytes())
                receipt = client.send(batch)
            except ValidationError as error:
                failures += 1
                first = error.errors()[0]
                where = ".".join(str(part) for part in first["loc"])
                typer.echo(f"{path}: not a valid batch: {where}: {first['msg']}", err=True)
            except (DeliveryRefused, DeliveryFailed) as error:
                failures += 1
                typer.echo(f"{path}: {error}", err=True)
            else:
                note = " (already delivered)" if receipt.duplicate_batch else ""
                typer.echo(f"{path}: {receipt.received} events, {receipt.stored} new{note}")
    if failures:
        raise typer.Exit(1)
