"""E-mail delivery against a real (minimal) SMTP server on localhost, plain and with STARTTLS and login."""

from __future__ import annotations

import email
import email.policy
from collections.abc import Iterator
from email.message import EmailMessage
from typing import Any

import pytest

from collector.alert_delivery.deliverer import DeliveryFailed
from collector.alert_delivery.retry import RetryPolicy
from collector.alert_delivery.smtp import SmtpDeliverer, render_body
from tests.collector.alert_delivery.conftest import RecordingSleep
from tests.collector.alert_delivery.notices import make_notice
from tests.collector.alert_delivery.smtp_receiver import SmtpReceiver, running_smtp
from tests.collector.alert_delivery.tls_certs import SelfSignedCertificate

SENDER = "shadowscope@example.com"
RECIPIENTS = ("security@example.com", "soc@example.com")
EXPECTED_BODY = """\
ShadowScope alert 42: Source code pasted into a public AI tool

Level:        high
Status:       open
Rule:         8f2c1a9e-5b7d-4c3e-9a10-2f6b8d4e7c11
Tool:         ChatGPT (openai-chatgpt)
Subject:      user:7d3f9a
Events:       3
First seen:   2025-03-04T09:15:00.000Z
Last seen:    2025-03-04T11:42:30.250Z
Labels:       source_code, credentials
Entity types: API_KEY, EMAIL_ADDRESS
Console:      https://shadowscope.example.com/alerts/42

This message carries alert metadata only: no prompt text, snippets or identifier values.
"""


@pytest.fixture
def smtp() -> Iterator[SmtpReceiver]:
    with running_smtp(SmtpReceiver()) as receiver:
        yield receiver


def plain_deliverer(receiver: SmtpReceiver, sleep: RecordingSleep, policy: RetryPolicy) -> SmtpDeliverer:
    return SmtpDeliverer(
        "127.0.0.1",
        receiver.port,
        sender=SENDER,
        recipients=RECIPIENTS,
        security="none",
        policy=policy,
        sleep=sleep,
        timeout_s=5,
        local_hostname="collector.test",
    )


