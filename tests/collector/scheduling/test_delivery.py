"""Alert delivery wired end to end: an Alert row in the database, the outbox job, a real receiver on localhost."""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import select

from collector.alert_delivery.notice import SCHEMA_ID
from collector.alert_delivery.webhook import DELIVERY_HEADER
from collector.models import AlertDelivery
from collector.runtime import Runtime
from collector.scheduling.destinations import Channel, DestinationError, build_channels, close_all
from collector.scheduling.notices import rule_titles
from collector.scheduling.outbox import Outbox, RunCounts
from collector.settings import CollectorSettings
from tests.collector.alert_delivery.cef_parser import parse_cef
from tests.collector.alert_delivery.smtp_receiver import SmtpReceiver, running_smtp
from tests.collector.alert_delivery.syslog_receiver import stream_receiver, udp_receiver
from tests.collector.alert_delivery.tls_certs import SelfSignedCertificate, make_certificate
from tests.collector.alert_delivery.webhook_receiver import WebhookReceiver, running_receiver
from tests.collector.scheduling.conftest import NOW, MakeRuntime, RowsFactory

SECRET = "a-long-random-webhook-secret"
RULE_ID = "874f5ad6-f0c4-4e09-8813-b21f6dc6651e"  # a shipped rule: its title goes into the notice
RULE_TITLE = "Personal, health or card data sent to an unsanctioned AI tool"


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSignedCertificate:
    return make_certificate(tmp_path_factory.mktemp("tls"))


@pytest.fixture
def secret_file(tmp_path: Path) -> Path:
    path = tmp_path / "webhook.secret"
    path.write_text(SECRET + "\n")
    return path


@pytest.fixture
def receiver() -> Iterator[WebhookReceiver]:
    with running_receiver(SECRET.encode()) as running:
        yield running


def outbox_for(runtime: Runtime) -> tuple[Outbox, list[Channel]]:
    channels = build_channels(runtime.settings.delivery)
    outbox = Outbox(runtime.sessions, channels, runtime.settings.delivery, rule_titles(), lambda: runtime.catalog)
    return outbox, channels


@pytest.fixture
def deliver(make_runtime: MakeRuntime) -> Iterator[Any]:
    """deliver(delivery={...}) -> (runtime, outbox); channels are closed after the test."""
    opened: list[Channel] = []

    def make(**delivery: Any) -> tuple[Runtime, Outbox]:
        runtime = make_runtime(delivery=delivery)
        outbox, channels = outbox_for(runtime)
        opened.extend(channels)
        return runtime, outbox

    yield make
    close_all(opened)


def deliveries(runtime: Runtime) -> list[AlertDelivery]:
    with runtime.sessions() as session:
        return list(session.scalars(select(AlertDelivery).order_by(AlertDelivery.id)))


def test_a_new_alert_reaches_the_webhook_signed_once_and_is_never_sent_again(
    deliver: Any, rows: RowsFactory, receiver: WebhookReceiver, secret_file: Path
) -> None:
    runtime, outbox = deliver(
        webhooks=[{"name": "soar", "url": receiver.url, "secret": {"file": str(secret_file)}}],
        console_url="https://shadowscope.example/alerts/{alert_id}",
    )
    with rows() as add:
        alert = add.alert(rule_id=RULE_ID, severity="critical")

    assert outbox.run(NOW) == RunCounts(queued=1, delivered=1)
    assert outbox.run(NOW + timedelta(minutes=1)) == RunCounts()

    [request] = receiver.deliveries
    assert request.verified, "the HMAC signature checks out under the shared secret"
    body = json.loads(request.body)
    assert body == {
        "schema": SCHEMA_ID,
        "alert_id": alert.id,
        "rule_id": RULE_ID,
        "title": RULE_TITLE,
        "level": "critical",
        "status": "new",
        "tool_id": "openai-chatgpt",
        "tool_name": "ChatGPT",
        "subject": "ana",
        "count": 3,
        "first_seen": "2026-03-18T10:30:00.000Z",
        "last_seen": "2026-03-18T10:30:00.000Z",
        "labels": ["source_code"],
        "entity_types": ["API_KEY"],
        "console_url": f"https://shadowscope.example/alerts/{alert.id}",
    }
    [row] = deliveries(runtime)
    assert (row.destination, row.status, row.attempts, row.delivered_at) == ("soar", "delivered", 1, NOW)
    assert request.headers[DELIVERY_HEADER] == str(row.delivery_id)


