"""A real collector process on SQLite for sensor tests, that a test can stop and start again on the same port."""

from __future__ import annotations

import httpx

from collector.keys import Scope, create_key
from collector.settings import load_settings
from shadowscope.database import open_sessions
from shadowscope.local_collector import LocalCollector


class CollectorProcess(LocalCollector):
    """A LocalCollector with what the sensor tests ask of it: API keys, and how many events it holds."""

    def key(self, scope: Scope, sensor_id: str | None) -> str:
        with open_sessions(load_settings(data_dir=self.data_dir)) as sessions, sessions.begin() as session:
            return create_key(session, scope, sensor_id, None).token

    def event_count(self, read_token: str) -> int:
        response = httpx.get(
            f"{self.url}/api/v1/events", params={"limit": 10_000}, headers={"Authorization": f"Bearer {read_token}"}
        )
        response.raise_for_status()
        return len(response.json()["events"])