def parse(data: bytes) -> EmailMessage:
    # SMTP carries CRLF line ends; a mailbox stores LF, as the reviewer's client shows it.
    message = email.message_from_bytes(data.replace(b"\r\n", b"\n"), policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def test_the_notice_arrives_with_subject_recipients_and_a_body_of_notice_fields_only(
    smtp: SmtpReceiver, sleep: RecordingSleep, policy: RetryPolicy
) -> None:
    plain_deliverer(smtp, sleep, policy).deliver(make_notice())

    [mail] = smtp.mails
    assert mail.mail_from == SENDER
    assert mail.rcpt_to == RECIPIENTS
    message = parse(mail.data)
    assert message["Subject"] == "[ShadowScope] HIGH alert 42: Source code pasted into a public AI tool"
    assert message["From"] == SENDER
    assert message["To"] == ", ".join(RECIPIENTS)
    assert message["X-ShadowScope-Alert-Id"] == "42"
    assert message["X-ShadowScope-Rule-Id"] == "8f2c1a9e-5b7d-4c3e-9a10-2f6b8d4e7c11"
    assert message.get_content_type() == "text/plain"
    assert not message.is_multipart()
    # Exact: any text beyond the notice's fields (a snippet, a prompt) would break the equality.
    assert message.get_content() == EXPECTED_BODY
    assert sleep.pauses == []


def test_starttls_and_login_are_used_when_configured(
    sleep: RecordingSleep, policy: RetryPolicy, certificate: SelfSignedCertificate
) -> None:
    receiver = SmtpReceiver(tls=certificate.server_context(), credentials=("alerts", "s3cret"))
    with running_smtp(receiver):
        SmtpDeliverer(
            "127.0.0.1",
            receiver.port,
            sender=SENDER,
            recipients=RECIPIENTS[:1],
            security="starttls",
            ssl_context=certificate.client_context(),
            username="alerts",
            password="s3cret",
            policy=policy,
            sleep=sleep,
            timeout_s=5,
        ).deliver(make_notice())

    [mail] = receiver.mails
    assert mail.over_tls
    assert mail.user == "alerts"
    assert parse(mail.data).get_content() == EXPECTED_BODY


def test_a_wrong_password_is_not_retried(
    sleep: RecordingSleep, policy: RetryPolicy, certificate: SelfSignedCertificate
) -> None:
    receiver = SmtpReceiver(tls=certificate.server_context(), credentials=("alerts", "s3cret"))
    with running_smtp(receiver):
        deliverer = SmtpDeliverer(
            "127.0.0.1",
            receiver.port,
            sender=SENDER,
            recipients=RECIPIENTS,
            ssl_context=certificate.client_context(),
            username="alerts",
            password="wrong",
            policy=policy,
            sleep=sleep,
        )
        with pytest.raises(DeliveryFailed, match="login refused: 535") as failure:
            deliverer.deliver(make_notice())

    assert failure.value.attempts == 1
    assert receiver.mails == []


def test_a_421_greeting_is_retried(smtp: SmtpReceiver, sleep: RecordingSleep, policy: RetryPolicy) -> None:
    smtp.greeting_codes = [421]

    plain_deliverer(smtp, sleep, policy).deliver(make_notice())

    assert smtp.connections == 2
    assert len(smtp.mails) == 1
    assert len(sleep.pauses) == 1


def test_a_retried_message_keeps_its_message_id(smtp: SmtpReceiver, sleep: RecordingSleep, policy: RetryPolicy) -> None:
    smtp.data_codes = [451, 451]

    plain_deliverer(smtp, sleep, policy).deliver(make_notice())

    assert len(smtp.mails) == 3
    assert len({parse(mail.data)["Message-ID"] for mail in smtp.mails}) == 1


def test_all_recipients_refused_permanently_is_not_retried(
    smtp: SmtpReceiver, sleep: RecordingSleep, policy: RetryPolicy
) -> None:
    smtp.refused_recipients = dict.fromkeys(RECIPIENTS, 550)

    with pytest.raises(DeliveryFailed, match=r"all recipients refused \(550\)") as failure:
        plain_deliverer(smtp, sleep, policy).deliver(make_notice())

    assert failure.value.attempts == 1
    assert smtp.mails == []


def test_one_recipient_refused_fails_without_resending_to_the_others(
    smtp: SmtpReceiver, sleep: RecordingSleep, policy: RetryPolicy
) -> None:
    smtp.refused_recipients = {"soc@example.com": 550}

    with pytest.raises(DeliveryFailed, match=r"refused for soc@example\.com") as failure:
        plain_deliverer(smtp, sleep, policy).deliver(make_notice())

    assert failure.value.attempts == 1
    [mail] = smtp.mails
    assert mail.rcpt_to == ("security@example.com",)


def test_no_server_fails_after_every_attempt(sleep: RecordingSleep, policy: RetryPolicy) -> None:
    with running_smtp(SmtpReceiver()) as receiver:
        port = receiver.port
    # The server is gone: its port refuses connections.
    deliverer = SmtpDeliverer(
        "127.0.0.1", port, sender=SENDER, recipients=RECIPIENTS, security="none", policy=policy, sleep=sleep
    )

    with pytest.raises(DeliveryFailed, match="ConnectionRefusedError") as failure:
        deliverer.deliver(make_notice())

    assert failure.value.attempts == 4


def test_a_title_with_line_breaks_cannot_inject_headers(
    smtp: SmtpReceiver, sleep: RecordingSleep, policy: RetryPolicy
) -> None:
    notice = make_notice(title="Leak\r\nBcc: attacker@example.net")

    plain_deliverer(smtp, sleep, policy).deliver(notice)

    [mail] = smtp.mails
    message = parse(mail.data)
    assert message["Bcc"] is None
    assert message["Subject"] == "[ShadowScope] HIGH alert 42: Leak Bcc: attacker@example.net"
    assert mail.rcpt_to == RECIPIENTS
    assert render_body(notice).splitlines()[0] == "ShadowScope alert 42: Leak Bcc: attacker@example.net"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"recipients": ()}, "no recipients"),
        ({"username": "alerts"}, "both username and password"),
        ({"username": "alerts", "password": "x", "security": "none"}, "without TLS"),
    ],
)
def test_a_misconfigured_mail_channel_is_refused(options: dict[str, Any], message: str) -> None:
    settings: dict[str, Any] = {"sender": SENDER, "recipients": RECIPIENTS, **options}
    with pytest.raises(ValueError, match=message):
        SmtpDeliverer("127.0.0.1", 25, **settings)
