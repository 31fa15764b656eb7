"""Deliver event batches to the collector over HTTP, retrying what may succeed later and nothing else.

Retry: connection errors, timeouts, 429 and 5xx (with exponential backoff and jitter, honouring Retry-After).
No retry: other 4xx, which mean the batch itself is wrong or the key is refused; repeating would not help.
Re-sending after a timeout is safe because the collector ingests idempotently by batch and event id.
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

from events.heartbeat import HEARTBEATS_PATH, Heartbeat
from events.models import EventBatch

log = logging.getLogger(__name__)

BATCHES_PATH = "/api/v1/batches"


class DeliveryRefused(Exception):
    """The collector answered 4xx: the batch or the key is wrong. `message` is the collector's own words."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(f"collector refused the batch ({status}): {message}")
        self.status = status


class DeliveryFailed(Exception):
    """The collector could not be reached or kept failing; the batch should stay spooled."""


@dataclass(frozen=True, slots=True)
class Receipt:
    received: int
    stored: int
    duplicate_batch: bool


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    attempts: int = 5
    first_delay: float = 0.5
    max_delay: float = 30.0

    def delay(self, attempt: int, retry_after: float | None) -> float:
        if retry_after is not None:
            return min(retry_after, self.max_delay)
        backoff: float = min(self.first_delay * 2**attempt, self.max_delay)
        return backoff * (0.5 + random.random() / 2)  # noqa: S311 - jitter, not cryptography


def _retry_after(response: httpx.Response) -> float | None:
    try:
        return float(response.headers["Retry-After"])
    except (KeyError, ValueError):
        return None


def _error_message(response: httpx.Response) -> str:
    try:
        return str(response.json()["error"]["message"])
    except (ValueError, KeyError, TypeError):
        return response.text[:200]


class CollectorClient:
    def __init__(
        self,
        base_url: str,
        api_key: str,
        *,
        retry: RetryPolicy | None = None,
        timeout: float = 30.0,
        transport: httpx.BaseTransport | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = httpx.Client(
            base_url=base_url,
            headers={"Authorization": f"Bearer {api_key}", "Content-Type": "application/json"},
            timeout=timeout,
            transport=transport,
        )
        self._retry = retry or RetryPolicy()
        self._sleep = sleep

    def __enter__(self) -> CollectorClient:
        return self

    def __exit__(self, *_exc: object) -> None:
        self.close()

    def close(self) -> None:
        self._client.close()

    def send(self, batch: EventBatch) -> Receipt:
        body = batch.model_dump_json().encode()
        last_problem = "no attempt made"
        for attempt in range(self._retry.attempts):
            retry_after: float | None = None
            try:
                response = self._client.post(BATCHES_PATH, content=body)
            except httpx.TransportError as error:
                last_problem = f"{type(error).__name__}: {error}"
            else:
                if response.status_code in (200, 201):
                    data = response.json()
                    return Receipt(data["received"], data["stored"], data["duplicate_batch"])
                if response.status_code != 429 and response.status_code < 500:
                    raise DeliveryRefused(response.status_code, _error_message(response))
                last_problem = f"HTTP {response.status_code}: {_error_message(response)}"
                retry_after = _retry_after(response)
            if attempt + 1 < self._retry.attempts:
                delay = self._retry.delay(attempt, retry_after)
                log.warning("delivery failed, retrying in %.1fs: %s", delay, last_problem)
                self._sleep(delay)
        raise DeliveryFailed(f"gave up after {self._retry.attempts} attempts: {last_problem}")

    def send_heartbeat(self, heartbeat: Heartbeat) -> None:
        """One attempt, no retries: the next heartbeat is the retry, and only the newest one matters.

        Raises DeliveryRefused on a 4xx (429 excepted) and DeliveryFailed when the collector is unreachable or failing.
        """
        try:
            response = self._client.post(HEARTBEATS_PATH, content=heartbeat.model_dump_json().encode())
        except httpx.TransportError as error:
            raise DeliveryFailed(f"{type(error).__name__}: {error}") from error
        if response.status_code == 200:
            return
        if response.status_code != 429 and response.status_code < 500:
            raise DeliveryRefused(response.status_code, _error_message(response))
        raise DeliveryFailed(f"HTTP {response.status_code}: {_error_message(response)}")
