"""Sensor throughput on one real capture, next to tshark and a bare dpkt read loop, in one run.

Five variants read the same file, each in its own process under GNU time, so its peak RSS is its own:

* `sensor read --jsonl`: the full command, start-up included (its few hundred lines go to a scratch file, read
  back for the name check);
* aggregation: `sensor.runner.aggregate_usage` with an `emit` that only collects the usage events, i.e. decoding,
  flow accounting of every packet, inspection and aggregation, without a collector;
* tshark (the peer), extracting the same names: TLS SNI (also inside QUIC), DNS query names, HTTP Host, gQUIC SNI;
* a bare `dpkt.pcap.Reader` loop: the old floor, the cost of reading the file record by record through dpkt;
* a bare loop over the sensor's own reader (`CaptureFile.batches()`, the pcap block reader): the floor now, what
  reading costs the sensor before it looks at a single packet.

Rounds run the variants in turn (a, b, c, d, a, b, ...) so a busy machine slows them alike; the best wall time of
each is reported, as packets/s and as a ratio to tshark, and its least CPU time likewise (steadier on a shared
machine). The AI host names the sensor reports must equal the AI host names among tshark's (by the same catalog),
and the tools of the aggregated usage events must be theirs; the exit status is 1 when they differ.

    .venv/bin/python bench/sensor_throughput.py [CAPTURE] [--repeat 3] [--wait-quiet S] [--quick] [--output F.json]

CAPTURE defaults to /tmp/tap.pcap, made by the project's shared bench script `make_tap_pcap.sh` (see HOW_TO_CAPTURE).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import dpkt

from sensor.capture.files import PCAPNG_MAGIC, CaptureFile

if TYPE_CHECKING:
    from events.models import NetworkUsageEvent
    from sensor.names import NameResolver

# The catalog, pydantic and the pipeline are imported where used (noqa: PLC0415 below): the floor's process must
# load no more than dpkt, or its start-up would count against the floor.

DEFAULT_CAPTURE = Path("/tmp/tap.pcap")
GNU_TIME = "/usr/bin/time"
QUICK_PACKETS = 20_000
TARGET_RATE = 250_000  # packets/s with flow accounting (the target)
TARGET_RATIO = 5.0  # times tshark
TSHARK_FIELDS = ("tls.handshake.extensions_server_name", "dns.qry.name", "http.host", "gquic.tag.sni")
# Printing only the packets that carry a name is faster for tshark than a line per packet: the fairer peer.
TSHARK_FILTER = "tls.handshake.type == 1 or dns or http.request or gquic"
HOW_TO_CAPTURE = (
    "make the benchmark capture as root with `bash ../shared/bench/make_tap_pcap.sh /tmp/tap.pcap` "
    "(needs iproute2, ethtool, tcpdump, openssl, curl, dnsutils, dnsmasq-base, wireshark's capinfos), "
    "or pass any pcap/pcapng of real traffic as CAPTURE"
)


@dataclass
class Run:
    wall: float  # seconds, process start to exit
    cpu: float  # user + system seconds of the process
    max_rss_kib: int
    packets: int | None = None  # as the variant counted them
    loop_seconds: float | None = None  # the variant's own timing of its packet loop, without start-up
    names: list[str] = field(default_factory=list)  # AI host names (or tool ids, for aggregation) it reported
    others: float = 0.0  # cores' worth of CPU other processes used meanwhile: how noisy the measurement was


@dataclass
class Variant:
    key: str
    label: str
    argv: list[str]
    parse: Callable[[str, str], Run]  # (stdout, stderr) -> what the output says; timings are filled in after
    runs: list[Run] = field(default_factory=list)

    @property
    def best(self) -> Run:
        return min(self.runs, key=lambda run: run.wall)

    @property
    def best_cpu(self) -> float:
        return min(run.cpu for run in self.runs)


def machine_busy_seconds() -> float:
    """CPU seconds all processes have used since boot (Linux /proc/stat: all but idle and iowait)."""
    values = [int(v) for v in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return (sum(values) - values[3] - values[4]) / os.sysconf("SC_CLK_TCK")


def wait_for_quiet(max_wait: float, busy_below: float = 0.33) -> None:
    """Return once other processes use under a third of a core over a second, or after max_wait seconds."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = machine_busy_seconds() - before
        if busy < busy_below:
            return
        print(f"  waiting for a quiet machine: {busy:.0%} of a core busy", file=sys.stderr)
    if max_wait > 0:
        print("  the machine stayed busy; measuring anyway", file=sys.stderr)


