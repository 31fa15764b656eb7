"""Alert webhooks: the notice as JSON, POSTed with an HMAC-SHA256 signature, retried on transient failures.

Signature: `X-ShadowScope-Signature: sha256=<hex>` where hex is HMAC-SHA256(secret, "<timestamp>.<raw body>") and
timestamp is `X-ShadowScope-Timestamp` (Unix seconds). Signing the timestamp with the body lets a receiver refuse
old captured requests (replays); `X-ShadowScope-Delivery` stays the same across retries so it can drop duplicates.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from typing import Final
from urllib.parse import urlsplit

import httpx

from collector.alert_delivery.notice import AlertNotice
from collector.alert_delivery.retry import GiveUp, Retryable, RetryPolicy, Sleep, run_with_retries
from collector.alert_delivery.version import USER_AGENT

SIGNATURE_HEADER: Final = "X-ShadowScope-Signature"
TIMESTAMP_HEADER: Final = "X-ShadowScope-Timestamp"
DELIVERY_HEADER: Final = "X-ShadowScope-Delivery"
SIGNATURE_PREFIX: Final = "sha256="
DEFAULT_TOLERANCE_S: Final = 300

HTTP_TOO_MANY_REQUESTS: Final = 429


def encode_body(notice: AlertNotice) -> bytes:
    """Compact, key-sorted JSON: the exact bytes that are signed and sent."""
    return json.dumps(notice.as_json(), separators=(",", ":"), sort_keys=True, ensure_ascii=False).encode()


def sign(secret: bytes, timestamp: str, body: bytes) -> str:
    """The signature header's value for `body` sent at `timestamp`."""
    digest = hmac.new(secret, timestamp.encode("ascii") + b"." + body, hashlib.sha256).hexdigest()
    return SIGNATURE_PREFIX + digest


def verify_signature(
    secret: bytes | str,
    timestamp: str,
    body: bytes,
    header: str,
    tolerance_s: float = DEFAULT_TOLERANCE_S,
    *,
    now: float | None = None,
) -> bool:
    """For receivers: True when `header` signs `body` at `timestamp` under `secret` and the timestamp is recent.

    `body` must be the raw request bytes, not re-serialised JSON; `tolerance_s` bounds clock skew and replay age.
    """
    key = secret.encode() if isinstance(secret, str) else secret
    try:
        sent_at = int(timestamp)
    except ValueError:
        return False
    current = time.time() if now is None else now
    if abs(current - sent_at) > tolerance_s:
        return False
    # compare_digest: the comparison's time must not reveal how many leading characters matched.
    return hmac.compare_digest(sign(key, timestamp, body).encode(), header.strip().encode())


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP date (RFC 9110 10.2.3). None if unusable."""
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        return None
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def redact_url(url: str) -> str:
    """scheme://host:port only: webhook URLs often carry a token in the path or query, which must not reach logs."""
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


class WebhookDeliverer:
    """POSTs each notice to one URL through one httpx client (connections reused); close() it, or pass your own."""

    def __init__(
        self,
        url: str,
        secret: bytes | str,
        *,
        name: str = "webhook",
        timeout_s: float = 10.0,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], float] = time.time,
        client: httpx.Client | None = None,
    ) -> None:
        if urlsplit(url).scheme not in {"http", "https"}:
            raise ValueError("webhook URL must be http:// or https://")
        key = secret.encode() if isinstance(secret, str) else secret
        if not key:
            raise ValueError("webhook secret is empty: receivers could not tell our requests from anyone's")
        self._name = name
        self._url = url
        self._secret = key
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock
        # No redirects: a 3xx would re-send the signed body to a host nobody configured.
        self._client = client or httpx.Client(timeout=timeout_s, follow_redirects=False)

    @property
    def name(self) -> str:
        return self._name

    def close(self) -> None:
        self._client.close()

    def deliver(self, notice: AlertNotice, *, delivery_id: str | None = None) -> None:
        """`delivery_id` is the X-ShadowScope-Delivery header: give the outbox row's id so that retries spread over
        several runs carry the same id as retries within one call (default: a new id for this call)."""
        body = encode_body(notice)
        delivery_id = delivery_id or str(uuid.uuid4())
        run_with_retries(
            f"{self._name} {redact_url(self._url)}",
            lambda: self._post(body, delivery_id),
            self._policy,
            self._sleep,
        )

    def _post(self, body: bytes, delivery_id: str) -> None:
        # Stamped per attempt: a retry after a long Retry-After must still fall inside the receiver's tolerance.
        timestamp = str(int(self._clock()))
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            TIMESTAMP_HEADER: timestamp,
            SIGNATURE_HEADER: sign(self._secret, timestamp, body),
            DELIVERY_HEADER: delivery_id,
        }
        try:
            response = self._client.post(self._url, content=body, headers=headers)
        except httpx.TimeoutException as error:
            raise Retryable(f"timed out ({type(error).__name__})") from error
        except httpx.TransportError as error:
            raise Retryable(f"could not connect ({type(error).__name__}: {error})") from error
        status = response.status_code
        if response.is_success:
            return
        if status == HTTP_TOO_MANY_REQUESTS:
            raise Retryable("HTTP 429", retry_after=parse_retry_after(response.headers.get("Retry-After")))
        if response.is_server_error:
            raise Retryable(f"HTTP {status}", retry_after=parse_retry_after(response.headers.get("Retry-After")))
        # Other 4xx (and any 3xx): our request or the configuration is wrong; the same request would fail again.
        raise GiveUp(f"HTTP {status}, not retried")
