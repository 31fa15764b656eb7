"""The sensor's heartbeat: a real collector over HTTP learns its backlog; a collector that is down changes nothing."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from collector.keys import Scope
from collector.producer_health import LagSource, ProducerHealth, Status, list_producers
from collector.settings import load_settings
from events.heartbeat import ProducerKind
from events.models import EventBatch
from sensor.delivery import CollectorClient, RetryPolicy
from sensor.heartbeat import Backlog, CaptureCounters, HeartbeatSender, spool_backlog
from sensor.spool import Spool
from shadowscope.database import open_sessions
from shadowscope.local_collector import free_port
from tests.factories import SENSOR_ID, batch, network_event
from tests.sensor.collector_process import CollectorProcess

SAMPLE_CAPTURE = Path(__file__).resolve().parents[2] / "sample-data" / "office-morning.pcap"


def producers(collector: CollectorProcess) -> dict[str, ProducerHealth]:
    with open_sessions(load_settings(data_dir=collector.data_dir)) as sessions, sessions() as session:
        return {p.producer_id: p for p in list_producers(session, datetime.now(UTC))}


def spool_with(tmp_path: Path, batches: int) -> Spool:
    spool = Spool(tmp_path / "spool")
    for _ in range(batches):
        spool.write(EventBatch.model_validate(batch(network_event())))
    return spool


def wait_for(condition: Callable[[], bool], timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition() and time.monotonic() < deadline:
        time.sleep(0.02)


def test_when_the_spool_holds_batches_then_the_backlog_counts_them_and_dates_the_oldest(tmp_path: Path) -> None:
    before = datetime.now(UTC)
    spool = spool_with(tmp_path, 3)
    after = datetime.now(UTC)

    backlog = spool_backlog(spool)

    assert backlog.batches == 3
    assert backlog.bytes == spool.pending_bytes()
    assert backlog.oldest_spooled_at is not None
    assert before - timedelta(milliseconds=1) <= backlog.oldest_spooled_at <= after
    assert spool_backlog(Spool(tmp_path / "empty")) == Backlog(0, 0, None)


def test_when_a_real_collector_gets_a_heartbeat_then_the_console_sees_the_backlog(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    token = collector.key(Scope.SENSOR, SENSOR_ID)
    spool = spool_with(tmp_path, 2)
    with CollectorClient(collector.url, token, retry=RetryPolicy(attempts=1), timeout=5) as client:
        sender = HeartbeatSender(
            client, SENSOR_ID, spool, counters=lambda: CaptureCounters(packets=1234, events=5, interface="eth1")
        )

        assert sender.beat() is True

    health = producers(collector)[SENSOR_ID]
    assert health.kind is ProducerKind.SENSOR
    assert (health.spool_batches, health.spool_bytes) == (2, spool.pending_bytes())
    assert (health.packets, health.events, health.capture_interface) == (1234, 5, "eth1")
    assert health.version == sender.version
    assert health.lag_source is LagSource.SPOOL
    assert health.lag is not None
    assert health.lag < timedelta(minutes=1)
    assert health.status is Status.OK


def test_when_running_then_heartbeats_repeat_and_the_latest_backlog_replaces_the_earlier(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    token = collector.key(Scope.SENSOR, SENSOR_ID)
    spool = spool_with(tmp_path, 2)
    with CollectorClient(collector.url, token, retry=RetryPolicy(attempts=1), timeout=5) as client:
        sender = HeartbeatSender(client, SENSOR_ID, spool, interval=0.1)
        sender.start()
        try:
            wait_for(lambda: sender.sent >= 2)
            assert sender.sent >= 2, sender.last_error
            for path in spool.pending():
                spool.delivered(path)
        finally:
            sender.stop()  # the last beat reports the spool as it is left: empty

    health = producers(collector)[SENSOR_ID]
    assert (health.spool_batches, health.spool_bytes, health.oldest_spooled_at) == (0, 0, None)
    assert health.lag_source is None, "no events were delivered and nothing waits"


def test_when_the_collector_port_is_closed_then_the_heartbeat_keeps_going_without_raising(tmp_path: Path) -> None:
    spool = spool_with(tmp_path, 1)
    client = CollectorClient(f"http://127.0.0.1:{free_port()}", "ss_k_s", retry=RetryPolicy(attempts=1), timeout=2)
    sender = HeartbeatSender(client, SENSOR_ID, spool, interval=0.05)
    started = time.monotonic()
    sender.start()
    try:
        wait_for(lambda: sender.failed >= 3)
        assert sender.failed >= 3
        assert sender._thread.is_alive(), "a collector that is down does not stop the heartbeat"
    finally:
        sender.stop()
        client.close()

    assert sender.sent == 0
    assert sender.last_error is not None
    assert "ConnectError" in sender.last_error
    assert time.monotonic() - started < 10
    assert len(spool.pending()) == 1, "the heartbeat never touches the spool"


def test_when_the_key_belongs_to_another_sensor_then_the_refusal_is_counted_not_raised(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    token = collector.key(Scope.SENSOR, "some-other-tap")
    with CollectorClient(collector.url, token, retry=RetryPolicy(attempts=1), timeout=5) as client:
        sender = HeartbeatSender(client, SENSOR_ID, spool_with(tmp_path, 0))

        assert sender.beat() is False

    assert sender.last_error is not None
    assert "403" in sender.last_error
    assert SENSOR_ID not in producers(collector)


def test_when_the_interval_is_not_positive_then_the_sender_refuses_it(tmp_path: Path) -> None:
    client = CollectorClient("http://127.0.0.1:9", "ss_k_s")
    with pytest.raises(ValueError, match="positive"):
        HeartbeatSender(client, SENSOR_ID, spool_with(tmp_path, 0), interval=0)
    client.close()


def test_when_the_sensor_command_reads_a_capture_then_its_heartbeat_reaches_the_collector(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    token = collector.key(Scope.SENSOR, SENSOR_ID)
    command = [sys.executable, "-m", "shadowscope", "sensor", "read", str(SAMPLE_CAPTURE), "--sensor-id", SENSOR_ID,
               "--collector", collector.url, "--api-key", token, "--spool-dir", str(tmp_path / "spool"),
               "--heartbeat-interval", "5"]  # fmt: skip

    result = subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert result.returncode == 0, result.stderr
    health = producers(collector)[SENSOR_ID]
    assert health.packets is not None
    assert health.packets > 0
    assert health.spool_batches == 0, "the last heartbeat is sent after the spool is drained"
    assert health.status is Status.OK
