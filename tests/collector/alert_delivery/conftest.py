"""Fixtures for the delivery tests: a recording sleep (nobody waits) and a self-signed certificate."""

from __future__ import annotations

import random
from pathlib import Path

import pytest

from collector.alert_delivery.retry import RetryPolicy
from tests.collector.alert_delivery.tls_certs import SelfSignedCertificate, make_certificate


class RecordingSleep:
    """Stands in for time.sleep: remembers the pauses asked for and returns at once."""

    def __init__(self) -> None:
        self.pauses: list[float] = []

    def __call__(self, seconds: float) -> None:
        self.pauses.append(seconds)


@pytest.fixture
def sleep() -> RecordingSleep:
    return RecordingSleep()


@pytest.fixture
def policy() -> RetryPolicy:
    return RetryPolicy(attempts=4, base_delay_s=1.0, max_delay_s=8.0, rng=random.Random(8))


@pytest.fixture(scope="session")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> SelfSignedCertificate:
    directory: Path = tmp_path_factory.mktemp("tls")
    return make_certificate(directory)
