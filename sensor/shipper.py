"""Batch usage events into the spool, and deliver the spool to the collector from a background thread.

The packet loop never waits on the network: it only appends to the spool. A delivery thread sends spooled batches
oldest first; on a refusal (4xx) the batch is set aside, on a failure (unreachable, 5xx) it waits with exponential
backoff and tries again, so a collector that is down for an hour receives everything when it is back.
"""

from __future__ import annotations

import logging
import threading
import time
import uuid
from datetime import UTC, datetime

from events.models import MAX_BATCH_EVENTS, SCHEMA_VERSION, EventBatch, NetworkUsageEvent
from sensor.delivery import CollectorClient, DeliveryFailed, DeliveryRefused
from sensor.spool import Spool

log = logging.getLogger(__name__)


class EventBatcher:
    """Collects events and writes them to the spool as batches of at most `batch_size`."""

    def __init__(self, spool: Spool, batch_size: int = 500) -> None:
        if not 1 <= batch_size <= MAX_BATCH_EVENTS:
            raise ValueError(f"batch size must be 1..{MAX_BATCH_EVENTS}")
        self.spool = spool
        self.batch_size = batch_size
        self._events: list[NetworkUsageEvent] = []

    def add(self, event: NetworkUsageEvent) -> None:
        self._events.append(event)
        if len(self._events) >= self.batch_size:
            self.flush()

    def flush(self) -> None:
        if not self._events:
            return
        batch = EventBatch(
            schema_version=SCHEMA_VERSION, batch_id=uuid.uuid4(), sent_at=datetime.now(UTC), events=tuple(self._events)
        )
        self.spool.write(batch)
        self._events = []


class Shipper:
    """Delivers the spool in a background thread until stopped."""

    def __init__(
        self, spool: Spool, client: CollectorClient, first_delay: float = 1.0, max_delay: float = 60.0
    ) -> None:
        self.spool = spool
        self.client = client
        self.first_delay = first_delay
        self.max_delay = max_delay
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name="shadowscope-shipper", daemon=True)
        self.last_error: str | None = None

    def start(self) -> None:
        self._thread.start()

    def poke(self) -> None:
        """New batches are in the spool: try now rather than at the next backoff tick."""
        self._wake.set()

    def stop(self, drain_timeout: float = 0.0) -> bool:
        """Stop after trying to drain the spool for up to drain_timeout seconds; True if it is empty."""
        deadline = time.monotonic() + drain_timeout
        while self.spool.pending() and time.monotonic() < deadline:
            self.poke()
            time.sleep(0.1)
        self._stop.set()
        self._wake.set()
        self._thread.join(timeout=30)
        return not self.spool.pending()

    def deliver_pending(self) -> bool:
        """Send what is spooled; True if the spool is now empty, False if the collector could not be reached."""
        for path, batch in self.spool.batches():
            if batch is None:
                self.spool.set_aside(path, "not a readable event batch")
                continue
            try:
                self.client.send(batch)
            except DeliveryRefused as error:
                log.error("collector refused spooled batch %s: %s", path.name, error)  # noqa: TRY400 - no traceback needed
                self.spool.set_aside(path, str(error))
            except DeliveryFailed as error:
                self.last_error = str(error)
                return False
            else:
                self.spool.delivered(path)
        self.last_error = None
        return True

    def _run(self) -> None:
        delay = self.first_delay
        while not self._stop.is_set():
            if self.deliver_pending():
                delay = self.first_delay
                self._wake.wait()
            else:
                log.warning("collector unreachable, retrying in %.0fs: %s", delay, self.last_error)
                self._wake.wait(delay)
                delay = min(delay * 2, self.max_delay)
            self._wake.clear()
