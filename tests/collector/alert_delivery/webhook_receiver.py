"""A real HTTP server in a thread that checks signatures with verify_signature and answers as scripted."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from collector.alert_delivery.webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, verify_signature

# How often serve_forever checks for shutdown; the default 0.5 s would be paid by every test.
POLL_S = 0.02


@dataclass(frozen=True)
class Delivery:
    path: str
    headers: dict[str, str]
    body: bytes
    verified: bool


@dataclass
class WebhookReceiver:
    secret: bytes
    port: int = 0
    deliveries: list[Delivery] = field(default_factory=list)
    # Answers for the next requests, in order; once spent, every verified request gets `default_status`.
    script: list[tuple[int, dict[str, str]]] = field(default_factory=list)
    default_status: int = 200
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/shadowscope"

    def answer(self, status: int, headers: dict[str, str] | None = None, *, times: int = 1) -> None:
        self.script.extend([(status, headers or {})] * times)

    def handle(self, path: str, headers: dict[str, str], body: bytes) -> tuple[int, dict[str, str]]:
        verified = verify_signature(
            self.secret, headers.get(TIMESTAMP_HEADER, ""), body, headers.get(SIGNATURE_HEADER, "")
        )
        with self.lock:
            self.deliveries.append(Delivery(path, headers, body, verified))
            if not verified:
                return 401, {}
            return self.script.pop(0) if self.script else (self.default_status, {})


def handler_for(receiver: WebhookReceiver) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
            status, extra = receiver.handle(self.path, dict(self.headers.items()), body)
            self.send_response(status)
            for name, value in extra.items():
                self.send_header(name, value)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:
            pass  # keep test output clean

    return Handler


@contextmanager
def running_receiver(secret: bytes) -> Iterator[WebhookReceiver]:
    receiver = WebhookReceiver(secret)
    server = ThreadingHTTPServer(("127.0.0.1", 0), handler_for(receiver))
    receiver.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(POLL_S,), daemon=True)
    thread.start()
    try:
        yield receiver
    finally:
        server.shutdown()
        server.server_close()
        thread.join()
