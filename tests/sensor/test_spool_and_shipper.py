"""Nothing lost: batches wait on disk while the collector is down and arrive once when it is back."""

from __future__ import annotations

import time
from pathlib import Path

from collector.keys import Scope
from events.models import EventBatch, NetworkUsageEvent
from sensor.delivery import CollectorClient, RetryPolicy
from sensor.shipper import EventBatcher, Shipper
from sensor.spool import Spool
from tests.factories import SENSOR_ID, batch, network_event
from tests.sensor.collector_process import CollectorProcess


def events(count: int) -> list[NetworkUsageEvent]:
    return [NetworkUsageEvent.model_validate(network_event()) for _ in range(count)]


def test_when_batches_are_spooled_then_they_survive_a_restart_in_order(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    batcher = EventBatcher(spool, batch_size=2)
    for event in events(5):
        batcher.add(event)
    batcher.flush()

    reopened = Spool(tmp_path / "spool")
    sizes = [len(b.events) for _, b in reopened.batches() if b is not None]

    assert sizes == [2, 2, 1]
    assert not list((tmp_path / "spool").glob(".*.tmp")), "no half-written files"


def test_when_the_spool_is_full_then_the_oldest_batches_go_and_are_counted(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool", max_bytes=3_000)
    for _ in range(6):
        spool.write(EventBatch.model_validate(batch(network_event())))

    assert spool.pending_bytes() <= 3_000
    assert spool.stats.dropped_for_space >= 1


def test_when_a_spooled_file_is_corrupt_then_it_is_set_aside_not_retried(tmp_path: Path) -> None:
    spool = Spool(tmp_path / "spool")
    (spool.directory / "00000000000000000001-000001-x.batch.json").write_text("{not json")
    shipper = Shipper(spool, CollectorClient("http://127.0.0.1:9", "ss_a_b", retry=RetryPolicy(attempts=1)))

    assert shipper.deliver_pending() is True
    assert spool.stats.rejected == 1
    assert list(spool.rejected_dir.glob("*.reason.txt"))


def test_when_the_collector_is_down_then_batches_wait_and_arrive_once_it_is_back(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    sensor_key, read_key = collector.key(Scope.SENSOR, SENSOR_ID), collector.key(Scope.READ, None)
    spool = Spool(tmp_path / "spool")
    client = CollectorClient(collector.url, sensor_key, retry=RetryPolicy(attempts=1), timeout=5)
    shipper = Shipper(spool, client, first_delay=0.1, max_delay=0.5)
    batcher = EventBatcher(spool, batch_size=10)
    shipper.start()
    try:
        collector.stop()
        for event in events(25):
            batcher.add(event)
        batcher.flush()
        shipper.poke()
        time.sleep(1.0)
        assert len(spool.pending()) == 3, "nothing is lost while the collector is down"

        collector.start()
        deadline = time.monotonic() + 30
        while spool.pending() and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        shipper.stop(drain_timeout=5)
        client.close()

    assert spool.pending() == []
    assert collector.event_count(read_key) == 25


def test_when_the_collector_refuses_a_batch_then_it_is_kept_aside_with_the_reason(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    wrong_sensor_key = collector.key(Scope.SENSOR, "another-sensor")
    spool = Spool(tmp_path / "spool")
    spool.write(EventBatch.model_validate(batch(network_event())))
    with CollectorClient(collector.url, wrong_sensor_key, retry=RetryPolicy(attempts=1)) as client:
        assert Shipper(spool, client).deliver_pending() is True

    reason = next(spool.rejected_dir.glob("*.reason.txt")).read_text()
    assert "403" in reason
    assert spool.pending() == []
