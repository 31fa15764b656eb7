"""Response bodies of the collector's HTTP API (requests use the event contract in events/)."""

from __future__ import annotations

from datetime import datetime
from typing import Any
from uuid import UUID

from pydantic import BaseModel, ConfigDict


class IngestResponse(BaseModel):
    batch_id: UUID
    received: int
    stored: int
    duplicate_batch: bool


class StoredEventOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: int
    event_id: UUID
    kind: str
    source_id: str
    client: str
    tool_id: str | None
    occurred_at: datetime
    last_seen: datetime
    bytes_up: int
    bytes_down: int
    flow_count: int
    detail: dict[str, Any]
    received_at: datetime


class EventPageOut(BaseModel):
    events: list[StoredEventOut]
    next_after: int | None


class UsageRowOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    tool_id: str | None = None
    client: str | None = None
    events: int
    flows: int
    clients: int
    bytes_up: int
    bytes_down: int
    first_seen: datetime
    last_seen: datetime


class UsageOut(BaseModel):
    grouping: str
    rows: list[UsageRowOut]


class Health(BaseModel):
    status: str
    detail: str | None = None
