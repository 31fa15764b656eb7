"""Webhook delivery against a real HTTP server in a thread that verifies every signature it receives."""

from __future__ import annotations

import json
import socket
import time
from collections.abc import Iterator
from datetime import UTC, datetime

import httpx
import pytest

from collector.alert_delivery.deliverer import DeliveryFailed
from collector.alert_delivery.retry import RetryPolicy
from collector.alert_delivery.version import USER_AGENT
from collector.alert_delivery.webhook import (
    DELIVERY_HEADER,
    SIGNATURE_HEADER,
    TIMESTAMP_HEADER,
    WebhookDeliverer,
    parse_retry_after,
    sign,
    verify_signature,
)
from tests.collector.alert_delivery.conftest import RecordingSleep
from tests.collector.alert_delivery.notices import make_notice
from tests.collector.alert_delivery.webhook_receiver import WebhookReceiver, running_receiver

SECRET = b"whsec-test-0123456789"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver(SECRET) as receiver:
        yield receiver


@pytest.fixture
def deliverer(receiver: WebhookReceiver, policy: RetryPolicy, sleep: RecordingSleep) -> Iterator[WebhookDeliverer]:
    deliverer = WebhookDeliverer(receiver.url, SECRET, policy=policy, sleep=sleep, timeout_s=5)
    yield deliverer
    deliverer.close()