def measure(argv: list[str], parse: Callable[[str, str], Run]) -> Run:
    """Run argv to completion under GNU time: peak RSS, user and system time of that very process.

    Not os.wait4 on our own child: a forked child's peak RSS starts at its parent's, which exec does not reset.
    """
    with tempfile.TemporaryDirectory() as scratch:
        out, err, usage = (Path(scratch) / name for name in ("out", "err", "usage"))
        with out.open("w") as stdout, err.open("w") as stderr:
            busy, started = machine_busy_seconds(), time.perf_counter()
            code = subprocess.call([GNU_TIME, "-f", "%M %U %S", "-o", str(usage), *argv], stdout=stdout, stderr=stderr)
            wall, busy = time.perf_counter() - started, machine_busy_seconds() - busy
        if code != 0:
            raise SystemExit(f"{' '.join(argv)} failed with exit code {code}:\n{err.read_text()[-2000:]}")
        run = parse(out.read_text(), err.read_text())
        max_rss, user, system = usage.read_text().split()[-3:]
    run.wall, run.cpu, run.max_rss_kib = wall, float(user) + float(system), int(max_rss)
    run.others = max(0.0, busy - run.cpu) / wall
    return run


def parse_jsonl(stdout: str, stderr: str) -> Run:
    names = {obs["host"] for obs in map(json.loads, stdout.splitlines()) if obs["tool"] is not None}
    packets, seconds = None, None
    for line in stderr.splitlines():  # "packets: 439513 in 2.5s (174,415/s)": the rate has the more digits
        if line.startswith("packets: "):
            words = line.split()
            packets, per_second = int(words[1]), float(words[4].strip("(/s)").replace(",", ""))
            seconds = packets / per_second if per_second else None
    return Run(0.0, 0.0, 0, packets=packets, loop_seconds=seconds, names=sorted(names))


def parse_driver(stdout: str, _stderr: str) -> Run:
    report = json.loads(stdout)
    return Run(0.0, 0.0, 0, packets=report["packets"], loop_seconds=report["seconds"], names=report["names"])


def parse_tshark(resolver: NameResolver, stdout: str, _stderr: str) -> Run:
    return Run(0.0, 0.0, 0, names=sorted(name for name in tshark_names(stdout) if resolver.tool(name) is not None))


def tshark_names(stdout: str) -> set[str]:
    """Every name in tshark's field columns, cleaned as the sensor cleans names (a field may hold several, by ',')."""
    from sensor.names import clean_name  # noqa: PLC0415

    names: set[str] = set()
    for line in stdout.splitlines():
        for column in line.split("\t"):
            for raw in column.split(","):
                name = clean_name(raw) if raw.strip() else None
                if name:
                    names.add(name)
    return names


def variants(capture: Path) -> list[Variant]:
    from sensor.runner import build_resolver  # noqa: PLC0415

    script = str(Path(__file__).resolve())
    console = Path(sys.executable).with_name("shadowscope")
    command = [str(console)] if console.exists() else [sys.executable, "-m", "shadowscope"]
    tshark = ["tshark", "-n", "-r", str(capture), "-T", "fields", "-Y", TSHARK_FILTER]
    tshark += [arg for name in TSHARK_FIELDS for arg in ("-e", name)]
    driver = [sys.executable, script, "--driver"]
    return [
        Variant("jsonl", "`sensor read --jsonl`", [*command, "sensor", "read", "--jsonl", str(capture)], parse_jsonl),
        Variant("aggregate", "aggregation only", [*driver, "aggregate", str(capture)], parse_driver),
        Variant("tshark", "tshark -T fields (peer)", tshark, partial(parse_tshark, build_resolver())),
        Variant("floor", "bare dpkt.pcap.Reader loop", [*driver, "floor", str(capture)], parse_driver),
        Variant("blocks", "bare block-reader loop", [*driver, "blocks", str(capture)], parse_driver),
    ]


def drive_aggregate(capture: str) -> dict[str, Any]:
    from sensor.runner import aggregate_usage  # noqa: PLC0415

    events: list[NetworkUsageEvent] = []
    summary = aggregate_usage([CaptureFile(capture)], "bench-sensor", events.append)
    tools = sorted({event.tool_id for event in events if event.tool_id is not None})
    return {"packets": summary.pipeline.packets, "seconds": summary.seconds, "events": len(events), "names": tools}


