"""The producer heartbeat: how a sensor or browser extension tells the collector it is alive and what it holds back.

A heartbeat is a snapshot, not an event: only the newest one per producer matters, so producers never spool or
re-send it, and the collector keeps one row per producer. Counters are cumulative since the producer started
(a restart sets them back to zero), so the collector shows them as they are rather than adding them up.
"""

from __future__ import annotations

from enum import StrEnum
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from events.models import ContractModel, Count, Identifier, ShortText, Timestamp

HEARTBEATS_PATH = "/api/v1/heartbeats"
DEFAULT_HEARTBEAT_INTERVAL = 60.0  # seconds between a producer's heartbeats

Version = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9.+_-]{0,63}$")]


class ProducerKind(StrEnum):
    SENSOR = "sensor"  # a network sensor; its id is the sensor id its key is bound to
    EXTENSION = "extension"  # a browser extension; its id is the device id


class Heartbeat(ContractModel):
    """What a producer POSTs to /api/v1/heartbeats every minute or so."""

    producer_id: Identifier = Field(description="The sensor id or device id, as in the producer's events.")
    kind: ProducerKind
    version: Version = Field(description="The producer's software version.")
    sent_at: Timestamp
    spool_batches: Count = Field(description="Batches waiting on the producer's disk for the collector.")
    spool_bytes: Count = Field(description="Bytes those batches take.")
    dropped_for_space: Count = Field(
        default=0, description="Batches the producer deleted unsent because its spool was full (since it started)."
    )
    rejected: Count = Field(default=0, description="Batches the collector refused and the producer set aside.")
    oldest_spooled_at: Timestamp | None = Field(
        default=None, description="When the oldest waiting batch was spooled; null when nothing waits."
    )
    packets: Count | None = Field(default=None, description="Packets (sensor) read since the producer started.")
    events: Count | None = Field(default=None, description="Usage events produced since the producer started.")
    capture_interface: ShortText | None = Field(default=None, description="The interface a live sensor taps.")
    capture_drops: Count | None = Field(
        default=None, description="Packets the capture lost before the sensor saw them, when the platform says."
    )

    @model_validator(mode="after")
    def _backlog_is_consistent(self) -> Heartbeat:
        if self.oldest_spooled_at is not None and self.spool_batches == 0:
            raise ValueError("oldest_spooled_at is given but spool_batches is 0")
        if self.oldest_spooled_at is not None and self.oldest_spooled_at > self.sent_at:
            raise ValueError("oldest_spooled_at is after sent_at")
        return self
