"""Syslog/CEF delivery to real listeners on localhost: UDP, TCP with octet counting, and TLS."""

from __future__ import annotations

import re
import socket
from datetime import UTC, datetime
from typing import Any

import pytest

from collector.alert_delivery.deliverer import DeliveryFailed
from collector.alert_delivery.retry import RetryPolicy
from collector.alert_delivery.syslog_cef import SyslogDeliverer, format_syslog, octet_counted
from tests.collector.alert_delivery.cef_parser import CefEvent, parse_cef
from tests.collector.alert_delivery.conftest import RecordingSleep
from tests.collector.alert_delivery.notices import make_notice
from tests.collector.alert_delivery.syslog_receiver import stream_receiver, udp_receiver
from tests.collector.alert_delivery.tls_certs import SelfSignedCertificate

SENT_AT = datetime(2025, 3, 4, 11, 43, 0, 123_000, tzinfo=UTC)
# RFC 5424 section 6: <PRI>VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD SP MSG
RFC5424 = re.compile(
    rb"<(?P<pri>\d{1,3})>(?P<version>1) (?P<timestamp>\S+) (?P<hostname>\S+) (?P<app>\S+) (?P<procid>\S+) "
    rb"(?P<msgid>\S+) (?P<sd>-) (?P<msg>.*)",
    re.DOTALL,
)


def parse_syslog(message: bytes) -> tuple[dict[str, str], CefEvent]:
    match = RFC5424.fullmatch(message)
    assert match is not None, message
    fields = {name: value.decode() for name, value in match.groupdict().items()}
    return fields, parse_cef(fields["msg"])


def deliverer_for(port: int, sleep: RecordingSleep, **options: Any) -> SyslogDeliverer:
    return SyslogDeliverer(
        "127.0.0.1",
        port,
        hostname="collector-01",
        sleep=sleep,
        clock=lambda: SENT_AT,
        timeout_s=5,
        **options,
    )


def test_udp_delivers_one_rfc5424_datagram_with_a_cef_message(sleep: RecordingSleep) -> None:
    with udp_receiver() as (port, sock):
        deliverer_for(port, sleep).deliver(make_notice(title="Keys | tokens = leaked"))
        datagram, _ = sock.recvfrom(65_535)

    fields, event = parse_syslog(datagram)
    assert fields["pri"] == str(16 * 8 + 3)  # local0, error: a high alert
    assert fields["timestamp"] == "2025-03-04T11:43:00.123Z"
    assert fields["hostname"] == "collector-01"
    assert fields["app"] == "shadowscope"
    assert fields["procid"].isdigit()
    assert fields["msgid"] == "alert"
    assert event.header[5] == "Keys | tokens = leaked"
    assert event.header[6] == "8"
    assert event.extension["externalId"] == "42"
    assert event.extension["cs1"] == "user:7d3f9a"


def test_tcp_frames_each_message_by_its_octet_count(sleep: RecordingSleep) -> None:
    multi_line = "host=ws-17\nsecond | line \\ end"
    with stream_receiver() as receiver:
        deliverer = deliverer_for(receiver.port, sleep, transport="tcp")
        deliverer.deliver(make_notice(title="Keys | tokens = leaked", subject=multi_line))
        deliverer.deliver(make_notice(alert_id=43, level="critical"))
        first, second = receiver.next_message(), receiver.next_message()

    fields, event = parse_syslog(first)
    assert event.header[5] == "Keys | tokens = leaked"
    assert event.extension["cs1"] == multi_line
    fields, event = parse_syslog(second)
    assert fields["pri"] == str(16 * 8 + 2)
    assert event.extension["externalId"] == "43"
    assert event.header[6] == "10"


def test_tls_delivers_to_a_receiver_the_ssl_context_trusts(
    sleep: RecordingSleep, certificate: SelfSignedCertificate
) -> None:
    with stream_receiver(tls=certificate.server_context()) as receiver:
        deliverer = deliverer_for(receiver.port, sleep, transport="tls", ssl_context=certificate.client_context())
        deliverer.deliver(make_notice())
        message = receiver.next_message()

    _, event = parse_syslog(message)
    assert event.extension["externalId"] == "42"


def test_tls_refuses_a_receiver_it_does_not_trust(sleep: RecordingSleep, certificate: SelfSignedCertificate) -> None:
    with stream_receiver(tls=certificate.server_context()) as receiver:
        # The default context trusts the system's CAs only, which never signed the test certificate.
        deliverer = deliverer_for(receiver.port, sleep, transport="tls", policy=RetryPolicy(attempts=3))
        with pytest.raises(DeliveryFailed, match="TLS certificate not trusted") as failure:
            deliverer.deliver(make_notice())
        receiver.handshake_failures.get(timeout=5)

    # Not retried: the same certificate would fail the same way.
    assert failure.value.attempts == 1
    assert receiver.messages.empty()


def test_a_refused_tcp_connection_fails_after_every_attempt(sleep: RecordingSleep, policy: RetryPolicy) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]

    with pytest.raises(DeliveryFailed, match="ConnectionRefusedError") as failure:
        deliverer_for(port, sleep, transport="tcp", policy=policy).deliver(make_notice())

    assert failure.value.attempts == 4
    assert len(sleep.pauses) == 3


def test_octet_counting_counts_bytes_not_characters() -> None:
    assert octet_counted("é".encode()) == b"2 \xc3\xa9"


def test_header_fields_are_printable_ascii_or_nil() -> None:
    message = format_syslog(make_notice(), hostname="bad host\tname", procid="", now=SENT_AT)

    fields, _ = parse_syslog(message)
    assert fields["hostname"] == "badhostname"
    assert fields["procid"] == "-"


@pytest.mark.parametrize("options", [{"facility": 24}, {"transport": "tcp", "ssl_context": "context"}])
def test_a_misconfigured_syslog_channel_is_refused(options: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match=r"facility|ssl_context"):
        SyslogDeliverer("127.0.0.1", 514, **options)