def test_alerts_below_the_minimum_severity_closed_or_too_old_are_not_queued(
    deliver: Any, rows: RowsFactory, receiver: WebhookReceiver, secret_file: Path
) -> None:
    runtime, outbox = deliver(
        webhooks=[{"url": receiver.url, "secret": {"file": str(secret_file)}, "min_severity": "high"}],
        lookback_hours=24,
    )
    with rows() as add:
        add.alert(severity="medium")
        add.alert(severity="critical", status="dismissed")
        add.alert(severity="high", at=NOW - timedelta(hours=25))
        wanted = add.alert(severity="high")

    outbox.run(NOW)

    assert [row.alert_id for row in deliveries(runtime)] == [wanted.id]
    assert len(receiver.deliveries) == 1


def test_a_failing_webhook_is_retried_with_backoff_then_marked_failed(
    deliver: Any, rows: RowsFactory, receiver: WebhookReceiver, secret_file: Path
) -> None:
    runtime, outbox = deliver(
        webhooks=[{"url": receiver.url, "secret": {"file": str(secret_file)}}],
        max_attempts=3,
        retry_base_seconds=60,
        retry_max_seconds=600,
    )
    receiver.default_status = 503
    with rows() as add:
        add.alert()

    assert outbox.run(NOW) == RunCounts(queued=1, retrying=1)
    [row] = deliveries(runtime)
    assert row.status == "pending"
    assert row.attempts == 1
    assert row.last_error is not None
    assert "HTTP 503" in row.last_error
    assert NOW + timedelta(seconds=30) <= row.next_attempt_at <= NOW + timedelta(seconds=60)

    assert outbox.run(NOW + timedelta(seconds=10)) == RunCounts(), "not due yet"
    assert outbox.run(NOW + timedelta(seconds=61)) == RunCounts(retrying=1)
    assert outbox.run(NOW + timedelta(minutes=10)) == RunCounts(failed=1)
    assert outbox.run(NOW + timedelta(hours=1)) == RunCounts(), "a failed row is not tried again"

    [row] = deliveries(runtime)
    assert (row.status, row.attempts, row.delivered_at) == ("failed", 3, None)
    assert len(receiver.deliveries) == 3
    assert {request.headers[DELIVERY_HEADER] for request in receiver.deliveries} == {str(row.delivery_id)}


def test_a_refusal_retrying_cannot_fix_fails_at_once(
    deliver: Any, rows: RowsFactory, receiver: WebhookReceiver, secret_file: Path
) -> None:
    runtime, outbox = deliver(webhooks=[{"url": receiver.url, "secret": {"file": str(secret_file)}}])
    receiver.answer(400)
    with rows() as add:
        add.alert()

    assert outbox.run(NOW) == RunCounts(queued=1, failed=1)
    [row] = deliveries(runtime)
    assert row.status == "failed"
    assert row.last_error is not None
    assert "HTTP 400" in row.last_error


def test_one_failing_destination_does_not_hold_back_another(
    deliver: Any, rows: RowsFactory, receiver: WebhookReceiver, secret_file: Path
) -> None:
    with udp_receiver() as (port, sock):
        runtime, outbox = deliver(
            webhooks=[{"url": receiver.url, "secret": {"file": str(secret_file)}}],
            syslog=[{"host": "127.0.0.1", "port": port, "transport": "udp"}],
        )
        receiver.default_status = 503
        with rows() as add:
            alert = add.alert()

        assert outbox.run(NOW) == RunCounts(queued=2, delivered=1, retrying=1)
        datagram = sock.recv(65536)

    assert f"externalId={alert.id}" in datagram.decode()
    assert {(row.destination, row.status) for row in deliveries(runtime)} == {
        ("webhook", "pending"),
        ("syslog", "delivered"),
    }