def drive_floor(capture: str) -> dict[str, Any]:
    with Path(capture).open("rb") as stream:
        pcapng = stream.read(4) == PCAPNG_MAGIC
        stream.seek(0)
        started = time.perf_counter()
        reader = dpkt.pcapng.Reader(stream) if pcapng else dpkt.pcap.Reader(stream)
        packets = 0
        for _ts, _frame in reader:
            packets += 1
        return {"packets": packets, "seconds": time.perf_counter() - started, "names": []}


def drive_blocks(capture: str) -> dict[str, Any]:
    started = time.perf_counter()
    packets = sum(len(batch.records) for batch in CaptureFile(capture).batches())
    return {"packets": packets, "seconds": time.perf_counter() - started, "names": []}


def cut_capture(capture: Path, packets: int, directory: Path) -> Path:
    """The first `packets` packets of the capture, as pcap (the smoke run of --quick)."""
    cut = directory / f"first-{packets}.pcap"
    subprocess.run(["editcap", "-F", "pcap", "-r", str(capture), str(cut), f"1-{packets}"], check=True)
    return cut


def missing_prerequisites(capture: Path) -> list[str]:
    problems = []
    if not capture.is_file():
        problems.append(f"capture {capture} not found: {HOW_TO_CAPTURE}")
    for tool in ("tshark", "editcap"):
        if shutil.which(tool) is None:
            problems.append(f"{tool} not found: install Debian's `tshark` package (apt-get install tshark)")
    if not Path(GNU_TIME).is_file():
        problems.append(f"{GNU_TIME} not found: install GNU time (apt-get install time)")
    return problems


def machine() -> dict[str, Any]:
    cpu_model = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if "model name" in line
        ),
        platform.processor(),
    )
    tshark = subprocess.run(["tshark", "--version"], capture_output=True, text=True, check=False).stdout.splitlines()
    return {
        "cpus": os.cpu_count(),
        "cpu_model": cpu_model,
        "kernel": platform.release(),
        "python": platform.python_version(),
        "dpkt": dpkt.__version__,
        "tshark": tshark[0].rstrip(".") if tshark else "unknown",
        "load_average_at_start": os.getloadavg(),
    }


def rate(packets: int, seconds: float | None) -> float | None:
    return packets / seconds if seconds else None


