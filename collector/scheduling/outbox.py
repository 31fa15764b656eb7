"""The delivery outbox: one alert_deliveries row per alert and destination, sent until delivered or given up.

A run first queues rows for new alerts at or above each destination's minimum severity, then sends the rows that
are due. Sending happens outside any transaction (a slow receiver must not hold database locks); the outcome is
written afterwards, guarded by `status = 'pending'`, so a row once delivered or failed is never sent again.
Delivery is at least once: a crash between a receiver's "accepted" and the write sends that notice again, with
the same delivery id, so receivers can drop the repeat.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import exists, select, update
from sqlalchemy.orm import Session, sessionmaker

from collector.alert_delivery import AlertNotice, DeliveryFailed, RetryPolicy
from collector.alert_delivery.retry import GiveUp
from collector.job_settings import DeliverySettings
from collector.models import Alert, AlertDelivery
from collector.scheduling.destinations import Channel
from collector.scheduling.notices import levels_at_or_above, notice_for
from collector.triage import CLOSED
from rules.catalog import Catalog

log = logging.getLogger(__name__)

PENDING, DELIVERED, FAILED = "pending", "delivered", "failed"
ERROR_MAX = 1000  # alert_deliveries.last_error


@dataclass(frozen=True, slots=True)
class RunCounts:
    queued: int = 0
    delivered: int = 0
    retrying: int = 0
    failed: int = 0


def enqueue(session: Session, channels: Sequence[Channel], now: datetime, lookback: timedelta) -> int:
    """Add a pending row for each recent, open alert a destination should hear about and has no row for."""
    added = 0
    for channel in channels:
        new_alerts = select(Alert.id).where(
            Alert.created_at >= now - lookback,
            Alert.severity.in_(levels_at_or_above(channel.min_severity)),
            Alert.status.not_in([str(status) for status in CLOSED]),
            ~exists().where(AlertDelivery.alert_id == Alert.id, AlertDelivery.destination == channel.name),
        )
        for alert_id in session.scalars(new_alerts.order_by(Alert.id)):
            session.add(
                AlertDelivery(
                    alert_id=alert_id,
                    destination=channel.name,
                    delivery_id=uuid.uuid4(),
                    status=PENDING,
                    attempts=0,
                    next_attempt_at=now,
                    created_at=now,
                )
            )
            added += 1
    return added


@dataclass(frozen=True, slots=True)
class DueDelivery:
    row_id: int
    destination: str
    delivery_id: uuid.UUID
    attempts: int
    notice: AlertNotice


class Outbox:
    """Queues and sends notices for the configured channels; `run(now)` is the delivery job."""

    def __init__(
        self,
        sessions: sessionmaker[Session],
        channels: Sequence[Channel],
        settings: DeliverySettings,
        titles: dict[str, str],
        catalog: Callable[[], Catalog],
    ) -> None:
        self._sessions = sessions
        self._channels = {channel.name: channel for channel in channels}
        self._settings = settings
        self._titles = titles
        # A callable: tool names come from the catalog in use at each run, which a reload may have replaced.
        self._catalog = catalog
        self._backoff = RetryPolicy(
            attempts=settings.max_attempts,
            base_delay_s=settings.retry_base_seconds,
            max_delay_s=settings.retry_max_seconds,
        )

    def run(self, now: datetime) -> RunCounts:
        if not self._channels:
            return RunCounts()
        lookback = timedelta(hours=self._settings.lookback_hours)
        with self._sessions.begin() as session:
            queued = enqueue(session, list(self._channels.values()), now, lookback)
        outcomes = [self._send(due, now) for due in self._due(now)]
        return RunCounts(
            queued=queued,
            delivered=outcomes.count(DELIVERED),
            retrying=outcomes.count(PENDING),
            failed=outcomes.count(FAILED),
        )

    def _due(self, now: datetime) -> list[DueDelivery]:
        catalog = self._catalog()
        with self._sessions() as session:
            rows = session.execute(
                select(AlertDelivery, Alert)
                .join(Alert, Alert.id == AlertDelivery.alert_id)
                .where(
                    AlertDelivery.status == PENDING,
                    AlertDelivery.next_attempt_at <= now,
                    # Rows of a destination no longer configured wait, pending, in case it comes back.
                    AlertDelivery.destination.in_(list(self._channels)),
                )
                .order_by(AlertDelivery.next_attempt_at, AlertDelivery.id)
                .limit(self._settings.batch_size)
            ).all()
            return [
                DueDelivery(
                    row_id=delivery.id,
                    destination=delivery.destination,
                    delivery_id=delivery.delivery_id,
                    attempts=delivery.attempts,
                    notice=notice_for(alert, self._titles, catalog, self._settings.console_url),
                )
                for delivery, alert in rows
            ]

    def _send(self, due: DueDelivery, now: datetime) -> str:
        attempts = due.attempts + 1
        try:
            self._channels[due.destination].send(due.notice, due.delivery_id)
        except Exception as failure:  # one broken channel or row must not stop the others
            if not isinstance(failure, DeliveryFailed):
                log.exception("alert %d: %s raised unexpectedly", due.notice.alert_id, due.destination)
            # GiveUp: the receiver refused in a way retrying cannot fix (HTTP 400, SMTP 550, untrusted certificate).
            final = isinstance(failure.__cause__, GiveUp) or attempts >= self._settings.max_attempts
            status = FAILED if final else PENDING
            retry_at = now + timedelta(seconds=self._backoff.backoff_s(attempts))
            log.warning(
                "alert %d not delivered to %s (attempt %d%s): %s",
                due.notice.alert_id,
                due.destination,
                attempts,
                ", giving up" if final else f", next at {retry_at:%H:%M:%S}",
                failure,
            )
            self._record(due, status=status, attempts=attempts, last_error=str(failure)[:ERROR_MAX], retry_at=retry_at)
            return status
        self._record(due, status=DELIVERED, attempts=attempts, delivered_at=now)
        log.info("alert %d delivered to %s", due.notice.alert_id, due.destination)
        return DELIVERED

    def _record(
        self,
        due: DueDelivery,
        *,
        status: str,
        attempts: int,
        last_error: str | None = None,
        retry_at: datetime | None = None,
        delivered_at: datetime | None = None,
    ) -> None:
        values: dict[str, object] = {"status": status, "attempts": attempts, "last_error": last_error}
        if retry_at is not None:
            values["next_attempt_at"] = retry_at
        if delivered_at is not None:
            values["delivered_at"] = delivered_at
        with self._sessions.begin() as session:
            session.execute(
                update(AlertDelivery)
                .where(AlertDelivery.id == due.row_id, AlertDelivery.status == PENDING)
                .values(**values)
                .execution_options(synchronize_session=False)
            )
