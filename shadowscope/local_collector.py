"""A collector started as its own process on this machine, for the demo and the tests: real HTTP, real processes."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

READY_TIMEOUT_S = 60.0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class LocalCollector:
    """`shadowscope collector serve` on loopback with its database in `data_dir`; can be stopped and restarted."""

    def __init__(self, data_dir: Path, port: int | None = None, quiet: bool = True) -> None:
        self.data_dir = data_dir
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.quiet = quiet
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = [sys.executable, "-m", "shadowscope", "collector", "serve", "--data-dir", str(self.data_dir),
                   "--port", str(self.port)]  # fmt: skip
        output = subprocess.DEVNULL if self.quiet else None
        self._process = subprocess.Popen(command, stdout=output, stderr=output)  # noqa: S603 - our own arguments
        deadline = time.monotonic() + READY_TIMEOUT_S
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(f"the collector exited with status {self._process.returncode} before it was ready")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.1)
        self.stop()
        raise RuntimeError(f"the collector was not ready within {READY_TIMEOUT_S:.0f}s")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None
