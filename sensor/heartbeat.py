"""Tell the collector every minute that this sensor is alive, and what its spool holds back.

The heartbeat runs in its own thread through the same HTTP client and key as the batches, so the packet loop never
waits on it. It is not spooled and not retried: a heartbeat that does not arrive is replaced by the next one, and
only the newest matters. A collector that is down costs a log line at debug level per beat, nothing more.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from importlib import metadata

from events.heartbeat import DEFAULT_HEARTBEAT_INTERVAL, Heartbeat, ProducerKind
from events.models import EARLIEST_TIMESTAMP
from sensor.delivery import CollectorClient, DeliveryFailed, DeliveryRefused
from sensor.spool import Spool

log = logging.getLogger(__name__)


def sensor_version() -> str:
    try:
        return metadata.version("shadowscope")
    except metadata.PackageNotFoundError:
        return "0+unknown"


@dataclass(frozen=True, slots=True)
class CaptureCounters:
    """What the capture side knows about itself; every field is optional (a file read has no interface)."""

    packets: int | None = None
    events: int | None = None
    interface: str | None = None
    drops: int | None = None


@dataclass(frozen=True, slots=True)
class Backlog:
    batches: int
    bytes: int
    oldest_spooled_at: datetime | None


def spool_backlog(spool: Spool) -> Backlog:
    """Batches waiting in the spool, their size, and when the oldest was written (from its name, not its content).

    The shipper deletes files while this runs; a file that is gone by the time it is looked at is not counted.
    """
    batches = size = 0
    oldest: datetime | None = None
    for path in spool.pending():
        try:
            size += path.stat().st_size
        except FileNotFoundError:
            continue
        batches += 1
        if oldest is None:
            oldest = _written_at(path.name)
    return Backlog(batches, size, oldest)


def _written_at(name: str) -> datetime | None:
    # Spool names start with the write time in nanoseconds (see Spool.write).
    try:
        written = datetime.fromtimestamp(int(name.split("-", 1)[0]) / 1e9, UTC)
    except (ValueError, OverflowError, OSError):
        return None
    return written if written >= EARLIEST_TIMESTAMP else None


class HeartbeatSender:
    """Sends a heartbeat at start, then every `interval` seconds, and a last one at stop."""

    def __init__(
        self,
        client: CollectorClient,
        sensor_id: str,
        spool: Spool,
        *,
        interval: float = DEFAULT_HEARTBEAT_INTERVAL,
        counters: Callable[[], CaptureCounters] = CaptureCounters,
        version: str | None = None,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if interval <= 0:
            raise ValueError("the heartbeat interval must be positive")
        self.client = client
        self.sensor_id = sensor_id
        self.spool = spool
        self.interval = interval
        self.counters = counters
        self.version = version or sensor_version()
        self.clock = clock
        self.sent = 0
        self.failed = 0
        self.last_error: str | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shadowscope-heartbeat", daemon=True)

    def snapshot(self) -> Heartbeat:
        now = self.clock()
        backlog = spool_backlog(self.spool)
        counters = self.counters()
        stats = self.spool.stats
        oldest = backlog.oldest_spooled_at
        return Heartbeat(
            producer_id=self.sensor_id,
            kind=ProducerKind.SENSOR,
            version=self.version,
            sent_at=now,
            spool_batches=backlog.batches,
            spool_bytes=backlog.bytes,
            dropped_for_space=stats.dropped_for_space,
            rejected=stats.rejected,
            # A batch written a moment after `now` was read is still "waiting since now".
            oldest_spooled_at=min(oldest, now) if oldest is not None and backlog.batches else None,
            packets=counters.packets,
            events=counters.events,
            capture_interface=counters.interface,
            capture_drops=counters.drops,
        )

    def beat(self) -> bool:
        """Send one heartbeat now; True if the collector took it. Never raises for a collector that is down."""
        try:
            self.client.send_heartbeat(self.snapshot())
        except DeliveryFailed as error:
            self.failed += 1
            self.last_error = str(error)
            log.debug("heartbeat not delivered (the next one will be): %s", error)
            return False
        except DeliveryRefused as error:
            # A wrong key or id: say so, but keep capturing; the batches will be refused as loudly.
            self.failed += 1
            self.last_error = str(error)
            log.warning("collector refused the heartbeat (%d): %s", error.status, error)
            return False
        except (ValueError, OSError) as error:  # a counter out of range, an unreadable spool: report, do not stop
            self.failed += 1
            self.last_error = str(error)
            log.warning("heartbeat not built: %s", error)
            return False
        self.sent += 1
        self.last_error = None
        return True

    def start(self) -> None:
        self._thread.start()

    def stop(self, final_beat: bool = True) -> None:
        """Stop the thread; with `final_beat`, report the spool as it is left (after the shipper's last drain)."""
        self._stop.set()
        self._thread.join(timeout=30)
        if final_beat:
            self.beat()

    def _run(self) -> None:
        next_beat = time.monotonic()
        while not self._stop.is_set():
            self.beat()
            next_beat += self.interval
            if next_beat < time.monotonic():  # a beat took longer than the interval: no burst of catch-ups
                next_beat = time.monotonic() + self.interval
            self._stop.wait(next_beat - time.monotonic())
