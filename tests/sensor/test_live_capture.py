"""Live capture on a real interface: two network namespaces joined by a veth pair, real clients and servers.

Needs root (network namespaces, packet sockets); skipped otherwise with how to enable it.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

pytestmark = pytest.mark.skipif(
    os.geteuid() != 0 or shutil.which("ip") is None,
    reason="live capture needs root and iproute2: run `make test` as root",
)

CLIENT_ADDRESS, SERVER_ADDRESS = "10.231.0.1", "10.231.0.2"


def sh(*args: str) -> None:
    subprocess.run(args, check=True, capture_output=True)


@pytest.fixture
def namespaces() -> Iterator[tuple[str, str, str]]:
    tag = uuid.uuid4().hex[:6]
    client, server, veth = f"ssc{tag}", f"sss{tag}", f"vc{tag}"
    sh("ip", "netns", "add", client)
    sh("ip", "netns", "add", server)
    try:
        sh("ip", "link", "add", veth, "type", "veth", "peer", "name", f"vs{tag}")
        sh("ip", "link", "set", veth, "netns", client)
        sh("ip", "link", "set", f"vs{tag}", "netns", server)
        sh("ip", "-n", client, "addr", "add", f"{CLIENT_ADDRESS}/24", "dev", veth)
        sh("ip", "-n", server, "addr", "add", f"{SERVER_ADDRESS}/24", "dev", f"vs{tag}")
        for namespace, device in ((client, veth), (server, f"vs{tag}")):
            sh("ip", "-n", namespace, "link", "set", device, "up")
            sh("ip", "-n", namespace, "link", "set", "lo", "up")
        yield client, server, veth
    finally:
        subprocess.run(["ip", "netns", "del", client], check=False, capture_output=True)
        subprocess.run(["ip", "netns", "del", server], check=False, capture_output=True)


SERVER_SCRIPT = """
import socket, threading
def tcp(port, reply):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); s.bind(("0.0.0.0", port)); s.listen()
    while True:
        c, _ = s.accept(); c.settimeout(2)
        try: c.recv(65536); c.sendall(reply)
        except OSError: pass
        c.close()
threading.Thread(target=tcp, args=(443, b"\\x15\\x03\\x03\\x00\\x02\\x02\\x28"), daemon=True).start()
threading.Thread(target=tcp, args=(80, b"HTTP/1.1 200 OK\\r\\nContent-Length: 0\\r\\n\\r\\n"), daemon=True).start()
u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind(("0.0.0.0", 53))
while True:
    data, peer = u.recvfrom(4096); u.sendto(data[:2] + b"\\x81\\x83" + data[4:], peer)
"""

CLIENT_SCRIPT = f"""
import socket, ssl, struct
def dns_query(name):
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.split(".")) + b"\\0"
    q = struct.pack(">HHHHHH", 7, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", 1, 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); s.settimeout(2); s.sendto(q, ("{SERVER_ADDRESS}", 53))
    try: s.recv(512)
    except OSError: pass
dns_query("claude.ai")
context = ssl.create_default_context(); context.check_hostname = False; context.verify_mode = ssl.CERT_NONE
try:
    with socket.create_connection(("{SERVER_ADDRESS}", 443), timeout=3) as raw:
        context.wrap_socket(raw, server_hostname="chatgpt.com")
except (OSError, ssl.SSLError):
    pass
with socket.create_connection(("{SERVER_ADDRESS}", 80), timeout=3) as web:
    web.sendall(b"POST /api HTTP/1.1\\r\\nHost: www.perplexity.ai\\r\\nContent-Length: 4\\r\\n\\r\\ndata")
    web.recv(100)
"""


def _default_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def test_when_clients_use_ai_tools_then_live_capture_reports_each_signal(
    namespaces: tuple[str, str, str], tmp_path: Path
) -> None:
    client, server, veth = namespaces
    server_process = subprocess.Popen(["ip", "netns", "exec", server, sys.executable, "-c", SERVER_SCRIPT])
    output = tmp_path / "observations.jsonl"
    with output.open("w") as sink:
        sensor = subprocess.Popen(
            [
                "ip",
                "netns",
                "exec",
                client,
                sys.executable,
                "-m",
                "shadowscope",
                "sensor",
                "live",
                "--interface",
                veth,
                "--jsonl",
            ],
            stdout=sink,
            stderr=subprocess.PIPE,
            # A child inherits an ignored SIGINT, and Python then installs no KeyboardInterrupt handler: whatever
            # earlier in the test session left SIGINT ignored must not make the sensor deaf to the stop below.
            preexec_fn=_default_sigint,  # noqa: PLW1509 - only resets one signal disposition before exec
        )
        try:
            time.sleep(3)  # the sensor's socket must be open before the traffic starts
            subprocess.run(["ip", "netns", "exec", client, sys.executable, "-c", CLIENT_SCRIPT], check=True, timeout=60)
            time.sleep(1.5)
        finally:
            sensor.send_signal(signal.SIGINT)
            _, stderr = sensor.communicate(timeout=30)
            server_process.kill()
            server_process.wait()

    lines = [json.loads(line) for line in output.read_text().splitlines()]
    seen = {(line["signal"], line["host"], line["tool"]) for line in lines}
    assert ("dns", "claude.ai", "anthropic-claude") in seen, stderr
    assert ("tls_sni", "chatgpt.com", "openai-chatgpt") in seen, stderr
    assert ("http_host", "www.perplexity.ai", "perplexity") in seen, stderr
    assert all(line["src_ip"] == CLIENT_ADDRESS for line in lines)
    assert b"Traceback" not in stderr
