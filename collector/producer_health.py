"""Producer health: heartbeats in, and for the console every sensor and device with when it was last heard from,
how far behind its data is, what it holds back on disk, and a status.

Definitions (docs/collector-health.md explains them for operators):

- last seen: the later of the producer's key last use (any authenticated request: batches or heartbeats; recorded
  at a minute's resolution, see collector.keys.LAST_USED_RESOLUTION) and its newest heartbeat's arrival.
- lag: how far behind real time the producer's data at the collector is. When the newest heartbeat reports a
  spool backlog with its age, lag is ``now - oldest_spooled_at``: the oldest batch the collector still lacks has
  been waiting that long (a lower bound: its events happened before it was spooled). Otherwise it is
  ``now - occurred_at`` of the newest event stored for the producer's id, or None when it sent none. The
  event-based lag also grows while a network or browser is simply idle, so it is shown but does not make a
  producer "lagging"; only a backlog that is old does.
- status, first match wins: revoked (every key of the producer is revoked), silent (not seen for longer than its
  kind's SILENT_AFTER), lagging (a spool backlog older than LAGGING_AFTER), ok.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from sqlalchemy import Insert, Table, func, select, union
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from collector.keys import Principal, Scope
from collector.models import ApiKey, ProducerHeartbeat, StoredEvent
from events.heartbeat import Heartbeat, ProducerKind

# A sensor heartbeats every minute (DEFAULT_HEARTBEAT_INTERVAL) and sends batches as windows close. Ten minutes of
# nothing is ten missed heartbeats: longer than a collector restart or a network blip, short enough that a dead tap
# box is noticed within the hour's review.
SENSOR_SILENT_AFTER = timedelta(minutes=10)
# Laptops sleep and browsers close every evening; a device is only worth a look after a whole day without word.
DEVICE_SILENT_AFTER = timedelta(hours=24)
# The shipper retries with backoff up to a minute, and a 5-minute window is spooled when it closes; a batch still
# waiting after 15 minutes means delivery keeps failing, not a blip.
LAGGING_AFTER = timedelta(minutes=15)

_KIND_OF_SCOPE = {Scope.SENSOR.value: ProducerKind.SENSOR, Scope.DEVICE.value: ProducerKind.EXTENSION}


class HeartbeatForbidden(Exception):
    """The key may not report for this producer; the message says why."""


class Status(StrEnum):
    OK = "ok"
    LAGGING = "lagging"  # alive, but holding back data older than LAGGING_AFTER
    SILENT = "silent"  # not heard from for longer than its kind's SILENT_AFTER
    REVOKED = "revoked"  # every key it had is revoked


class LagSource(StrEnum):
    SPOOL = "spool"  # now - the oldest spooled batch the heartbeat reported
    EVENTS = "events"  # now - the newest stored event's occurred_at


@dataclass(frozen=True, slots=True)
class ProducerHealth:
    """One sensor or browser device as the console shows it. Durations are relative to the `now` given."""

    kind: ProducerKind
    producer_id: str
    status: Status
    last_seen: datetime | None
    lag: timedelta | None
    lag_source: LagSource | None
    newest_event_at: datetime | None
    spool_batches: int | None  # None: the producer never sent a heartbeat, so its backlog is unknown
    spool_bytes: int | None
    oldest_spooled_at: datetime | None
    dropped_for_space: int | None
    rejected: int | None
    capture_drops: int | None
    packets: int | None
    events: int | None
    capture_interface: str | None
    version: str | None
    heartbeat_sent_at: datetime | None
    heartbeat_received_at: datetime | None
    key_ids: tuple[str, ...]  # its API keys (revoked ones too), oldest first
    revoked: bool


def authorize(principal: Principal, heartbeat: Heartbeat) -> None:
    """Sensor keys report for their own sensor; device keys for their own device; the gateway for any device."""
    if principal.scope is Scope.SENSOR:
        if heartbeat.kind is not ProducerKind.SENSOR or heartbeat.producer_id != principal.sensor_id:
            raise HeartbeatForbidden(
                f"this key belongs to sensor {principal.sensor_id!r}; it may not report for "
                f"{heartbeat.kind} {heartbeat.producer_id!r}"
            )
    elif principal.scope in (Scope.BROWSER, Scope.DEVICE):
        if heartbeat.kind is not ProducerKind.EXTENSION:
            raise HeartbeatForbidden(f"a {principal.scope} key may only report for browser extensions")
        if principal.scope is Scope.DEVICE and heartbeat.producer_id != principal.sensor_id:
            raise HeartbeatForbidden(
                f"this credential belongs to device {principal.sensor_id!r}; it may not report for "
                f"{heartbeat.producer_id!r}"
            )
    else:
        raise HeartbeatForbidden(f"a {principal.scope} key may not send heartbeats")


def _upsert(session: Session, row: dict[str, Any]) -> Insert:
    dialect = session.get_bind().dialect.name
    table: Table = ProducerHeartbeat.__table__  # type: ignore[assignment]
    if dialect == "postgresql":
        pg = postgresql.insert(table).values(row)
        excluded: Any = pg.excluded
        build: Any = pg
    elif dialect == "sqlite":
        lite = sqlite.insert(table).values(row)
        excluded = lite.excluded
        build = lite
    else:
        raise NotImplementedError(f"database {dialect} is not supported (SQLite and PostgreSQL are)")
    keys = {"kind", "producer_id"}
    statement: Insert = build.on_conflict_do_update(
        index_elements=sorted(keys),
        set_={name: excluded[name] for name in row if name not in keys},
        # Heartbeats may arrive out of order (a retry, two collectors behind a balancer): the newest one wins.
        where=excluded.sent_at >= ProducerHeartbeat.sent_at,
    )
    return statement


def record_heartbeat(session: Session, principal: Principal, heartbeat: Heartbeat, received_at: datetime) -> bool:
    """Keep the heartbeat if it is the producer's newest; True if it was kept. Never commits."""
    authorize(principal, heartbeat)
    row = heartbeat.model_dump(mode="python")
    row["kind"] = heartbeat.kind.value
    row["received_at"] = received_at
    session.execute(_upsert(session, row))
    stored = session.scalar(
        select(ProducerHeartbeat.sent_at).where(
            ProducerHeartbeat.kind == heartbeat.kind.value, ProducerHeartbeat.producer_id == heartbeat.producer_id
        )
    )
    return stored == heartbeat.sent_at


