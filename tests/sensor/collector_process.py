"""A real collector process on SQLite for sensor tests, that a test can stop and start again on the same port."""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx

from collector.keys import Scope, create_key
from collector.settings import load_settings
from shadowscope.database import open_sessions


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


class CollectorProcess:
    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self._process: subprocess.Popen[bytes] | None = None

    def key(self, scope: Scope, sensor_id: str | None) -> str:
        with open_sessions(load_settings(data_dir=self.data_dir)) as sessions, sessions.begin() as session:
            return create_key(session, scope, sensor_id, None).token

    def start(self) -> None:
        command = [
            sys.executable,
            "-m",
            "shadowscope",
            "collector",
            "serve",
            "--data-dir",
            str(self.data_dir),
            "--port",
            str(self.port),
        ]
        self._process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.TransportError:
                time.sleep(0.1)
        raise RuntimeError("collector did not become ready")

    def stop(self) -> None:
        if self._process is not None:
            self._process.terminate()
            self._process.wait(timeout=30)
            self._process = None

    def event_count(self, read_token: str) -> int:
        response = httpx.get(
            f"{self.url}/api/v1/events", params={"limit": 10_000}, headers={"Authorization": f"Bearer {read_token}"}
        )
        response.raise_for_status()
        return len(response.json()["events"])
