"""The one interface every channel offers, so the collector can fan an alert out to whatever is configured."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from collector.alert_delivery.notice import AlertNotice

logger = logging.getLogger(__name__)


class DeliveryFailed(Exception):
    """A channel gave up on a notice: after its retries, or at once when retrying could not help (a 400, a 550)."""

    def __init__(self, channel: str, message: str, *, attempts: int) -> None:
        super().__init__(f"{channel}: {message} (after {attempts} attempt{'s' if attempts != 1 else ''})")
        self.channel = channel
        self.attempts = attempts


@runtime_checkable
class Deliverer(Protocol):
    """A configured channel. `deliver` returns once the receiver has accepted the notice, or raises DeliveryFailed."""

    @property
    def name(self) -> str: ...

    def deliver(self, notice: AlertNotice) -> None: ...


def deliver_to_all(notice: AlertNotice, deliverers: Iterable[Deliverer]) -> list[DeliveryFailed]:
    """Try every channel even when one fails: a dead SIEM must not keep the webhook from paging someone.

    Returns the failures (empty when all succeeded) so the caller can record them on the alert.
    """
    failures: list[DeliveryFailed] = []
    for deliverer in deliverers:
        try:
            deliverer.deliver(notice)
        except DeliveryFailed as failure:
            logger.warning("alert %s not delivered: %s", notice.alert_id, failure)
            failures.append(failure)
    return failures
