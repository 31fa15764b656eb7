"""Fixtures for sensor tests: a real collector process to deliver to."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.sensor.collector_process import CollectorProcess


@pytest.fixture
def collector(tmp_path: Path) -> Iterator[CollectorProcess]:
    process = CollectorProcess(tmp_path / "collector")
    process.start()
    try:
        yield process
    finally:
        process.stop()
