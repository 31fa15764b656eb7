"""Fan-out: every configured channel is tried, and one failing does not stop the others."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from collector.alert_delivery import Deliverer, SmtpDeliverer, SyslogDeliverer, WebhookDeliverer, deliver_to_all
from collector.alert_delivery.retry import RetryPolicy
from tests.collector.alert_delivery.conftest import RecordingSleep
from tests.collector.alert_delivery.notices import make_notice
from tests.collector.alert_delivery.syslog_receiver import udp_receiver
from tests.collector.alert_delivery.webhook_receiver import WebhookReceiver, running_receiver

SECRET = b"fan-out-secret"


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver(SECRET) as receiver:
        yield receiver


def test_every_channel_is_a_deliverer() -> None:
    channels: list[object] = [
        WebhookDeliverer("https://hooks.example.com/x", SECRET),
        SyslogDeliverer("127.0.0.1", 514),
        SmtpDeliverer("127.0.0.1", 25, sender="a@example.com", recipients=["b@example.com"]),
    ]

    assert all(isinstance(channel, Deliverer) for channel in channels)
    assert [channel.name for channel in channels if isinstance(channel, Deliverer)] == ["webhook", "syslog", "email"]


def test_a_failing_channel_does_not_stop_the_others(
    receiver: WebhookReceiver, sleep: RecordingSleep, policy: RetryPolicy
) -> None:
    receiver.default_status = 400
    failing = WebhookDeliverer(receiver.url, SECRET, name="webhook-soar", policy=policy, sleep=sleep)
    with udp_receiver() as (port, sock):
        siem = SyslogDeliverer("127.0.0.1", port, name="siem", policy=policy, sleep=sleep)

        failures = deliver_to_all(make_notice(), [failing, siem])
        datagram, _ = sock.recvfrom(65_535)

    failing.close()
    assert [failure.channel for failure in failures] == [f"webhook-soar http://127.0.0.1:{receiver.port}"]
    assert b"CEF:0|ShadowScope|ShadowScope|" in datagram