def closed_port() -> int:
    """A port nothing listens on: bound, then released, so connecting is refused."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
    return port


def test_a_notice_arrives_as_signed_json_the_receiver_verifies(
    receiver: WebhookReceiver, deliverer: WebhookDeliverer, sleep: RecordingSleep
) -> None:
    notice = make_notice()

    deliverer.deliver(notice)

    [delivery] = receiver.deliveries
    assert delivery.verified
    assert json.loads(delivery.body) == notice.as_json()
    assert delivery.headers["Content-Type"] == "application/json"
    assert delivery.headers["User-Agent"] == USER_AGENT
    assert delivery.headers[SIGNATURE_HEADER].startswith("sha256=")
    assert delivery.headers[TIMESTAMP_HEADER].isdigit()
    assert len(delivery.headers[DELIVERY_HEADER]) == 36
    assert sleep.pauses == []


def test_503_twice_is_retried_with_the_same_delivery_id(
    receiver: WebhookReceiver, deliverer: WebhookDeliverer, sleep: RecordingSleep
) -> None:
    receiver.answer(503, times=2)

    deliverer.deliver(make_notice())

    assert len(receiver.deliveries) == 3
    assert all(delivery.verified for delivery in receiver.deliveries)
    assert len({delivery.headers[DELIVERY_HEADER] for delivery in receiver.deliveries}) == 1
    assert len({delivery.body for delivery in receiver.deliveries}) == 1
    # Backoff with jitter: the first pause in [0.5, 1], the second in [1, 2] for a 1 s base.
    assert 0.5 <= sleep.pauses[0] <= 1.0
    assert 1.0 <= sleep.pauses[1] <= 2.0


def test_429_waits_as_long_as_retry_after_says(
    receiver: WebhookReceiver, deliverer: WebhookDeliverer, sleep: RecordingSleep
) -> None:
    receiver.answer(429, {"Retry-After": "7"})

    deliverer.deliver(make_notice())

    assert len(receiver.deliveries) == 2
    assert sleep.pauses == [7.0]


def test_a_5xx_with_retry_after_also_waits_as_told(
    receiver: WebhookReceiver, deliverer: WebhookDeliverer, sleep: RecordingSleep
) -> None:
    receiver.answer(503, {"Retry-After": "3"})

    deliverer.deliver(make_notice())

    assert sleep.pauses == [3.0]


def test_400_is_not_retried(receiver: WebhookReceiver, deliverer: WebhookDeliverer, sleep: RecordingSleep) -> None:
    receiver.answer(400)

    with pytest.raises(DeliveryFailed, match=r"HTTP 400, not retried \(after 1 attempt\)") as failure:
        deliverer.deliver(make_notice())

    assert failure.value.attempts == 1
    assert len(receiver.deliveries) == 1
    assert sleep.pauses == []


def test_a_redirect_is_not_followed_nor_retried(receiver: WebhookReceiver, deliverer: WebhookDeliverer) -> None:
    receiver.answer(307, {"Location": "http://elsewhere.invalid/"})

    with pytest.raises(DeliveryFailed, match="HTTP 307"):
        deliverer.deliver(make_notice())

    assert len(receiver.deliveries) == 1


def test_a_receiver_that_stays_down_fails_after_every_attempt(
    receiver: WebhookReceiver, deliverer: WebhookDeliverer, sleep: RecordingSleep
) -> None:
    receiver.default_status = 502

    with pytest.raises(DeliveryFailed, match="last error: HTTP 502") as failure:
        deliverer.deliver(make_notice())

    assert failure.value.attempts == 4
    assert len(receiver.deliveries) == 4
    assert len(sleep.pauses) == 3


def test_a_refused_connection_fails_after_every_attempt(policy: RetryPolicy, sleep: RecordingSleep) -> None:
    deliverer = WebhookDeliverer(f"http://127.0.0.1:{closed_port()}/hook", SECRET, policy=policy, sleep=sleep)

    with pytest.raises(DeliveryFailed, match="could not connect") as failure:
        deliverer.deliver(make_notice())
    deliverer.close()

    assert failure.value.attempts == 4
    assert len(sleep.pauses) == 3


def test_a_receiver_that_never_answers_times_out_and_is_retried(sleep: RecordingSleep) -> None:
    # Listening but never accepting: the kernel completes the handshake, no response ever comes.
    with socket.create_server(("127.0.0.1", 0)) as silent:
        url = f"http://127.0.0.1:{silent.getsockname()[1]}/hook"
        deliverer = WebhookDeliverer(url, SECRET, policy=RetryPolicy(attempts=2), sleep=sleep, timeout_s=0.2)
        with pytest.raises(DeliveryFailed, match="timed out") as failure:
            deliverer.deliver(make_notice())
        deliverer.close()

    assert failure.value.attempts == 2


def test_the_url_path_and_credentials_stay_out_of_the_error(policy: RetryPolicy, sleep: RecordingSleep) -> None:
    port = closed_port()
    url = f"http://hook-user:hook-pass@127.0.0.1:{port}/hooks/T0KEN-IN-PATH?sig=T0KEN-IN-QUERY"
    deliverer = WebhookDeliverer(url, SECRET, policy=RetryPolicy(attempts=1), sleep=sleep)

    with pytest.raises(DeliveryFailed) as failure:
        deliverer.deliver(make_notice())
    deliverer.close()

    assert f"http://127.0.0.1:{port}" in str(failure.value)
    assert "T0KEN" not in str(failure.value)
    assert "hook-pass" not in str(failure.value)


def test_a_tampered_body_fails_verification(receiver: WebhookReceiver, deliverer: WebhookDeliverer) -> None:
    deliverer.deliver(make_notice())
    [delivery] = receiver.deliveries
    timestamp = delivery.headers[TIMESTAMP_HEADER]
    signature = delivery.headers[SIGNATURE_HEADER]
    tampered = delivery.body.replace(b'"level":"high"', b'"level":"low"')

    assert tampered != delivery.body
    assert verify_signature(SECRET, timestamp, delivery.body, signature)
    assert not verify_signature(SECRET, timestamp, tampered, signature)
    assert not verify_signature(b"another-secret", timestamp, delivery.body, signature)
    assert not verify_signature(SECRET, str(int(timestamp) + 1), delivery.body, signature)

    # And over the wire: the receiver refuses the tampered request.
    headers = {name: delivery.headers[name] for name in (TIMESTAMP_HEADER, SIGNATURE_HEADER, DELIVERY_HEADER)}
    response = httpx.post(receiver.url, content=tampered, headers=headers)
    assert response.status_code == 401


def test_an_old_signature_is_refused_as_a_replay() -> None:
    body = b'{"schema":"shadowscope/alert-notice/v1"}'
    sent_at = 1_700_000_000
    signature = sign(SECRET, str(sent_at), body)

    assert verify_signature(SECRET, str(sent_at), body, signature, tolerance_s=300, now=sent_at + 299)
    assert not verify_signature(SECRET, str(sent_at), body, signature, tolerance_s=300, now=sent_at + 301)
    assert not verify_signature(SECRET, str(sent_at), body, signature, tolerance_s=300, now=sent_at - 301)


@pytest.mark.parametrize(("timestamp", "header"), [("soon", "sha256=00"), ("1700000000", "md5=abc"), ("", "")])
def test_malformed_signature_headers_do_not_verify(timestamp: str, header: str) -> None:
    assert not verify_signature(SECRET, timestamp, b"{}", header, now=1_700_000_000)


def test_the_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    # Pinned (computed with `printf '1700000000.{}' | openssl dgst -sha256 -hmac secret`) so a receiver written
    # from the docs in another language agrees with us.
    assert sign(b"secret", "1700000000", b"{}") == (
        "sha256=b8569b78799ff9e3cbff0fc2d63a33a2b57f3282abd07c37ae5e8e7d79a5f163"
    )


@pytest.mark.parametrize(
    ("value", "seconds"),
    [("7", 7.0), ("0", 0.0), ("Wed, 04 Mar 2026 12:00:30 GMT", 30.0), ("soon", None), (None, None), ("-5", None)],
)
def test_retry_after_is_read_as_seconds_or_an_http_date(value: str | None, seconds: float | None) -> None:
    now = datetime(2026, 3, 4, 12, 0, 0, tzinfo=UTC)

    assert parse_retry_after(value, now=now) == seconds


@pytest.mark.parametrize(
    ("url", "secret", "message"),
    [("ftp://example.com/hook", SECRET, "http"), ("https://example.com/hook", b"", "secret is empty")],
)
def test_a_misconfigured_webhook_is_refused(url: str, secret: bytes, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        WebhookDeliverer(url, secret)


def test_the_timestamp_is_fresh_on_every_attempt(receiver: WebhookReceiver, sleep: RecordingSleep) -> None:
    # Both inside the receiver's 300 s tolerance of its real clock, 90 s apart as after a long Retry-After.
    start = int(time.time())
    clock = iter([float(start), float(start + 90)])
    deliverer = WebhookDeliverer(
        receiver.url, SECRET, policy=RetryPolicy(attempts=2), sleep=sleep, clock=lambda: next(clock)
    )
    receiver.answer(503)

    deliverer.deliver(make_notice())
    deliverer.close()

    stamps = [delivery.headers[TIMESTAMP_HEADER] for delivery in receiver.deliveries]
    assert stamps == [str(start), str(start + 90)]
    assert all(delivery.verified for delivery in receiver.deliveries)
