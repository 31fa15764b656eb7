"""Exponential backoff with jitter, shared by every channel; the sleep is injectable so tests never wait."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TypeVar

from collector.alert_delivery.deliverer import DeliveryFailed

T = TypeVar("T")
Sleep = Callable[[float], None]


class Retryable(Exception):
    """Raised by an attempt that may succeed later (connection refused, timeout, 429, 5xx, SMTP 4xx)."""

    def __init__(self, reason: str, *, retry_after: float | None = None) -> None:
        super().__init__(reason)
        self.reason = reason
        # The receiver's own wait (HTTP Retry-After), used instead of our backoff.
        self.retry_after = retry_after


class GiveUp(Exception):
    """Raised by an attempt that retrying cannot fix (a 400, a 550, a refused login)."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """`attempts` counts the first try. Delays grow base, 2*base, 4*base... up to max_delay_s, jittered."""

    attempts: int = 5
    base_delay_s: float = 1.0
    max_delay_s: float = 60.0
    # A receiver asking for a longer pause than this is treated as down: a blocking deliverer must not hang for an
    # hour on one alert while others queue behind it.
    max_retry_after_s: float = 300.0
    rng: random.Random = field(default_factory=random.Random, compare=False, repr=False)

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay_s < 0 or self.max_delay_s < self.base_delay_s:
            raise ValueError("need 0 <= base_delay_s <= max_delay_s")

    def backoff_s(self, retry: int) -> float:
        """The pause before retry number `retry` (1 = the second attempt).

        "Equal jitter": half the exponential step is kept, half is random, so pauses still grow while many
        collectors restarted together do not retry in lockstep against the same receiver.
        """
        step = min(self.max_delay_s, self.base_delay_s * 2.0 ** (retry - 1))
        return step / 2 + self.rng.uniform(0, step / 2)


def run_with_retries(channel: str, attempt: Callable[[], T], policy: RetryPolicy, sleep: Sleep = time.sleep) -> T:
    """Call `attempt` until it returns, raises GiveUp, or the policy's attempts are spent; then DeliveryFailed."""
    for number in range(1, policy.attempts + 1):
        try:
            return attempt()
        except GiveUp as stop:
            raise DeliveryFailed(channel, stop.reason, attempts=number) from stop
        except Retryable as failure:
            if number == policy.attempts:
                raise DeliveryFailed(channel, f"gave up, last error: {failure.reason}", attempts=number) from failure
            if failure.retry_after is not None and failure.retry_after > policy.max_retry_after_s:
                raise DeliveryFailed(
                    channel,
                    f"{failure.reason}; asked to wait {failure.retry_after:g} s, more than the "
                    f"{policy.max_retry_after_s:g} s allowed",
                    attempts=number,
                ) from failure
            sleep(failure.retry_after if failure.retry_after is not None else policy.backoff_s(number))
    raise AssertionError("unreachable: the loop returns or raises")
