"""Sustained ingest throughput of a running collector, over real HTTP on loopback, next to a raw-insert ceiling.

For each backend (embedded SQLite, PostgreSQL) and batch size (1, 100, 1,000 events) the script:

1. builds the workload up front: network-usage events with unique ids, as ready JSON bodies (the client's cost
   of building them is not measured);
2. starts `shadowscope collector serve` on a fresh database (once with one worker; for the largest batch size
   also with --workers 2), warms it up, then sends the bodies over several keep-alive connections until the
   workload is spent or the time is up; it reads the CPU time of the server, of the database server and of the
   client, and the server's peak RSS (VmHWM from /proc, summed over its processes) before stopping it, and
   checks that the database holds exactly the events the collector acknowledged as stored;
3. measures the *ceiling* on the same workload under the same bounds: the rows the collector stores for those
   bodies (made beforehand, untimed, by its own RowBuilder) inserted straight into a fresh database of the same
   kind with SQLAlchemy Core executemany, one transaction per batch, on one connection: no HTTP, no
   authentication, no validation, no duplicate handling.

The collector's events/s is reported as a ratio of that ceiling, measured in the same run, since absolute
numbers move with the machine. Usage:

    .venv/bin/python bench/ingest_throughput.py [--quick] [--backends sqlite,postgresql] [--output FILE.json]
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import platform
import shutil
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
from code_version import git_state
from ingest_targets import (
    ROOT,
    Backend,
    CeilingResult,
    Limits,
    Target,
    Workload,
    build_workload,
    count_events,
    issue_sensor_key,
    measure_ceiling,
    open_backend,
)
from process_meter import CpuMeter, CpuShares, peak_rss_mib, process_tree, wait_for_quiet_machine, warn_if_noisy

from events.models import MAX_BATCH_EVENTS

BACKENDS = ("sqlite", "postgresql")
READY_TIMEOUT_S = 60.0
REQUEST_TIMEOUT_S = 120.0


# --------------------------------------------------------------------------------------------- configuration


FULL = Limits(seconds=10.0, max_events=300_000, max_batches=40_000, warmup_batches_per_connection=3)
QUICK = Limits(seconds=2.0, max_events=20_000, max_batches=3_000, warmup_batches_per_connection=1)


@dataclass(frozen=True)
class Options:
    limits: Limits
    backends: tuple[str, ...]
    batch_sizes: tuple[int, ...]
    multi_worker_batch_size: int
    workers: int
    connections: int
    output: Path | None
    quick: bool
    py_spy: Path | None
    py_spy_gil: bool
    wait_quiet: float


def parse_args(argv: Sequence[str] | None = None) -> Options:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n", 1)[0])
    parser.add_argument("--quick", action="store_true", help="Short runs (about 2 s each): a smoke check.")
    parser.add_argument("--backends", default=",".join(BACKENDS), help="Comma-separated: sqlite,postgresql.")
    parser.add_argument("--batch-sizes", default="1,100,1000", help="Events per batch, comma-separated.")
    parser.add_argument("--connections", type=int, default=8, help="Concurrent client connections.")
    parser.add_argument(
        "--workers",
        type=int,
        default=2,
        help="Also run the largest batch size with this many server workers (1: don't).",
    )
    parser.add_argument("--seconds", type=float, help="Time bound of each measurement (overrides the preset).")
    parser.add_argument("--output", type=Path, help="Also write the results as JSON to this file.")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="Before each measurement, wait up to this long for the machine to be idle "
        "(other processes using under a third of a core).",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        metavar="DIR",
        help="Profile the server with py-spy (pip install py-spy) during each collector run and "
        "write collapsed stacks to DIR; the sampling costs some throughput.",
    )
    parser.add_argument(
        "--py-spy-gil",
        action="store_true",
        help="With --py-spy: sample only threads holding the GIL (where Python CPU goes).",
    )
    args = parser.parse_args(argv)
    backends = tuple(name.strip() for name in args.backends.split(",") if name.strip())
    unknown = sorted(set(backends) - set(BACKENDS))
    if unknown:
        parser.error(f"unknown backend(s) {', '.join(unknown)}; choose from {', '.join(BACKENDS)}")
    try:
        sizes = tuple(int(size) for size in args.batch_sizes.split(","))
    except ValueError:
        parser.error(f"--batch-sizes takes comma-separated integers, not {args.batch_sizes!r}")
    if any(not 1 <= size <= MAX_BATCH_EVENTS for size in sizes):
        parser.error("batch sizes must be between 1 and 1000 (the contract's maximum)")
    limits = QUICK if args.quick else FULL
    if args.seconds is not None:
        limits = replace(limits, seconds=args.seconds)
    return Options(
        limits=limits,
        backends=backends,
        batch_sizes=sizes,
        multi_worker_batch_size=max(sizes),
        workers=args.workers,
        connections=args.connections,
        output=args.output,
        quick=args.quick,
        py_spy=args.py_spy,
        py_spy_gil=args.py_spy_gil,
        wait_quiet=args.wait_quiet,
    )


# ------------------------------------------------------------------------------------------- server process


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@dataclass
class CollectorProcess:
    process: subprocess.Popen[bytes]
    base_url: str
    log_path: Path

    def pids(self) -> list[int]:
        return process_tree(self.process.pid)

    def log_tail(self, lines: int = 30) -> str:
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])


@contextlib.contextmanager
def running_collector(target: Target, workers: int) -> Iterator[CollectorProcess]:
    port = _free_port()
    command = [
        sys.executable,
        "-m",
        "shadowscope",
        "collector",
        "serve",
        "--data-dir",
        str(target.data_dir),
        "--port",
        str(port),
        "--workers",
        str(workers),
    ]
    if target.database_url:
        command += ["--database-url", target.database_url]
    target.data_dir.mkdir(parents=True, exist_ok=True)
    log_path = target.data_dir / "collector.log"
    with log_path.open("wb") as log:
        process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, cwd=ROOT)
    server = CollectorProcess(process, f"http://127.0.0.1:{port}", log_path)
    try:
        _wait_ready(server, workers)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _wait_ready(server: CollectorProcess, workers: int) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if server.process.poll() is not None:
            raise RuntimeError(f"the collector exited ({server.process.returncode}):\n{server.log_tail()}")
        with contextlib.suppress(httpx.TransportError):
            # With several workers, wait until each has started (one "Application startup complete" each).
            started = server.log_path.read_text(errors="replace").count("Application startup complete")
            if httpx.get(f"{server.base_url}/readyz", timeout=2).status_code == 200 and started >= workers:
                return
        time.sleep(0.2)
    raise RuntimeError(f"the collector was not ready within {READY_TIMEOUT_S:.0f}s:\n{server.log_tail()}")


# ---------------------------------------------------------------------------------------------------- load


@dataclass
class Tally:
    """What one client connection saw during the timed phase."""

    events: int = 0
    stored: int = 0
    batches: int = 0
    errors: int = 0
    first_error: str | None = None
    latencies_s: list[float] = field(default_factory=list)
    last_done: float = 0.0


class LoadRun:
    """Hands out pre-built bodies to client threads until they run out or the deadline passes."""

    def __init__(self, workload: Workload, connections: int, seconds: float, on_start: Callable[[], None]) -> None:
        self._bodies = workload.bodies
        self._warmup = workload.warmup_bodies
        self._next = 0
        self._lock = threading.Lock()
        self._seconds = seconds
        self._on_start = on_start
        # Every connection warms up, then all start together; the last one to arrive starts the clock.
        self._barrier = threading.Barrier(connections, action=self._start_clock)
        self.start = 0.0
        self.deadline = 0.0
        self.warmup_stored = 0

    def _start_clock(self) -> None:
        self._on_start()
        self.start = time.perf_counter()
        self.deadline = self.start + self._seconds

    def take(self) -> bytes | None:
        with self._lock:
            if self._next >= len(self._bodies) or time.perf_counter() >= self.deadline:
                return None
            self._next += 1
            return self._bodies[self._next - 1]

    def warm_up(self, client: httpx.Client, connection: int, connections: int) -> None:
        for body in self._warmup[connection::connections]:
            response = client.post("/api/v1/batches", content=body)
            response.raise_for_status()
            with self._lock:
                self.warmup_stored += int(response.json()["stored"])

    def drive(self, base_url: str, token: str, connection: int, connections: int) -> Tally:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        tally = Tally()
        with httpx.Client(base_url=base_url, headers=headers, timeout=REQUEST_TIMEOUT_S) as client:
            self.warm_up(client, connection, connections)
            self._barrier.wait()
            while (body := self.take()) is not None:
                sent = time.perf_counter()
                response = client.post("/api/v1/batches", content=body)
                tally.last_done = time.perf_counter()
                tally.latencies_s.append(tally.last_done - sent)
                _record(tally, response)
        return tally


def _record(tally: Tally, response: httpx.Response) -> None:
    if response.status_code == 201:
        receipt = response.json()
        tally.batches += 1
        tally.events += int(receipt["received"])
        tally.stored += int(receipt["stored"])
        return
    tally.errors += 1
    if tally.first_error is None:
        tally.first_error = f"HTTP {response.status_code}: {response.text[:300]}"


@dataclass(frozen=True)
class CollectorResult:
    events: int
    batches: int
    seconds: float
    errors: int
    first_error: str | None
    p50_ms: float
    p95_ms: float
    cpu: CpuShares
    peak_rss_mib: float
    processes: int
    acknowledged_stored: int
    events_in_database: int

    @property
    def consistent(self) -> bool:
        return self.acknowledged_stored == self.events_in_database


def _percentiles_ms(latencies: list[float]) -> tuple[float, float]:
    if len(latencies) < 2:
        only = latencies[0] * 1000 if latencies else float("nan")
        return only, only
    cuts = statistics.quantiles(latencies, n=100, method="inclusive")
    return cuts[49] * 1000, cuts[94] * 1000


@contextlib.contextmanager
def py_spy_recording(options: Options, name: str, pid: int) -> Iterator[Callable[[], None]]:
    """Yield a start function that samples the server (and its workers) with py-spy during the timed phase."""
    recorder: list[subprocess.Popen[bytes]] = []
    seconds = options.limits.seconds

    def start() -> None:
        if options.py_spy is not None:
            options.py_spy.mkdir(parents=True, exist_ok=True)
            command = [
                str(Path(sys.executable).parent / "py-spy"),
                "record",
                "--pid",
                str(pid),
                "--subprocesses",
                "--format",
                "raw",
                "--rate",
                "200",
                "--duration",
                str(max(1, int(seconds))),
                "--output",
                str(options.py_spy / f"{name}.txt"),
            ]
            if options.py_spy_gil:
                command.append("--gil")
            recorder.append(subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL))

    yield start
    for process in recorder:
        process.wait(timeout=seconds + 60)


def measure_collector(target: Target, workload: Workload, workers: int, options: Options) -> CollectorResult:
    token = issue_sensor_key(target)
    name = f"{target.backend}_{workload.batch_size}_w{workers}"
    with running_collector(target, workers) as server:
        meter = CpuMeter(server.process.pid, target.database_pid)
        with py_spy_recording(options, name, server.process.pid) as start_py_spy:

            def on_start() -> None:
                start_py_spy()
                meter.begin()

            run = LoadRun(workload, options.connections, options.limits.seconds, on_start)
            with ThreadPoolExecutor(options.connections) as pool:
                futures = [
                    pool.submit(run.drive, server.base_url, token, number, options.connections)
                    for number in range(options.connections)
                ]
                tallies = [future.result() for future in futures]
            elapsed = max(tally.last_done for tally in tallies) - run.start
            cpu = meter.shares_since_begin(elapsed)
        server_pids = server.pids()
        rss = peak_rss_mib(server_pids)
        log_tail = server.log_tail()
    acknowledged = sum(tally.stored for tally in tallies) + run.warmup_stored
    in_database = count_events(target)
    if in_database != acknowledged:
        print(
            f"  MISMATCH: the collector acknowledged {acknowledged:,} new events (sum of `stored`) but the "
            f"database holds {in_database:,}",
            file=sys.stderr,
        )
    errors = sum(tally.errors for tally in tallies)
    first_error = next((tally.first_error for tally in tallies if tally.first_error), None)
    if errors and first_error:
        print(f"  {errors} failed requests; first: {first_error}\n  server log tail:\n{log_tail}", file=sys.stderr)
    p50, p95 = _percentiles_ms([latency for tally in tallies for latency in tally.latencies_s])
    return CollectorResult(
        events=sum(tally.events for tally in tallies),
        batches=sum(tally.batches for tally in tallies),
        seconds=elapsed,
        errors=errors,
        first_error=first_error,
        p50_ms=p50,
        p95_ms=p95,
        cpu=cpu,
        peak_rss_mib=rss,
        processes=len(server_pids),
        acknowledged_stored=acknowledged,
        events_in_database=in_database,
    )


# ------------------------------------------------------------------------------------------------- reporting


@dataclass(frozen=True)
class Row:
    backend: str
    batch_size: int
    workers: int
    connections: int
    collector: CollectorResult
    ceiling: CeilingResult

    @property
    def events_per_s(self) -> float:
        return self.collector.events / self.collector.seconds

    @property
    def batches_per_s(self) -> float:
        return self.collector.batches / self.collector.seconds

    @property
    def ratio(self) -> float:
        return self.events_per_s / self.ceiling.events_per_s

    def as_json(self) -> dict[str, Any]:
        collector, ceiling = asdict(self.collector), asdict(self.ceiling)
        collector["cpu"]["other"] = self.collector.cpu.other
        ceiling["cpu"]["other"] = self.ceiling.cpu.other
        return {
            "backend": self.backend,
            "batch_size": self.batch_size,
            "workers": self.workers,
            "connections": self.connections,
            "events_per_s": round(self.events_per_s, 1),
            "batches_per_s": round(self.batches_per_s, 2),
            "ceiling_events_per_s": round(self.ceiling.events_per_s, 1),
            "ratio_to_ceiling": round(self.ratio, 4),
            "collector": collector,
            "ceiling": ceiling,
        }


TABLE_HEADER = (
    "| backend | events/batch | workers | events/s | batches/s | p50 ms | p95 ms | CPU % server / db / client "
    "/ other | peak RSS MiB | ceiling events/s | collector / ceiling | errors |\n"
    "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
)


def markdown_row(row: Row) -> str:
    result, cpu = row.collector, row.collector.cpu
    cells = [
        row.backend,
        f"{row.batch_size:,}",
        str(row.workers),
        f"{row.events_per_s:,.0f}",
        f"{row.batches_per_s:,.1f}",
        f"{result.p50_ms:.1f}",
        f"{result.p95_ms:.1f}",
        f"{cpu.server:.0f} / {cpu.database:.0f} / {cpu.client:.0f} / {cpu.other:.0f}",
        f"{result.peak_rss_mib:.0f}",
        f"{row.ceiling.events_per_s:,.0f}",
        f"{row.ratio:.2f}",
        _errors_cell(result),
    ]
    return "| " + " | ".join(cells) + " |"


def _errors_cell(result: CollectorResult) -> str:
    if result.consistent:
        return str(result.errors)
    return f"{result.errors}; stored {result.acknowledged_stored:,} but {result.events_in_database:,} rows"


def markdown_table(rows: Sequence[Row]) -> str:
    return "\n".join([TABLE_HEADER, *(markdown_row(row) for row in rows)])


def machine_info() -> dict[str, Any]:
    cpu_model = "unknown"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu_model = line.split(":", 1)[1].strip()
                break
    mem_kib = 0
    with contextlib.suppress(OSError, ValueError, IndexError):
        mem_kib = int(Path("/proc/meminfo").read_text().splitlines()[0].split()[1])
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "memory_gib": round(mem_kib / 1024**2, 1),
        "kernel": platform.release(),
        "python": platform.python_version(),
        "sqlite": sqlite3.sqlite_version,
    }


# What the collector server runs (the rest of shadowscope/ is other commands).
SOURCE_PATHS = ("collector", "events", "migrations", "shadowscope/collector_cmd.py", "shadowscope/database.py")


def _source_files() -> list[Path]:
    files: list[Path] = []
    for name in SOURCE_PATHS:
        path = ROOT / name
        files += [path] if path.is_file() else sorted(path.rglob("*.py"))
    return files


def source_state() -> dict[str, Any]:
    """The code under test: git commit, uncommitted changes, and a hash of the source files as they are now."""
    digest = hashlib.sha256()
    for path in _source_files():
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes())
    return {"source_sha256": digest.hexdigest()[:16], **git_state(ROOT, SOURCE_PATHS)}


# ------------------------------------------------------------------------------------------------------ main


def run_backend(backend: Backend, options: Options) -> list[Row]:
    rows = []
    for size in options.batch_sizes:
        batches = options.limits.batches_for(size)
        warmup = options.limits.warmup_batches_per_connection * options.connections
        workload = build_workload(size, batches, warmup)
        print(f"[{backend.name}] {size}-event batches: {workload.event_count:,} events prepared", file=sys.stderr)
        worker_counts = [1]
        if size == options.multi_worker_batch_size and options.workers > 1:
            worker_counts.append(options.workers)
        results = {}
        for workers in worker_counts:
            target = backend.new_target(f"collector_{size}_w{workers}")
            wait_for_quiet_machine(options.wait_quiet)
            result = results[workers] = measure_collector(target, workload, workers, options)
            print(f"  collector, {workers} worker(s): {result.events / result.seconds:,.0f} events/s", file=sys.stderr)
            warn_if_noisy(result.cpu)
        wait_for_quiet_machine(options.wait_quiet)
        ceiling = measure_ceiling(backend.new_target(f"ceiling_{size}"), workload, options.limits)
        print(f"  ceiling (Core executemany): {ceiling.events_per_s:,.0f} events/s", file=sys.stderr)
        warn_if_noisy(ceiling.cpu)
        rows += [
            Row(backend.name, size, workers, options.connections, result, ceiling)
            for workers, result in results.items()
        ]
    return rows


def run_all(options: Options) -> tuple[list[Row], dict[str, str]]:
    versions: dict[str, str] = {}
    rows: list[Row] = []
    scratch = Path(tempfile.mkdtemp(prefix="shadowscope-bench-"))
    scratch.chmod(0o755)  # the PostgreSQL server user needs to reach the data directories under it
    try:
        for name in options.backends:
            with open_backend(name, scratch) as backend:
                if backend is None:
                    versions[name] = "SKIPPED (see the message above)"
                    continue
                versions[name] = backend.version
                rows += run_backend(backend, options)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    return rows, versions


def print_report(report: dict[str, Any], rows: Sequence[Row], options: Options) -> None:
    machine, source, limits = report["machine"], report["source"], options.limits
    modified = f" + uncommitted changes to {', '.join(source['modified'])}" if source["modified"] else ""
    print(f"\n{'QUICK smoke run' if options.quick else 'Run'} started {report['started_at']}: `{report['command']}`")
    print(f"Code: commit {source['commit']}{modified} (source sha256 {source['source_sha256']})")
    print(
        f"Machine: {machine['cpus']} CPUs ({machine['cpu_model']}), {machine['memory_gib']} GiB, "
        f"Python {machine['python']}; {'; '.join(f'{k}: {v}' for k, v in report['versions'].items())}"
    )
    print(
        f"Each run: {options.connections} client connections, up to {limits.seconds:g} s or "
        f"{limits.max_events:,} events / {limits.max_batches:,} batches.\n"
    )
    print(markdown_table(rows))


def main(argv: Sequence[str] | None = None) -> int:
    options = parse_args(argv)
    started = datetime.now(UTC).replace(microsecond=0)
    source = source_state()
    rows, versions = run_all(options)
    if source_state() != source:
        print("WARNING: the collector's source files changed during the run; the results mix versions", file=sys.stderr)
    command = " ".join([".venv/bin/python", "bench/ingest_throughput.py", *(argv or sys.argv[1:])])
    report = {
        "started_at": started.isoformat(),
        "command": command,
        "machine": machine_info(),
        "source": source,
        "versions": versions,
        "limits": asdict(options.limits),
        "connections": options.connections,
        "results": [row.as_json() for row in rows],
    }
    print_report(report, rows, options)
    if options.output:
        options.output.parent.mkdir(parents=True, exist_ok=True)
        options.output.write_text(json.dumps(report, indent=2) + "\n")
    healthy = all(row.collector.errors == 0 and row.collector.consistent for row in rows)
    return 0 if rows and healthy else 1


if __name__ == "__main__":
    sys.exit(main())
