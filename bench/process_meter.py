"""Measuring processes from /proc for the benchmarks: CPU time per process tree, peak RSS, how busy the machine is.

These machines are shared, so every measurement also reports the CPU that went to other work, and the benchmarks
can wait for a quiet machine before they start.
"""

from __future__ import annotations

import contextlib
import os
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

NOISE_WARNING_PERCENT = 25.0


def process_tree(root: int) -> list[int]:
    """The root pid and all its descendants, from /proc/<pid>/stat."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    tree = [root]
    for pid in tree:
        tree.extend(children.get(pid, []))
    return tree


def cpu_seconds(pids: Sequence[int]) -> dict[int, float]:
    """User + system CPU time of each process (utime and stime, fields 14 and 15 of /proc/<pid>/stat)."""
    seconds = {}
    for pid in pids:
        with contextlib.suppress(OSError, ValueError, IndexError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return seconds


def peak_rss_mib(pids: Sequence[int]) -> float:
    """Sum over the processes of their peak resident set (VmHWM); with several workers, an upper bound."""
    total_kib = 0
    for pid in pids:
        with contextlib.suppress(OSError):
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmHWM:"):
                    total_kib += int(line.split()[1])
    return total_kib / 1024


def machine_busy_seconds() -> float:
    """CPU time all cores spent not idle (the first line of /proc/stat, less idle and iowait)."""
    fields = [int(value) for value in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:8]]
    return (sum(fields) - fields[3] - fields[4]) / os.sysconf("SC_CLK_TCK")


@dataclass(frozen=True)
class CpuShares:
    """Percent of one core over the timed phase (the machine has os.cpu_count() x 100)."""

    server: float
    database: float
    client: float
    machine: float

    @property
    def other(self) -> float:
        """What else ran on the machine: kernel work not charged to a process, and any other load (noise)."""
        return self.machine - self.server - self.database - self.client


class CpuMeter:
    """CPU time of the collector's processes, the database server's, this client process's and the machine's."""

    def __init__(self, server_pid: int | None, database_pid: int | None) -> None:
        self.roots = {"server": server_pid, "database": database_pid}
        self._start: dict[str, dict[int, float]] = {}
        self._start_client = self._start_machine = 0.0

    def _snapshot(self) -> dict[str, dict[int, float]]:
        return {name: cpu_seconds(process_tree(root)) if root else {} for name, root in self.roots.items()}

    def begin(self) -> None:
        self._start = self._snapshot()
        self._start_client, self._start_machine = time.process_time(), machine_busy_seconds()

    def shares_since_begin(self, elapsed: float) -> CpuShares:
        now = self._snapshot()

        def used(name: str) -> float:
            before = self._start[name]
            return 100 * sum(cpu - before.get(pid, 0.0) for pid, cpu in now[name].items()) / elapsed

        client = 100 * (time.process_time() - self._start_client) / elapsed
        machine = 100 * (machine_busy_seconds() - self._start_machine) / elapsed
        return CpuShares(used("server"), used("database"), client, machine)


def wait_for_quiet_machine(max_wait: float, busy_below: float = 33.0) -> None:
    """Return once the machine used under `busy_below` % of a core over a second, or after `max_wait` seconds."""
    deadline = time.monotonic() + max_wait
    while time.monotonic() < deadline:
        before = machine_busy_seconds()
        time.sleep(1.0)
        busy = 100 * (machine_busy_seconds() - before)
        if busy < busy_below:
            return
        print(f"  waiting for a quiet machine: {busy:.0f}% of a core busy", file=sys.stderr)
    if max_wait > 0:
        print("  the machine stayed busy; measuring anyway", file=sys.stderr)


def warn_if_noisy(cpu: CpuShares) -> None:
    if cpu.other > NOISE_WARNING_PERCENT:
        print(
            f"  WARNING: {cpu.other:.0f}% of a core went to other work during this measurement: the machine was "
            "not quiet (see --wait-quiet)",
            file=sys.stderr,
        )
