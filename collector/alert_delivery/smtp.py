"""E-mail delivery over SMTP: a short plain-text message built from the notice's fields and nothing else.

Named smtp.py, not email.py, so it cannot shadow the standard library's `email` package for anything that runs
with this folder on its path.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid
from typing import Final, Literal

from collector.alert_delivery.notice import AlertNotice, utc_iso
from collector.alert_delivery.retry import GiveUp, Retryable, RetryPolicy, Sleep, run_with_retries
from collector.alert_delivery.version import USER_AGENT

Security = Literal["none", "starttls", "tls"]

SMTP_PERMANENT_MIN: Final = 500
FOOTER: Final = "This message carries alert metadata only: no prompt text, snippets or identifier values."


def one_line(value: str) -> str:
    # A line break in a header value would start a new header (header injection); email refuses it anyway.
    return " ".join(value.splitlines())


def render_subject(notice: AlertNotice) -> str:
    return one_line(f"[ShadowScope] {notice.level.upper()} alert {notice.alert_id}: {notice.title}")


def render_body(notice: AlertNotice) -> str:
    """The notice's fields, one per line, in the order a reviewer triages them."""
    if notice.tool_name and notice.tool_id:
        tool = f"{notice.tool_name} ({notice.tool_id})"
    else:
        tool = notice.tool_name or notice.tool_id or "-"
    rows = [
        ("Level", notice.level),
        ("Status", notice.status),
        ("Rule", notice.rule_id),
        ("Tool", tool),
        ("Subject", notice.subject),
        ("Events", str(notice.count)),
        ("First seen", utc_iso(notice.first_seen)),
        ("Last seen", utc_iso(notice.last_seen)),
        ("Labels", ", ".join(notice.labels) or "-"),
        ("Entity types", ", ".join(notice.entity_types) or "-"),
    ]
    if notice.console_url is not None:
        rows.append(("Console", notice.console_url))
    width = max(len(label) for label, _ in rows) + 1
    lines = [one_line(f"ShadowScope alert {notice.alert_id}: {notice.title}"), ""]
    lines += [f"{label + ':':<{width}} {one_line(value)}" for label, value in rows]
    lines += ["", FOOTER]
    return "\n".join(lines) + "\n"


def build_message(notice: AlertNotice, sender: str, recipients: Sequence[str], message_id: str) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(recipients)
    message["Subject"] = render_subject(notice)
    message["Date"] = format_datetime(datetime.now(UTC))
    message["Message-ID"] = message_id
    message["X-Mailer"] = USER_AGENT
    # For mail rules and threading on the reviewer's side, without parsing the subject.
    message["X-ShadowScope-Alert-Id"] = str(notice.alert_id)
    message["X-ShadowScope-Rule-Id"] = one_line(notice.rule_id)
    message.set_content(render_body(notice))
    return message


def classify_code(code: int, reason: str) -> Retryable | GiveUp:
    """SMTP 4xx is "try again later", 5xx is "never"; anything else is unexpected and treated as transient."""
    if code >= SMTP_PERMANENT_MIN:
        return GiveUp(reason)
    return Retryable(reason)


class SmtpDeliverer:
    """Mails each notice to fixed recipients. security: "none", "starttls" (upgrade on 587/25) or "tls" (465)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        sender: str,
        recipients: Sequence[str],
        security: Security = "starttls",
        ssl_context: ssl.SSLContext | None = None,
        username: str | None = None,
        password: str | None = None,
        name: str = "email",
        timeout_s: float = 30.0,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        local_hostname: str | None = None,
        make_message_id: Callable[[], str] = make_msgid,
    ) -> None:
        if not recipients:
            raise ValueError("no recipients")
        if (username is None) != (password is None):
            raise ValueError("give both username and password, or neither")
        if username is not None and security == "none":
            raise ValueError("refusing to send an SMTP password without TLS; use security='starttls' or 'tls'")
        self._name = name
        self._host = host
        self._port = port
        self._sender = sender
        self._recipients = tuple(recipients)
        self._security = security
        self._ssl_context = ssl_context or ssl.create_default_context()
        self._username = username
        self._password = password
        self._timeout_s = timeout_s
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._local_hostname = local_hostname
        self._make_message_id = make_message_id

    @property
    def name(self) -> str:
        return self._name

    def deliver(self, notice: AlertNotice) -> None:
        # One Message-ID across retries: a server that accepted a message but dropped the connection before
        # answering leaves a duplicate that mail clients and the reviewer's filters can recognise.
        message = build_message(notice, self._sender, self._recipients, self._make_message_id())
        channel = f"{self._name} smtp://{self._host}:{self._port}"
        run_with_retries(channel, lambda: self._send(message), self._policy, self._sleep)

    def _connect(self) -> smtplib.SMTP:
        if self._security == "tls":
            return smtplib.SMTP_SSL(
                self._host,
                self._port,
                local_hostname=self._local_hostname,
                timeout=self._timeout_s,
                context=self._ssl_context,
            )
        client = smtplib.SMTP(self._host, self._port, local_hostname=self._local_hostname, timeout=self._timeout_s)
        if self._security == "starttls":
            client.starttls(context=self._ssl_context)
        return client

    def _send(self, message: EmailMessage) -> None:
        try:
            with self._connect() as client:
                if self._username is not None and self._password is not None:
                    client.login(self._username, self._password)
                refused = client.send_message(message, from_addr=self._sender, to_addrs=list(self._recipients))
        except smtplib.SMTPRecipientsRefused as error:
            codes = {code for code, _ in error.recipients.values()}
            reason = f"all recipients refused ({', '.join(str(code) for code in sorted(codes))})"
            raise Retryable(reason) if all(code < SMTP_PERMANENT_MIN for code in codes) else GiveUp(reason) from error
        except smtplib.SMTPAuthenticationError as error:
            raise GiveUp(f"login refused: {error.smtp_code}") from error
        except smtplib.SMTPNotSupportedError as error:
            raise GiveUp(f"server does not support what was asked: {error}") from error
        except smtplib.SMTPResponseException as error:
            text = (
                error.smtp_error.decode(errors="replace") if isinstance(error.smtp_error, bytes) else error.smtp_error
            )
            raise classify_code(error.smtp_code, f"SMTP {error.smtp_code} {text}") from error
        except ssl.SSLCertVerificationError as error:
            # A certificate that does not verify will not verify on the next try either.
            raise GiveUp(f"TLS certificate not trusted: {error.verify_message}") from error
        except TimeoutError as error:
            raise Retryable("timed out") from error
        except OSError as error:  # refused, reset, SMTPServerDisconnected (smtplib errors are OSErrors)
            raise Retryable(f"{type(error).__name__}: {error}") from error
        if refused:
            # Some recipients have the message already; retrying would send them a duplicate.
            raise GiveUp(f"refused for {', '.join(sorted(refused))}; delivered to the other recipients")
