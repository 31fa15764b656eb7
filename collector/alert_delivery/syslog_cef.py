"""CEF lines in RFC 5424 syslog messages, sent over UDP (RFC 5426), TCP or TLS (octet counting, RFC 6587 / 5425).

MSG is sent without the UTF-8 BOM RFC 5424 asks for: CEF parsers expect the line to start with `CEF:` and
several reject the BOM, and RFC 5424's grammar allows MSG without it (MSG-ANY).
"""

from __future__ import annotations

import os
import socket
import ssl
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Final, Literal

from collector.alert_delivery.cef import format_cef
from collector.alert_delivery.notice import AlertNotice, Level
from collector.alert_delivery.retry import GiveUp, Retryable, RetryPolicy, Sleep, run_with_retries

Transport = Literal["udp", "tcp", "tls"]

FACILITY_LOCAL0: Final = 16
# Syslog severities: 2 critical, 3 error, 4 warning, 5 notice.
SYSLOG_SEVERITY: Final[dict[Level, int]] = {"low": 5, "medium": 4, "high": 3, "critical": 2}
APP_NAME: Final = "shadowscope"
MSG_ID: Final = "alert"
NIL: Final = "-"
MAX_UDP_PAYLOAD: Final = 65_507


def header_token(value: str | None, max_len: int) -> str:
    """RFC 5424 header fields are printable US-ASCII without spaces, length-capped; `-` when unknown."""
    if not value:
        return NIL
    cleaned = "".join(char for char in value if 33 <= ord(char) <= 126)
    return cleaned[:max_len] or NIL


def format_syslog(
    notice: AlertNotice,
    *,
    facility: int = FACILITY_LOCAL0,
    hostname: str | None = None,
    procid: str | None = None,
    now: datetime | None = None,
) -> bytes:
    """One RFC 5424 message: `<PRI>1 TIMESTAMP HOSTNAME APP-NAME PROCID MSGID - CEF:...`."""
    if not 0 <= facility <= 23:
        raise ValueError("syslog facility must be 0-23")
    pri = facility * 8 + SYSLOG_SEVERITY[notice.level]
    stamp = (now or datetime.now(UTC)).astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    fields = [
        f"<{pri}>1",
        stamp,
        header_token(hostname if hostname is not None else socket.gethostname(), 255),
        APP_NAME,
        header_token(procid if procid is not None else str(os.getpid()), 128),
        MSG_ID,
        NIL,  # no structured data: everything a SIEM needs is in the CEF extension
        format_cef(notice),
    ]
    return " ".join(fields).encode()


def octet_counted(message: bytes) -> bytes:
    """RFC 6587 octet counting: the byte length, a space, the message. Safe for CEF values holding newlines."""
    return str(len(message)).encode("ascii") + b" " + message


class SyslogDeliverer:
    """Sends each notice to one syslog receiver; a fresh connection per notice (alerts are few; no stale sockets)."""

    def __init__(
        self,
        host: str,
        port: int,
        *,
        transport: Transport = "udp",
        ssl_context: ssl.SSLContext | None = None,
        name: str = "syslog",
        facility: int = FACILITY_LOCAL0,
        hostname: str | None = None,
        timeout_s: float = 10.0,
        policy: RetryPolicy | None = None,
        sleep: Sleep = time.sleep,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        if transport == "tls" and ssl_context is None:
            # An explicit default (system CAs, hostname checked) rather than a silent unverified connection.
            ssl_context = ssl.create_default_context()
        if transport != "tls" and ssl_context is not None:
            raise ValueError("ssl_context given for a transport other than tls")
        if not 0 <= facility <= 23:
            raise ValueError("syslog facility must be 0-23")
        self._name = name
        self._host = host
        self._port = port
        self._transport = transport
        self._ssl_context = ssl_context
        self._facility = facility
        self._hostname = hostname
        self._timeout_s = timeout_s
        self._policy = policy or RetryPolicy()
        self._sleep = sleep
        self._clock = clock

    @property
    def name(self) -> str:
        return self._name

    def deliver(self, notice: AlertNotice) -> None:
        message = format_syslog(notice, facility=self._facility, hostname=self._hostname, now=self._clock())
        channel = f"{self._name} {self._transport}://{self._host}:{self._port}"
        run_with_retries(channel, lambda: self._send(message), self._policy, self._sleep)

    def _send(self, message: bytes) -> None:
        try:
            if self._transport == "udp":
                self._send_udp(message)
            else:
                self._send_stream(octet_counted(message))
        except ssl.SSLCertVerificationError as error:
            # A certificate that does not verify will not verify on the next try either.
            raise GiveUp(f"TLS certificate not trusted: {error.verify_message}") from error
        except TimeoutError as error:
            raise Retryable("timed out") from error
        except OSError as error:  # refused, unreachable, reset, TLS handshake failure (ssl.SSLError is an OSError)
            raise Retryable(f"{type(error).__name__}: {error}") from error

    def _send_udp(self, message: bytes) -> None:
        if len(message) > MAX_UDP_PAYLOAD:
            raise GiveUp(f"message of {len(message)} bytes does not fit a UDP datagram; use tcp")
        # UDP cannot tell us whether anything listened: only local errors (no route, bad address) surface here.
        family, kind, proto, _, address = socket.getaddrinfo(self._host, self._port, type=socket.SOCK_DGRAM)[0]
        with socket.socket(family, kind, proto) as sock:
            sock.settimeout(self._timeout_s)
            sock.sendto(message, address)

    def _send_stream(self, frame: bytes) -> None:
        with socket.create_connection((self._host, self._port), timeout=self._timeout_s) as raw:
            if self._ssl_context is None:
                raw.sendall(frame)
                return
            with self._ssl_context.wrap_socket(raw, server_hostname=self._host) as tls:
                tls.sendall(frame)
