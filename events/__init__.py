"""The typed, versioned event contract shared by every producer and the collector."""

from events.models import (
    MAX_BATCH_EVENTS,
    SCHEMA_VERSION,
    Event,
    EventBatch,
    NetworkUsageEvent,
    PasteEvent,
    PromptEvent,
    UploadEvent,
    VisitEvent,
)

__all__ = [
    "MAX_BATCH_EVENTS",
    "SCHEMA_VERSION",
    "Event",
    "EventBatch",
    "NetworkUsageEvent",
    "PasteEvent",
    "PromptEvent",
    "UploadEvent",
    "VisitEvent",
]
