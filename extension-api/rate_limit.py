"""Per-device rate limiting of telemetry: a token bucket per device, in this process.

Each collector worker keeps its own buckets, so with N workers a device may reach N times the rate; the limit is
there to stop a runaway or hostile extension from flooding ingest, not to meter fairly.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass


@dataclass(slots=True)
class _Bucket:
    tokens: float
    updated: float


class RateLimiter:
    def __init__(self, per_minute: int, burst: int | None = None) -> None:
        self.rate = per_minute / 60.0
        self.burst = float(burst if burst is not None else max(per_minute // 4, 1))
        self._buckets: dict[str, _Bucket] = {}
        self._lock = threading.Lock()
        self._now = time.monotonic

    def acquire(self, key: str) -> float:
        """0 when the call may go ahead, else the seconds to wait before the next one will."""
        now = self._now()
        with self._lock:
            bucket = self._buckets.setdefault(key, _Bucket(self.burst, now))
            bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.updated) * self.rate)
            bucket.updated = now
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return 0.0
            return (1.0 - bucket.tokens) / self.rate
