"""Alert destinations from settings: the configured webhooks, syslog receivers and mailboxes as channels.

Built once at start-up, so a missing secret file, an empty secret or an unreadable CA file stops the collector with
an error naming the destination and the file or variable, never the secret. Each channel makes one attempt per
send: retries are spread over delivery runs by the outbox (collector/scheduling/outbox.py), not slept through in
a scheduler thread.
"""

from __future__ import annotations

import os
import ssl
import uuid
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

import httpx

from collector.alert_delivery import AlertNotice, RetryPolicy, SmtpDeliverer, SyslogDeliverer, WebhookDeliverer
from collector.job_settings import (
    DeliverySettings,
    Destination,
    EmailDestinationSettings,
    Level,
    SecretSource,
    SyslogDestinationSettings,
    WebhookDestinationSettings,
)

ONE_ATTEMPT = RetryPolicy(attempts=1)


class DestinationError(ValueError):
    """A destination cannot be built from its settings; the message says which and why, without any secret."""


class Channel(ABC):
    """A configured destination: sends one notice once, raising DeliveryFailed when the receiver did not take it."""

    def __init__(self, settings: Destination) -> None:
        self.name: str = settings.name
        self.min_severity: Level = settings.min_severity

    @abstractmethod
    def send(self, notice: AlertNotice, delivery_id: uuid.UUID) -> None: ...

    def close(self) -> None:  # noqa: B027 - a hook: only channels that keep a connection override it
        """Release what the channel holds open (nothing, for those that connect per message)."""


def read_secret(source: SecretSource, what: str) -> str:
    """The secret's value, surrounding whitespace removed (files usually end in a newline)."""
    if source.file is not None:
        try:
            value = source.file.read_text(encoding="utf-8").strip()
        except (OSError, UnicodeDecodeError) as error:
            reason = error.strerror if isinstance(error, OSError) else "not UTF-8 text"
            raise DestinationError(f"{what}: cannot read secret file {source.file}: {reason}") from error
        if not value:
            raise DestinationError(f"{what}: secret file {source.file} is empty")
        return value
    if source.env is None:
        raise DestinationError(f"{what}: no secret file or environment variable named")
    value = os.environ.get(source.env, "").strip()
    if not value:
        raise DestinationError(f"{what}: environment variable {source.env} is not set or empty")
    return value


def tls_context(ca_file: Path | None, what: str) -> ssl.SSLContext:
    """Verifying, host-name-checking; trusting `ca_file` when given, else the system's CAs."""
    try:
        return ssl.create_default_context(cafile=str(ca_file) if ca_file is not None else None)
    except (OSError, ssl.SSLError) as error:
        raise DestinationError(f"{what}: cannot load CA file {ca_file}: {error}") from error


class WebhookChannel(Channel):
    def __init__(self, settings: WebhookDestinationSettings) -> None:
        super().__init__(settings)
        what = f"webhook destination {settings.name!r}"
        secret = read_secret(settings.secret, what)
        verify: ssl.SSLContext | bool = tls_context(settings.ca_file, what) if settings.ca_file else True
        # No redirects: a 3xx would re-send the signed body to a host nobody configured.
        client = httpx.Client(timeout=settings.timeout_seconds, follow_redirects=False, verify=verify)
        self._deliverer = WebhookDeliverer(settings.url, secret, name=settings.name, policy=ONE_ATTEMPT, client=client)

    def send(self, notice: AlertNotice, delivery_id: uuid.UUID) -> None:
        # The outbox row's id: a receiver sees the same X-ShadowScope-Delivery on every retry and can drop repeats.
        self._deliverer.deliver(notice, delivery_id=str(delivery_id))

    def close(self) -> None:
        self._deliverer.close()


class SyslogChannel(Channel):
    def __init__(self, settings: SyslogDestinationSettings) -> None:
        super().__init__(settings)
        what = f"syslog destination {settings.name!r}"
        context = tls_context(settings.ca_file, what) if settings.transport == "tls" else None
        self._deliverer = SyslogDeliverer(
            settings.host,
            settings.port,
            transport=settings.transport,
            ssl_context=context,
            name=settings.name,
            facility=settings.facility,
            hostname=settings.hostname,
            timeout_s=settings.timeout_seconds,
            policy=ONE_ATTEMPT,
        )

    def send(self, notice: AlertNotice, delivery_id: uuid.UUID) -> None:
        self._deliverer.deliver(notice)


class EmailChannel(Channel):
    def __init__(self, settings: EmailDestinationSettings) -> None:
        super().__init__(settings)
        what = f"email destination {settings.name!r}"
        self._password = read_secret(settings.password, what) if settings.password is not None else None
        self._context = tls_context(settings.ca_file, what) if settings.security != "none" else None
        self._settings = settings
        # Message-IDs are <delivery id@sender's domain>: a retry is recognisably the same message.
        self._domain = settings.sender.rpartition("@")[2] or "shadowscope.invalid"

    def send(self, notice: AlertNotice, delivery_id: uuid.UUID) -> None:
        settings = self._settings
        # A deliverer per send only to fix the Message-ID; it holds no connection.
        SmtpDeliverer(
            settings.host,
            settings.port,
            sender=settings.sender,
            recipients=settings.recipients,
            security=settings.security,
            ssl_context=self._context,
            username=settings.username,
            password=self._password,
            name=settings.name,
            timeout_s=settings.timeout_seconds,
            policy=ONE_ATTEMPT,
            make_message_id=lambda: f"<{delivery_id}@{self._domain}>",
        ).deliver(notice)


def build_channels(settings: DeliverySettings) -> list[Channel]:
    """Every configured destination as a channel; raises DestinationError for the first that cannot be built."""
    channels: list[Channel] = []
    try:
        channels.extend(WebhookChannel(webhook) for webhook in settings.webhooks)
        channels.extend(SyslogChannel(syslog) for syslog in settings.syslog)
        channels.extend(EmailChannel(email) for email in settings.email)
    except DestinationError:
        close_all(channels)
        raise
    return channels


def close_all(channels: Sequence[Channel]) -> None:
    for channel in channels:
        channel.close()