def _newest_events(session: Session) -> dict[str, datetime]:
    """The newest occurred_at per producer id: one index probe per id (ix_events_source_id_occurred_at), no scan."""
    ids = union(
        select(ApiKey.sensor_id.label("source_id")).where(
            ApiKey.scope.in_(list(_KIND_OF_SCOPE)), ApiKey.sensor_id.is_not(None)
        ),
        select(ProducerHeartbeat.producer_id.label("source_id")),
    ).subquery("producer_ids")
    newest = (
        select(func.max(StoredEvent.occurred_at))
        .where(StoredEvent.source_id == ids.c.source_id)
        .correlate(ids)
        .scalar_subquery()
    )
    rows = session.execute(select(ids.c.source_id, newest))
    return {source_id: at for source_id, at in rows if at is not None}


@dataclass
class _Keys:
    ids: list[str]
    last_used: datetime | None = None
    revoked: bool = True


def _later(first: datetime | None, second: datetime | None) -> datetime | None:
    if first is None or second is None:
        return first or second
    return max(first, second)


def _status(
    kind: ProducerKind, revoked: bool, last_seen: datetime | None, backlog_age: timedelta | None, now: datetime
) -> Status:
    if revoked:
        return Status.REVOKED
    silent_after = SENSOR_SILENT_AFTER if kind is ProducerKind.SENSOR else DEVICE_SILENT_AFTER
    if last_seen is None or now - last_seen > silent_after:
        return Status.SILENT
    if backlog_age is not None and backlog_age > LAGGING_AFTER:
        return Status.LAGGING
    return Status.OK


def list_producers(session: Session, now: datetime) -> list[ProducerHealth]:
    """Every sensor and browser device (from their keys and heartbeats), sensors first, then by id.

    The browser gateway's key is not a producer of its own: the devices it reports for appear by their heartbeats.
    """
    keys: dict[tuple[ProducerKind, str], _Keys] = {}
    for key in session.scalars(
        select(ApiKey).where(ApiKey.scope.in_(list(_KIND_OF_SCOPE)), ApiKey.sensor_id.is_not(None)).order_by(ApiKey.id)
    ):
        assert key.sensor_id is not None  # filtered above
        held = keys.setdefault((_KIND_OF_SCOPE[key.scope], key.sensor_id), _Keys([]))
        held.ids.append(key.key_id)
        held.last_used = _later(held.last_used, key.last_used_at)
        held.revoked = held.revoked and key.revoked_at is not None
    beats = {(ProducerKind(beat.kind), beat.producer_id): beat for beat in session.scalars(select(ProducerHeartbeat))}
    newest_events = _newest_events(session)

    producers = []
    for kind, producer_id in sorted(
        keys.keys() | beats.keys(), key=lambda item: (item[0] != ProducerKind.SENSOR, item)
    ):
        entry = keys.get((kind, producer_id))
        beat = beats.get((kind, producer_id))
        revoked = entry is not None and entry.revoked
        last_seen = _later(entry.last_used if entry else None, beat.received_at if beat else None)
        newest_event_at = newest_events.get(producer_id)
        backlog_age = None
        if beat is not None and beat.spool_batches and beat.oldest_spooled_at is not None:
            backlog_age = max(now - beat.oldest_spooled_at, timedelta(0))
        if backlog_age is not None:
            lag, lag_source = backlog_age, LagSource.SPOOL
        elif newest_event_at is not None:
            lag, lag_source = max(now - newest_event_at, timedelta(0)), LagSource.EVENTS
        else:
            lag, lag_source = None, None
        producers.append(
            ProducerHealth(
                kind=kind,
                producer_id=producer_id,
                status=_status(kind, revoked, last_seen, backlog_age, now),
                last_seen=last_seen,
                lag=lag,
                lag_source=lag_source,
                newest_event_at=newest_event_at,
                spool_batches=beat.spool_batches if beat else None,
                spool_bytes=beat.spool_bytes if beat else None,
                oldest_spooled_at=beat.oldest_spooled_at if beat else None,
                dropped_for_space=beat.dropped_for_space if beat else None,
                rejected=beat.rejected if beat else None,
                capture_drops=beat.capture_drops if beat else None,
                packets=beat.packets if beat else None,
                events=beat.events if beat else None,
                capture_interface=beat.capture_interface if beat else None,
                version=beat.version if beat else None,
                heartbeat_sent_at=beat.sent_at if beat else None,
                heartbeat_received_at=beat.received_at if beat else None,
                key_ids=tuple(entry.ids) if entry else (),
                revoked=revoked,
            )
        )
    return producers
