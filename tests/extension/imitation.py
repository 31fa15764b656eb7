"""Imitations of AI tools' chat pages served over HTTPS under their real host names, for the extension test.

Chromium is started with ``--host-resolver-rules`` mapping the real names to this server and
``--ignore-certificate-errors`` for its self-signed certificate (made at test time): the big AI sites are
HSTS-preloaded, so plain HTTP would be upgraded and fail. Each page records what it "sent" by POSTing the text to
``/api/submit``, so the test can tell whether a prompt left the page.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
import threading
from collections import defaultdict
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

PAGE = (Path(__file__).parent / "pages" / "chat.html").read_text(encoding="utf-8")


@dataclass(frozen=True, slots=True)
class Imitation:
    title: str
    colour: str
    composer: str  # the editor (first) and the send button, as the real site marks them up
    editor: str
    button: str

    def html(self) -> str:
        page = PAGE
        for name in ("title", "colour", "composer", "editor", "button"):
            page = page.replace("{" + name + "}", getattr(self, name))
        return page


IMITATIONS: dict[str, Imitation] = {
    "chatgpt.com": Imitation(
        "ChatGPT",
        "#10a37f",
        '<div id="prompt-textarea" class="ProseMirror" contenteditable="true"></div>'
        '<button data-testid="send-button" aria-label="Send prompt">Send</button>',
        "#prompt-textarea",
        "button[data-testid='send-button']",
    ),
    "claude.ai": Imitation(
        "Claude",
        "#c96442",
        '<div class="ProseMirror" contenteditable="true"></div><button aria-label="Send message">Send</button>',
        "div.ProseMirror",
        "button[aria-label='Send message']",
    ),
    "chat.deepseek.com": Imitation(
        "DeepSeek",
        "#4d6bfe",
        '<textarea id="chat-input" rows="2" placeholder="Message DeepSeek"></textarea>'
        '<button type="submit">Send</button>',
        "#chat-input",
        "button[type='submit']",
    ),
}


def make_certificate(directory: Path, hosts: list[str]) -> tuple[Path, Path]:
    """A self-signed certificate for the given names (and 127.0.0.1), written as PEM files."""
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "shadowscope extension test")])
    now = dt.datetime.now(dt.UTC)
    alt_names: list[x509.GeneralName] = [x509.DNSName(host) for host in hosts]
    alt_names.append(x509.IPAddress(ipaddress.ip_address("127.0.0.1")))
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(hours=1))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(x509.SubjectAlternativeName(alt_names), critical=False)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = directory / "cert.pem", directory / "key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


class ImitationServer:
    """HTTPS on 127.0.0.1: the imitation page for the request's Host, and a record of what each page sent."""

    def __init__(self, directory: Path) -> None:
        self.submitted: dict[str, list[str]] = defaultdict(list)
        self._lock = threading.Lock()
        cert, key = make_certificate(directory, sorted(IMITATIONS))
        server = self

        class Handler(BaseHTTPRequestHandler):
            def _host(self) -> str:
                return (self.headers.get("Host") or "").split(":")[0].lower()

            def do_GET(self) -> None:
                imitation = IMITATIONS.get(self._host())
                if imitation is None or self.path.split("?")[0] != "/":
                    self.send_error(404)
                    return
                body = imitation.html().encode()
                self.send_response(200)
                self.send_header("Content-Type", "text/html; charset=utf-8")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                text = self.rfile.read(length).decode("utf-8", "replace")
                if self.path != "/api/submit":
                    self.send_error(404)
                    return
                with server._lock:
                    server.submitted[self._host()].append(text)
                self.send_response(204)
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        context.load_cert_chain(cert, key)
        self._httpd.socket = context.wrap_socket(self._httpd.socket, server_side=True)
        self.port = int(self._httpd.server_address[1])
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()

    def sent(self, host: str) -> list[str]:
        with self._lock:
            return list(self.submitted[host])

    def resolver_rules(self) -> str:
        return ", ".join(f"MAP {host} 127.0.0.1:{self.port}" for host in IMITATIONS)