def test_syslog_over_tls_carries_the_alert_as_cef(
    deliver: Any, rows: RowsFactory, certificate: SelfSignedCertificate
) -> None:
    with stream_receiver(tls=certificate.server_context()) as syslog:
        runtime, outbox = deliver(
            syslog=[
                {
                    "name": "siem",
                    "host": "127.0.0.1",
                    "port": syslog.port,
                    "transport": "tls",
                    "ca_file": str(certificate.cert_file),
                    "min_severity": "low",
                }
            ]
        )
        with rows() as add:
            alert = add.alert(rule_id=RULE_ID, severity="low")
        assert outbox.run(NOW) == RunCounts(queued=1, delivered=1)
        message = syslog.next_message().decode()

    cef = parse_cef(message[message.index("CEF:") :])
    assert cef.extension["externalId"] == str(alert.id)
    assert cef.extension["cnt"] == "3"
    assert cef.extension["cs1"] == "ana"
    assert cef.header[4:6] == [RULE_ID, RULE_TITLE]
    assert deliveries(runtime)[0].status == "delivered"


def test_email_goes_over_starttls_with_the_password_from_a_file(
    deliver: Any, rows: RowsFactory, certificate: SelfSignedCertificate, tmp_path: Path
) -> None:
    password_file = tmp_path / "smtp.password"
    password_file.write_text("s3cret\n")
    smtp = SmtpReceiver(tls=certificate.server_context(), credentials=("alerts", "s3cret"))
    with running_smtp(smtp):
        runtime, outbox = deliver(
            email=[
                {
                    "host": "127.0.0.1",
                    "port": smtp.port,
                    "sender": "shadowscope@example.com",
                    "recipients": ["soc@example.com"],
                    "security": "starttls",
                    "ca_file": str(certificate.cert_file),
                    "username": "alerts",
                    "password": {"file": str(password_file)},
                    "timeout_seconds": 5,
                }
            ]
        )
        with rows() as add:
            alert = add.alert()
        assert outbox.run(NOW) == RunCounts(queued=1, delivered=1)
        assert outbox.run(NOW + timedelta(minutes=5)) == RunCounts()

    [mail] = smtp.mails
    assert mail.over_tls
    assert mail.user == "alerts"
    message = email.message_from_bytes(mail.data, policy=email.policy.default)
    assert message["X-ShadowScope-Alert-Id"] == str(alert.id)
    [row] = deliveries(runtime)
    assert message["Message-ID"] == f"<{row.delivery_id}@example.com>"


def test_a_missing_or_empty_secret_stops_start_up_naming_the_source_not_the_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def channels(secret: dict[str, str]) -> None:
        settings = CollectorSettings(
            data_dir=tmp_path,
            delivery={"webhooks": [{"name": "soar", "url": "https://soar.example/hook", "secret": secret}]},
        )
        close_all(build_channels(settings.delivery))

    with pytest.raises(DestinationError, match=r"'soar'.*cannot read secret file .*nope\.secret"):
        channels({"file": str(tmp_path / "nope.secret")})
    (tmp_path / "empty.secret").write_text("\n")
    with pytest.raises(DestinationError, match=r"empty\.secret is empty"):
        channels({"file": str(tmp_path / "empty.secret")})
    monkeypatch.delenv("SOAR_SECRET", raising=False)
    with pytest.raises(DestinationError, match="environment variable SOAR_SECRET is not set"):
        channels({"env": "SOAR_SECRET"})

    monkeypatch.setenv("SOAR_SECRET", SECRET)
    channels({"env": "SOAR_SECRET"})