def table(results: list[Variant], packets: int) -> list[str]:
    """Wall-clock figures from each variant's fastest run; CPU figures from its least CPU (robust to a busy box)."""
    peer = next(v for v in results if v.key == "tshark")
    peer_wall, peer_cpu = rate(packets, peer.best.wall) or 1.0, rate(packets, peer.best_cpu) or 1.0
    lines = [
        "| variant | packets/s | vs tshark | packets per CPU-s | vs tshark (CPU) | peak RSS MiB "
        "| packets/s in its loop | wall s | others' CPU |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for variant in results:
        best = variant.best
        wall_rate, cpu_rate = rate(packets, best.wall) or 0.0, rate(packets, variant.best_cpu) or 0.0
        loop_rate = rate(packets, best.loop_seconds)
        loop = f"{loop_rate:,.0f}" if loop_rate else "-"
        rss = best.max_rss_kib / 1024
        lines.append(
            f"| {variant.label} | {wall_rate:,.0f} | {wall_rate / peer_wall:.2f}x | {cpu_rate:,.0f} "
            f"| {cpu_rate / peer_cpu:.2f}x | {rss:,.0f} | {loop} | {best.wall:.2f} | {best.others:.0%} |"
        )
    return lines


def names_check(results: dict[str, Variant]) -> tuple[bool, list[str]]:
    ours, peer = set(results["jsonl"].runs[0].names), set(results["tshark"].runs[0].names)
    tools = set(results["aggregate"].runs[0].names)
    from sensor.runner import build_resolver  # noqa: PLC0415

    resolver = build_resolver()
    peer_tools = {ref.tool_id for name in peer if (ref := resolver.tool(name)) is not None}
    lines = [
        f"AI host names: sensor {len(ours)}, tshark {len(peer)}: " + ("equal" if ours == peer else "DIFFERENT"),
        f"  only the sensor: {sorted(ours - peer) or 'none'}; only tshark: {sorted(peer - ours) or 'none'}",
        f"AI tools in usage events: {len(tools)}, in tshark's names: {len(peer_tools)}: "
        + ("equal" if tools == peer_tools else f"DIFFERENT ({sorted(tools ^ peer_tools)})"),
    ]
    return ours == peer and tools == peer_tools, lines


def check_counts(results: list[Variant], packets: int) -> None:
    for variant in results:
        counted = {run.packets for run in variant.runs if run.packets is not None}
        if counted and counted != {packets}:
            raise SystemExit(f"{variant.label} counted {sorted(counted)} packets, the floor {packets}")


def report(args: argparse.Namespace, capture: Path, results: list[Variant], info: dict[str, Any]) -> int:
    by_key = {variant.key: variant for variant in results}
    packets = by_key["floor"].best.packets or 0
    check_counts(results, packets)
    names_equal, name_lines = names_check(by_key)
    aggregate = rate(packets, by_key["aggregate"].best.wall) or 0.0
    ratio = aggregate / (rate(packets, by_key["tshark"].best.wall) or 1.0)
    met = aggregate >= TARGET_RATE and ratio >= TARGET_RATIO
    host = info["machine"]
    print(f"date: {info['date']}; command: {info['command']}")
    print(f"machine: {host['cpus']} x {host['cpu_model']}, kernel {host['kernel']}, Python {host['python']}")
    print(
        f"peer: {host['tshark']}; load average at start: {', '.join(f'{x:.2f}' for x in host['load_average_at_start'])}"
    )
    print(f"capture: {capture} ({capture.stat().st_size / 2**20:,.0f} MiB, {packets:,} packets); best of {args.repeat}")
    print()
    print("\n".join(table(results, packets)))
    print()
    print("\n".join(name_lines))
    print(
        f"target (aggregation >= {TARGET_RATE:,} packets/s and >= {TARGET_RATIO:.0f}x tshark): "
        f"{aggregate:,.0f} packets/s, {ratio:.2f}x: {'met' if met else 'missed'}"
    )
    if args.output:
        document = {
            **info,
            "capture": {"path": str(capture), "bytes": capture.stat().st_size, "packets": packets},
            "repeat": args.repeat,
            "names_equal": names_equal,
            "target": {"packets_per_second": TARGET_RATE, "ratio_to_tshark": TARGET_RATIO, "met": met},
            "results": [
                {"key": v.key, "label": v.label, "argv": v.argv, "runs": [asdict(run) for run in v.runs]}
                for v in results
            ],
        }
        Path(args.output).write_text(json.dumps(document, indent=2) + "\n")
    return 0 if names_equal else 1


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("capture", nargs="?", type=Path, default=DEFAULT_CAPTURE)
    parser.add_argument("--repeat", type=int, default=3, help="rounds; the best wall time of each variant counts")
    parser.add_argument("--quick", action="store_true", help=f"smoke run: first {QUICK_PACKETS:,} packets, one round")
    parser.add_argument("--output", help="also write the results as JSON to this file")
    parser.add_argument(
        "--wait-quiet",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help="before each run, wait up to this long for other processes to use under a third of a core",
    )
    parser.add_argument("--driver", choices=("aggregate", "floor", "blocks"), help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    if args.driver:  # one variant, in a process of its own
        drive = {"aggregate": drive_aggregate, "floor": drive_floor, "blocks": drive_blocks}[args.driver]
        print(json.dumps(drive(str(args.capture))))
        return 0
    problems = missing_prerequisites(args.capture)
    if problems:
        print("\n".join(problems), file=sys.stderr)
        return 2
    info = {
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "command": " ".join([Path(sys.executable).name, *sys.argv]),
        "machine": machine(),
    }
    with tempfile.TemporaryDirectory() as scratch:
        capture = cut_capture(args.capture, QUICK_PACKETS, Path(scratch)) if args.quick else args.capture
        args.repeat = 1 if args.quick else max(1, args.repeat)
        results = variants(capture)
        for _ in range(args.repeat):
            for variant in results:
                wait_for_quiet(args.wait_quiet)
                variant.runs.append(measure(variant.argv, variant.parse))
        return report(args, capture, results, info)


if __name__ == "__main__":
    sys.exit(main())
