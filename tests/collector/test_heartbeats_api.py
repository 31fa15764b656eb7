"""POST /api/v1/heartbeats and list_producers on SQLite and PostgreSQL: who may report, the newest report wins,
and the console's last seen, lag, backlog and status computed against an explicit clock."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import event, select, text, update

from collector.keys import Scope, create_key
from collector.models import ApiKey, ProducerHeartbeat
from collector.producer_health import (
    DEVICE_SILENT_AFTER,
    LAGGING_AFTER,
    SENSOR_SILENT_AFTER,
    LagSource,
    ProducerHealth,
    Status,
    list_producers,
)
from collector.runtime import Runtime
from events.heartbeat import ProducerKind
from tests.conftest import Keys
from tests.factories import SENSOR_ID, batch, network_event, prompt_event

URL = "/api/v1/heartbeats"


def heartbeat(**overrides: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "producer_id": SENSOR_ID,
        "kind": "sensor",
        "version": "0.1.0",
        "sent_at": datetime.now(UTC).isoformat(),
        "spool_batches": 0,
        "spool_bytes": 0,
        "dropped_for_space": 0,
        "rejected": 0,
    }
    body.update(overrides)
    return body


def device_key(runtime: Runtime, device_id: str) -> str:
    with runtime.sessions.begin() as session:
        return create_key(session, Scope.DEVICE, device_id, None).token


def stored(runtime: Runtime, producer_id: str = SENSOR_ID) -> ProducerHeartbeat | None:
    with runtime.sessions() as session:
        return session.scalar(select(ProducerHeartbeat).where(ProducerHeartbeat.producer_id == producer_id))


def by_id(runtime: Runtime, now: datetime) -> dict[str, ProducerHealth]:
    with runtime.sessions() as session:
        return {p.producer_id: p for p in list_producers(session, now)}


def test_when_a_sensor_reports_then_its_heartbeat_is_kept(client: TestClient, keys: Keys, runtime: Runtime) -> None:
    oldest = datetime.now(UTC) - timedelta(minutes=3)
    body = heartbeat(
        spool_batches=4,
        spool_bytes=9000,
        dropped_for_space=2,
        rejected=1,
        oldest_spooled_at=oldest.isoformat(),
        packets=123_456,
        events=42,
        capture_interface="eth1",
        capture_drops=7,
    )

    response = client.post(URL, json=body, headers=keys.header(keys.sensor))

    assert response.status_code == 200, response.text
    assert response.json()["current"] is True
    assert (response.json()["kind"], response.json()["producer_id"]) == ("sensor", SENSOR_ID)
    row = stored(runtime)
    assert row is not None
    assert (row.kind, row.spool_batches, row.spool_bytes, row.dropped_for_space, row.rejected) == (
        "sensor",
        4,
        9000,
        2,
        1,
    )
    assert (row.packets, row.events, row.capture_interface, row.capture_drops) == (123_456, 42, "eth1", 7)
    assert row.oldest_spooled_at == oldest


def test_when_a_key_reports_for_a_producer_not_its_own_then_it_is_refused(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    device = device_key(runtime, "laptop-0001")
    refused = [
        (keys.sensor, heartbeat(producer_id="another-tap")),
        (keys.sensor, heartbeat(kind="extension")),
        (device, heartbeat(kind="extension", producer_id="laptop-0002")),
        (device, heartbeat(kind="sensor", producer_id="laptop-0001")),
        (keys.browser, heartbeat(kind="sensor")),
        (keys.read, heartbeat()),
    ]

    for token, body in refused:
        response = client.post(URL, json=body, headers=keys.header(token))
        assert response.status_code == 403, (body, response.text)
        assert response.json()["error"]["code"] in {"forbidden_heartbeat", "wrong_scope"}

    assert client.post(URL, json=heartbeat()).status_code == 401
    with runtime.sessions() as session:
        assert session.scalars(select(ProducerHeartbeat)).all() == []


def test_when_a_device_or_the_gateway_reports_for_a_device_then_it_is_kept(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    device = device_key(runtime, "laptop-0001")

    own = client.post(URL, json=heartbeat(kind="extension", producer_id="laptop-0001"), headers=keys.header(device))
    via_gateway = client.post(
        URL, json=heartbeat(kind="extension", producer_id="laptop-0002"), headers=keys.header(keys.browser)
    )

    assert (own.status_code, via_gateway.status_code) == (200, 200)
    assert {row.producer_id for row in [stored(runtime, "laptop-0001"), stored(runtime, "laptop-0002")] if row} == {
        "laptop-0001",
        "laptop-0002",
    }


def test_when_the_body_is_wrong_then_it_is_refused_with_422(client: TestClient, keys: Keys) -> None:
    now = datetime.now(UTC)
    bad_bodies = [
        {k: v for k, v in heartbeat().items() if k != "spool_batches"},
        heartbeat(kind="router"),
        heartbeat(spool_bytes=-1),
        heartbeat(producer_id="has spaces"),
        heartbeat(unknown_field=1),
        heartbeat(sent_at=1_700_000_000),
        heartbeat(oldest_spooled_at=now.isoformat()),  # a backlog date with nothing spooled
        heartbeat(spool_batches=1, oldest_spooled_at=(now + timedelta(hours=1)).isoformat()),  # after sent_at
    ]

    for body in bad_bodies:
        response = client.post(URL, json=body, headers=keys.header(keys.sensor))
        assert response.status_code == 422, (body, response.text)


def test_when_heartbeats_arrive_out_of_order_then_the_newest_sent_is_kept(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    now = datetime.now(UTC)
    newer = heartbeat(sent_at=now.isoformat(), spool_batches=1, spool_bytes=10)
    older = heartbeat(sent_at=(now - timedelta(minutes=1)).isoformat(), spool_batches=9, spool_bytes=90)
    newest = heartbeat(sent_at=(now + timedelta(seconds=30)).isoformat(), spool_batches=2, spool_bytes=20)

    first = client.post(URL, json=newer, headers=keys.header(keys.sensor))
    late = client.post(URL, json=older, headers=keys.header(keys.sensor))
    after_late = stored(runtime)
    last = client.post(URL, json=newest, headers=keys.header(keys.sensor))

    assert [r.json()["current"] for r in (first, late, last)] == [True, False, True]
    assert after_late is not None
    assert (after_late.spool_batches, after_late.sent_at) == (1, now)
    final = stored(runtime)
    assert final is not None
    assert (final.spool_batches, final.spool_bytes) == (2, 20)
    with runtime.sessions() as session:
        assert len(session.scalars(select(ProducerHeartbeat)).all()) == 1


def set_last_used(runtime: Runtime, producer_id: str, at: datetime | None, revoked: datetime | None = None) -> None:
    with runtime.sessions.begin() as session:
        session.execute(
            update(ApiKey).where(ApiKey.sensor_id == producer_id).values(last_used_at=at, revoked_at=revoked)
        )


def set_heartbeat_received(runtime: Runtime, producer_id: str, at: datetime) -> None:
    with runtime.sessions.begin() as session:
        session.execute(
            update(ProducerHeartbeat).where(ProducerHeartbeat.producer_id == producer_id).values(received_at=at)
        )


def test_when_listing_producers_then_lag_backlog_and_status_follow_the_given_clock(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    now = datetime.now(UTC).replace(microsecond=0)
    with runtime.sessions.begin() as session:
        create_key(session, Scope.SENSOR, "tap-silent", None)
        create_key(session, Scope.SENSOR, "tap-revoked", None)
        lagging_token = create_key(session, Scope.SENSOR, "tap-lagging", None).token
        create_key(session, Scope.SENSOR, "tap-lagging", "its replacement, not yet used")
        create_key(session, Scope.DEVICE, "laptop-0001", None)
        create_key(session, Scope.DEVICE, "laptop-idle", None)
    # tap-test-01: events delivered, newest at now - 40 min, heartbeat now - 30 s with nothing spooled.
    newest_event = now - timedelta(minutes=40)
    events = [
        network_event(first_seen=(newest_event - timedelta(minutes=m)).isoformat(), last_seen=newest_event.isoformat())
        for m in (0, 10, 20)
    ]
    assert client.post("/api/v1/batches", json=batch(*events), headers=keys.header(keys.sensor)).status_code == 201
    assert client.post(URL, json=heartbeat(), headers=keys.header(keys.sensor)).status_code == 200
    set_last_used(runtime, SENSOR_ID, now - timedelta(minutes=1))
    set_heartbeat_received(runtime, SENSOR_ID, now - timedelta(seconds=30))
    # tap-lagging: alive, but 3 batches spooled 20 minutes ago.
    spooled_at = now - timedelta(minutes=20)
    lagging = heartbeat(
        producer_id="tap-lagging",
        spool_batches=3,
        spool_bytes=3000,
        dropped_for_space=1,
        oldest_spooled_at=spooled_at.isoformat(),
    )
    assert client.post(URL, json=lagging, headers=keys.header(lagging_token)).status_code == 200
    set_last_used(runtime, "tap-lagging", now - timedelta(minutes=2))
    set_heartbeat_received(runtime, "tap-lagging", now - timedelta(seconds=10))
    # tap-silent: last heard of longer ago than a sensor may be quiet.
    set_last_used(runtime, "tap-silent", now - SENSOR_SILENT_AFTER - timedelta(seconds=1))
    # tap-revoked: its only key revoked, though it was seen a moment ago.
    set_last_used(runtime, "tap-revoked", now - timedelta(seconds=5), revoked=now - timedelta(seconds=1))
    # laptop-0001: a prompt an hour ago, key used then; a device is not silent for that.
    prompt = prompt_event(device_id="laptop-0001", occurred_at=(now - timedelta(hours=1)).isoformat())
    assert client.post("/api/v1/batches", json=batch(prompt), headers=keys.header(keys.browser)).status_code == 201
    set_last_used(runtime, "laptop-0001", now - timedelta(hours=1))
    # laptop-idle: enrolled, never heard from.
    # laptop-0002: no key of its own, reported by the gateway two days ago.
    gateway_beat = heartbeat(kind="extension", producer_id="laptop-0002")
    assert client.post(URL, json=gateway_beat, headers=keys.header(keys.browser)).status_code == 200
    set_heartbeat_received(runtime, "laptop-0002", now - DEVICE_SILENT_AFTER - timedelta(days=1))

    producers = by_id(runtime, now)
    with runtime.sessions() as session:
        order = [(p.kind, p.producer_id) for p in list_producers(session, now)]

    assert order == [
        (ProducerKind.SENSOR, "tap-lagging"),
        (ProducerKind.SENSOR, "tap-revoked"),
        (ProducerKind.SENSOR, "tap-silent"),
        (ProducerKind.SENSOR, SENSOR_ID),
        (ProducerKind.EXTENSION, "laptop-0001"),
        (ProducerKind.EXTENSION, "laptop-0002"),
        (ProducerKind.EXTENSION, "laptop-idle"),
    ]
    tap = producers[SENSOR_ID]
    assert tap.status is Status.OK
    assert tap.last_seen == now - timedelta(seconds=30), "the later of key use and heartbeat"
    assert (tap.lag, tap.lag_source, tap.newest_event_at) == (timedelta(minutes=40), LagSource.EVENTS, newest_event)
    assert (tap.spool_batches, tap.spool_bytes) == (0, 0)

    late = producers["tap-lagging"]
    assert late.status is Status.LAGGING
    assert (late.lag, late.lag_source) == (timedelta(minutes=20), LagSource.SPOOL)
    assert timedelta(minutes=20) > LAGGING_AFTER, "the scene is past the threshold"
    assert (late.spool_batches, late.spool_bytes, late.dropped_for_space) == (3, 3000, 1)
    assert len(late.key_ids) == 2
    assert late.newest_event_at is None

    assert producers["tap-silent"].status is Status.SILENT
    assert (producers["tap-silent"].lag, producers["tap-silent"].spool_batches) == (None, None)
    assert producers["tap-revoked"].status is Status.REVOKED
    assert producers["tap-revoked"].revoked is True

    laptop = producers["laptop-0001"]
    assert (laptop.status, laptop.lag, laptop.lag_source) == (Status.OK, timedelta(hours=1), LagSource.EVENTS)
    assert producers["laptop-idle"].status is Status.SILENT
    assert producers["laptop-idle"].last_seen is None
    gateway_reported = producers["laptop-0002"]
    assert (gateway_reported.status, gateway_reported.key_ids) == (Status.SILENT, ())

    # The same data a little later: the backlog is no older, but the sensor has gone quiet.
    later = by_id(runtime, now + SENSOR_SILENT_AFTER)
    assert later[SENSOR_ID].status is Status.SILENT
    assert later[SENSOR_ID].lag == timedelta(minutes=40) + SENSOR_SILENT_AFTER


def test_when_the_newest_events_are_looked_up_then_the_source_index_is_used(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    assert client.post("/api/v1/batches", json=batch(network_event()), headers=keys.header(keys.sensor)).status_code
    statements: list[tuple[str, Any]] = []

    def capture(_conn: Any, _cursor: Any, statement: str, parameters: Any, _context: Any, _many: bool) -> None:
        if "max(" in statement.lower():
            statements.append((statement, parameters))

    event.listen(runtime.engine, "before_cursor_execute", capture)
    try:
        with runtime.sessions() as session:
            list_producers(session, datetime.now(UTC))
    finally:
        event.remove(runtime.engine, "before_cursor_execute", capture)

    assert len(statements) == 1, "one statement for every producer's newest event"
    statement, parameters = statements[0]
    with runtime.engine.connect() as connection:
        if connection.dialect.name == "sqlite":
            plan = " ".join(
                str(row[-1]) for row in connection.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters)
            )
            assert "SEARCH events USING COVERING INDEX ix_events_source_id_occurred_at" in plan
            assert "SCAN events" not in plan
        else:
            connection.execute(text("SET enable_seqscan = off"))  # a tiny table would be scanned anyway
            plan = " ".join(str(row[0]) for row in connection.exec_driver_sql(f"EXPLAIN {statement}", parameters))
            assert "ix_events_source_id_occurred_at" in plan
            assert "Seq Scan on events" not in plan
