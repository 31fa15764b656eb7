"""A minimal real SMTP server (socketserver): EHLO, STARTTLS, AUTH PLAIN, MAIL, RCPT, DATA, RSET, NOOP, QUIT.

Python 3.11's smtpd is deprecated (warnings are errors here) and aiosmtpd is not a dependency, so this speaks just
enough SMTP for smtplib, and can be scripted to refuse a greeting, a recipient or DATA.
"""

from __future__ import annotations

import base64
import socketserver
import ssl
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field

# How often serve_forever checks for shutdown; the default 0.5 s would be paid by every test.
POLL_S = 0.02


@dataclass(frozen=True)
class ReceivedMail:
    mail_from: str
    rcpt_to: tuple[str, ...]
    data: bytes
    user: str | None
    over_tls: bool


@dataclass
class SmtpReceiver:
    port: int = 0
    tls: ssl.SSLContext | None = None
    credentials: tuple[str, str] | None = None
    mails: list[ReceivedMail] = field(default_factory=list)
    connections: int = 0
    # Scripts: codes to answer with instead of success, used up in order.
    greeting_codes: list[int] = field(default_factory=list)
    data_codes: list[int] = field(default_factory=list)
    refused_recipients: dict[str, int] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)


class SmtpSession(socketserver.StreamRequestHandler):
    server: SmtpServer

    def reply(self, line: str) -> None:
        self.wfile.write(line.encode() + b"\r\n")
        self.wfile.flush()

    def read_line(self) -> str:
        return self.rfile.readline().decode().rstrip("\r\n")

    def handle(self) -> None:
        receiver = self.server.receiver
        with receiver.lock:
            receiver.connections += 1
            greeting = receiver.greeting_codes.pop(0) if receiver.greeting_codes else 220
        if greeting != 220:
            self.reply(f"{greeting} try again later")
            return
        self.reply("220 test.local ESMTP ready")
        self.over_tls = False
        self.user: str | None = None
        self.reset()
        while line := self.read_line():
            verb, _, argument = line.partition(" ")
            if not self.dispatch(verb.upper(), argument):
                return

    def reset(self) -> None:
        self.mail_from = ""
        self.rcpt_to: list[str] = []

    def dispatch(self, verb: str, argument: str) -> bool:
        receiver = self.server.receiver
        if verb in {"EHLO", "HELO"}:
            extensions = ["8BITMIME"]
            if receiver.tls is not None and not self.over_tls:
                extensions.append("STARTTLS")
            if receiver.credentials is not None and self.over_tls:
                extensions.append("AUTH PLAIN")
            lines = ["test.local", *extensions]
            for line in lines[:-1]:
                self.reply(f"250-{line}")
            self.reply(f"250 {lines[-1]}")
        elif verb == "STARTTLS" and receiver.tls is not None:
            self.reply("220 go ahead")
            self.request = receiver.tls.wrap_socket(self.request, server_side=True)
            self.rfile = self.request.makefile("rb")
            self.wfile = self.request.makefile("wb")
            self.over_tls = True
            self.reset()
        elif verb == "AUTH":
            self.authenticate(argument)
        elif verb == "MAIL":
            self.mail_from = argument.removeprefix("FROM:").split()[0].strip("<>")
            self.reply("250 ok")
        elif verb == "RCPT":
            address = argument.removeprefix("TO:").split()[0].strip("<>")
            code = receiver.refused_recipients.get(address)
            if code is not None:
                self.reply(f"{code} no such mailbox")
            else:
                self.rcpt_to.append(address)
                self.reply("250 ok")
        elif verb == "DATA":
            self.receive_data()
        elif verb == "RSET":
            self.reset()
            self.reply("250 ok")
        elif verb == "NOOP":
            self.reply("250 ok")
        elif verb == "QUIT":
            self.reply("221 bye")
            return False
        else:
            self.reply("502 command not implemented")
        return True

    def authenticate(self, argument: str) -> None:
        mechanism, _, initial = argument.partition(" ")
        expected = self.server.receiver.credentials
        if mechanism.upper() != "PLAIN" or expected is None or not self.over_tls:
            self.reply("504 unsupported")
            return
        _, user, password = base64.b64decode(initial).decode().split("\0")
        if (user, password) == expected:
            self.user = user
            self.reply("235 authenticated")
        else:
            self.reply("535 bad credentials")

    def receive_data(self) -> None:
        receiver = self.server.receiver
        self.reply("354 end with <CRLF>.<CRLF>")
        lines: list[bytes] = []
        while (line := self.rfile.readline()) not in {b".\r\n", b""}:
            # Dot-unstuffing (RFC 5321 4.5.2): a leading dot was doubled by the client.
            lines.append(line[1:] if line.startswith(b"..") else line)
        mail = ReceivedMail(self.mail_from, tuple(self.rcpt_to), b"".join(lines), self.user, self.over_tls)
        with receiver.lock:
            receiver.mails.append(mail)
            code = receiver.data_codes.pop(0) if receiver.data_codes else 250
        self.reply(f"{code} {'queued' if code == 250 else 'local error, try later'}")
        self.reset()


class SmtpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, receiver: SmtpReceiver) -> None:
        super().__init__(("127.0.0.1", 0), SmtpSession)
        self.receiver = receiver


@contextmanager
def running_smtp(receiver: SmtpReceiver) -> Iterator[SmtpReceiver]:
    server = SmtpServer(receiver)
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
