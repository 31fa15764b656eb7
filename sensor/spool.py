"""A bounded on-disk spool of event batches: written before sending, deleted once the collector has them.

Write-ahead: every batch is on disk (written to a temporary name, fsynced, renamed) before delivery is tried, so
`kill -9` of the sensor loses at most the window it had not flushed yet, never a spooled batch. Re-sending after a
crash is safe because the collector ingests idempotently. When the spool is full, the oldest batches are dropped
and counted: a bounded disk is a promise to the tap box, not to the data.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from events.models import EventBatch

log = logging.getLogger(__name__)

SUFFIX = ".batch.json"


@dataclass
class SpoolStats:
    written: int = 0
    delivered: int = 0
    rejected: int = 0
    dropped_for_space: int = 0


class Spool:
    def __init__(self, directory: Path, max_bytes: int = 512 * 1024 * 1024) -> None:
        self.directory = directory
        self.rejected_dir = directory / "rejected"
        self.max_bytes = max_bytes
        self.stats = SpoolStats()
        self.directory.mkdir(parents=True, exist_ok=True, mode=0o700)
        self.rejected_dir.mkdir(exist_ok=True, mode=0o700)
        self._sequence = 0

    def write(self, batch: EventBatch) -> Path:
        self._sequence += 1
        # Names sort in write order: nanosecond time, then a per-process counter for writes in the same tick.
        name = f"{time.time_ns():020d}-{self._sequence:06d}-{batch.batch_id}{SUFFIX}"
        final = self.directory / name
        temporary = self.directory / f".{name}.tmp"
        data = batch.model_dump_json().encode()
        with temporary.open("wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        temporary.rename(final)
        self.stats.written += 1
        self._enforce_limit()
        return final

    def pending(self) -> list[Path]:
        return sorted(self.directory.glob(f"*{SUFFIX}"))

    def pending_bytes(self) -> int:
        return sum(path.stat().st_size for path in self.pending())

    def _enforce_limit(self) -> None:
        pending = self.pending()
        total = sum(path.stat().st_size for path in pending)
        while total > self.max_bytes and len(pending) > 1:
            oldest = pending.pop(0)
            total -= oldest.stat().st_size
            oldest.unlink(missing_ok=True)
            self.stats.dropped_for_space += 1
            log.warning("spool full (%d bytes): dropped the oldest batch %s", self.max_bytes, oldest.name)

    def batches(self) -> Iterator[tuple[Path, EventBatch | None]]:
        """Spooled batches oldest first; None for a file that no longer parses (it is then set aside)."""
        for path in self.pending():
            try:
                yield path, EventBatch.model_validate_json(path.read_bytes())
            except (OSError, ValueError):
                yield path, None

    def delivered(self, path: Path) -> None:
        path.unlink(missing_ok=True)
        self.stats.delivered += 1

    def set_aside(self, path: Path, reason: str) -> None:
        """Keep a batch the collector refused (4xx) for inspection instead of retrying it forever."""
        target = self.rejected_dir / path.name
        path.rename(target)
        target.with_suffix(".reason.txt").write_text(reason + "\n", encoding="utf-8")
        self.stats.rejected += 1
