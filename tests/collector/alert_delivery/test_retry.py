"""Backoff with jitter, and the retry loop's three outcomes: success, give up at once, give up after retries."""

from __future__ import annotations

import random
from typing import Any

import pytest

from collector.alert_delivery.deliverer import DeliveryFailed
from collector.alert_delivery.retry import GiveUp, Retryable, RetryPolicy, run_with_retries
from tests.collector.alert_delivery.conftest import RecordingSleep


def test_backoff_grows_exponentially_within_its_jitter_and_stops_at_the_cap() -> None:
    policy = RetryPolicy(attempts=10, base_delay_s=1.0, max_delay_s=8.0, rng=random.Random(1))

    for retry, step in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (5, 8.0), (9, 8.0)]:
        for _ in range(50):
            assert step / 2 <= policy.backoff_s(retry) <= step


def test_jitter_spreads_the_pauses() -> None:
    policy = RetryPolicy(rng=random.Random(2))

    assert len({policy.backoff_s(3) for _ in range(20)}) > 1


def test_a_transient_failure_is_retried_until_it_succeeds(sleep: RecordingSleep, policy: RetryPolicy) -> None:
    outcomes: list[Exception | None] = [Retryable("503"), Retryable("503"), None]

    def attempt() -> str:
        outcome = outcomes.pop(0)
        if outcome is not None:
            raise outcome
        return "delivered"

    assert run_with_retries("test", attempt, policy, sleep) == "delivered"
    assert len(sleep.pauses) == 2


def test_give_up_stops_at_once(sleep: RecordingSleep, policy: RetryPolicy) -> None:
    def attempt() -> None:
        raise GiveUp("HTTP 400")

    with pytest.raises(DeliveryFailed, match=r"test: HTTP 400 \(after 1 attempt\)") as failure:
        run_with_retries("test", attempt, policy, sleep)
    assert failure.value.attempts == 1
    assert sleep.pauses == []


def test_retries_are_bounded_by_the_policy(sleep: RecordingSleep, policy: RetryPolicy) -> None:
    def attempt() -> None:
        raise Retryable("connection refused")

    with pytest.raises(DeliveryFailed, match="last error: connection refused") as failure:
        run_with_retries("test", attempt, policy, sleep)
    assert failure.value.attempts == policy.attempts == 4
    assert len(sleep.pauses) == 3


def test_a_retry_after_longer_than_allowed_is_not_waited_for(sleep: RecordingSleep) -> None:
    policy = RetryPolicy(attempts=3, max_retry_after_s=60)

    def attempt() -> None:
        raise Retryable("HTTP 429", retry_after=3600)

    with pytest.raises(DeliveryFailed, match="asked to wait 3600 s") as failure:
        run_with_retries("test", attempt, policy, sleep)
    assert failure.value.attempts == 1
    assert sleep.pauses == []


@pytest.mark.parametrize("settings", [{"attempts": 0}, {"base_delay_s": 5.0, "max_delay_s": 1.0}])
def test_a_nonsensical_policy_is_refused(settings: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"attempts|base_delay"):
        RetryPolicy(**settings)
