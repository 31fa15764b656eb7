"""The event contract: what sensors and the browser extension send to the collector.

Every producer and the collector share these models; the JSON Schema exported from them (``events/schema/``) is
what the extension and third parties validate against. Models are frozen and forbid unknown fields, so a typo in
a producer is an error at the collector's door rather than a silently dropped value.

Versioning: ``schema_version`` is ``MAJOR.MINOR``. The collector accepts any minor version of the major it knows
(minor versions only add optional fields); another major is refused with an error that names both.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from enum import StrEnum
from typing import Annotated, Any, Literal
from uuid import UUID

from pydantic import (
    AfterValidator,
    AwareDatetime,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    IPvAnyAddress,
    StringConstraints,
    field_validator,
    model_validator,
)

from events.labels import DataLabel

SCHEMA_MAJOR = 1
# 1.1 added NetworkUsageEvent.flow_count (optional, default 1).
SCHEMA_VERSION = f"{SCHEMA_MAJOR}.1"
MAX_BATCH_EVENTS = 1000
# Timestamps before this are clock errors (an unset RTC reads 1970), not observations.
EARLIEST_TIMESTAMP = datetime(2020, 1, 1, tzinfo=UTC)
# Producers' clocks drift; beyond this much into the future a timestamp is wrong, not early.
MAX_CLOCK_SKEW = timedelta(hours=24)

# Counters are bounded far below int64 so that sums over millions of events still fit the database's integers
# (2**48 bytes is 256 TiB: no flow or upload comes near it).
MAX_COUNT = 2**48
Count = Annotated[int, Field(ge=0, le=MAX_COUNT)]


def _no_nul(value: str) -> str:
    # PostgreSQL text and JSONB cannot hold NUL characters; no legitimate producer sends them.
    if "\x00" in value:
        raise ValueError("text must not contain NUL characters")
    return value


Identifier = Annotated[str, StringConstraints(pattern=r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")]
HostName = Annotated[
    str,
    StringConstraints(max_length=253, pattern=r"^[A-Za-z0-9_*]([A-Za-z0-9_-]{0,62})(\.[A-Za-z0-9_-]{1,63})*\.?$"),
]
Sha256Hex = Annotated[str, StringConstraints(pattern=r"^[0-9a-f]{64}$")]
Label = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]{0,31}$")]
ShortText = Annotated[str, StringConstraints(max_length=256), AfterValidator(_no_nul)]
# One prompt can be long (a pasted document), but not unbounded: the batch body cap applies too.
PromptText = Annotated[str, StringConstraints(max_length=200_000), AfterValidator(_no_nul)]


class ContractModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=False)


def _check_timestamp(value: datetime) -> datetime:
    if value < EARLIEST_TIMESTAMP:
        raise ValueError(f"timestamp {value.isoformat()} is before {EARLIEST_TIMESTAMP.date()}: a clock error")
    if value > datetime.now(UTC) + MAX_CLOCK_SKEW:
        raise ValueError(f"timestamp {value.isoformat()} is more than {MAX_CLOCK_SKEW} in the future")
    return value.astimezone(UTC)


def _text_timestamps_only(value: object) -> object:
    # The contract says RFC 3339; pydantic's lax mode would also take Unix epoch numbers, which producers could
    # then come to rely on.
    if isinstance(value, int | float) and not isinstance(value, bool):
        raise ValueError("timestamps are RFC 3339 strings, not numbers")  # noqa: TRY004 - pydantic reports ValueError
    return value


Timestamp = Annotated[
    AwareDatetime,
    BeforeValidator(_text_timestamps_only),
    AfterValidator(_check_timestamp),
    Field(description="RFC 3339 with a UTC offset; stored as UTC."),
]


def _kind_is_required(schema: dict[str, Any]) -> None:
    """`kind` has a default so that code can build events without repeating it, but on the wire it is what tells
    the event types apart, so the published schema requires it (as the collector does)."""
    if "kind" in schema.get("properties", {}) and "kind" not in schema.setdefault("required", []):
        schema["required"].insert(0, "kind")


class EventBase(ContractModel):
    model_config = ConfigDict(frozen=True, extra="forbid", json_schema_extra=_kind_is_required)

    event_id: UUID = Field(
        description="Idempotency id chosen by the producer; re-sending an event with the same id stores nothing."
    )


class Signal(StrEnum):
    """How the sensor learnt which AI tool a flow belongs to (all are seen without decrypting anything)."""

    DNS = "dns"
    TLS_SNI = "tls_sni"
    QUIC_SNI = "quic_sni"
    HTTP_HOST = "http_host"
    DNS_ANSWER_IP = "dns_answer_ip"
    ECH = "ech"
    DOH = "doh"


class Transport(StrEnum):
    TCP = "tcp"
    UDP = "udp"


class NetworkUsageEvent(EventBase):
    """One flow (or flow slice) between a client and an AI tool, with its volume in each direction."""

    kind: Literal["network_usage"] = "network_usage"
    sensor_id: Identifier
    client_ip: IPvAnyAddress
    client_name: HostName | None = Field(default=None, description="Client host name, when the sensor knows it.")
    server_ip: IPvAnyAddress
    server_port: int = Field(ge=0, le=65535)
    transport: Transport
    tool_id: Identifier | None = Field(
        description="Catalog id of the AI tool; null when the name is hidden (ECH, DoH) and the tool is unknown."
    )
    server_name: HostName | None = Field(default=None, description="The name the signals carried, if any.")
    signals: tuple[Signal, ...] = Field(min_length=1, max_length=len(Signal))
    bytes_up: Count = Field(description="Client to server, IP-level bytes (IP headers included).")
    bytes_down: Count
    packets_up: Count
    packets_down: Count
    first_seen: Timestamp
    last_seen: Timestamp
    flow_count: int = Field(
        default=1, ge=1, le=MAX_COUNT, description="Flows summed into this event (client x tool x window)."
    )

    @model_validator(mode="after")
    def _check_order(self) -> NetworkUsageEvent:
        if self.last_seen < self.first_seen:
            raise ValueError("last_seen is before first_seen")
        if len(set(self.signals)) != len(self.signals):
            raise ValueError("signals lists a signal twice")
        return self

    @property
    def occurred_at(self) -> datetime:
        return self.first_seen


class ContentFindings(ContractModel):
    """What the device found in text it kept to itself: labels, entity counts and a keyed hash, never the text."""

    labels: tuple[DataLabel, ...] = Field(default=(), max_length=len(DataLabel))
    entity_counts: dict[Label, Count] = Field(default_factory=dict, max_length=64)
    text_hmac: Sha256Hex = Field(description="HMAC-SHA256 of the text under the organisation's key.")
    text_length: Count


class BrowserEventBase(EventBase):
    device_id: Identifier
    user: ShortText | None = Field(default=None, description="Directory user name, when the deployment maps one.")
    tool_id: Identifier | None = Field(description="Catalog id of the AI tool, null for an uncatalogued site.")
    host: HostName = Field(description="Page host name only: never a path or query string.")
    occurred_at: Timestamp


class PolicyAction(StrEnum):
    ALLOW = "allow"
    MONITOR = "monitor"
    WARN = "warn"
    JUSTIFY = "justify"
    REDACT = "redact"
    BLOCK = "block"
    REDIRECT = "redirect"


class UserChoice(StrEnum):
    PROCEEDED = "proceeded"
    CANCELLED = "cancelled"
    JUSTIFIED = "justified"
    REDACTED = "redacted"
    NONE = "none"


class Verdict(ContractModel):
    action: PolicyAction
    user_choice: UserChoice = UserChoice.NONE
    justification: ShortText | None = None


class _ContentEvent(BrowserEventBase):
    """A prompt or paste: either the text (when policy lets text leave the device) or findings about it."""

    text: PromptText | None = None
    findings: ContentFindings | None = None
    verdict: Verdict | None = None

    @model_validator(mode="after")
    def _text_or_findings(self) -> _ContentEvent:
        if (self.text is None) == (self.findings is None):
            raise ValueError("exactly one of text or findings is required")
        return self


class VisitEvent(BrowserEventBase):
    kind: Literal["visit"] = "visit"


class PromptEvent(_ContentEvent):
    kind: Literal["prompt"] = "prompt"


class PasteEvent(_ContentEvent):
    kind: Literal["paste"] = "paste"


class UploadEvent(BrowserEventBase):
    kind: Literal["upload"] = "upload"
    file_name: ShortText
    file_size: Count
    media_type: ShortText | None = None
    file_sha256: Sha256Hex
    findings: ContentFindings | None = None
    verdict: Verdict | None = None


Event = Annotated[
    NetworkUsageEvent | VisitEvent | PromptEvent | PasteEvent | UploadEvent,
    Field(discriminator="kind"),
]
BROWSER_KINDS = frozenset({"visit", "prompt", "paste", "upload"})


class EventBatch(ContractModel):
    """What a producer POSTs: up to MAX_BATCH_EVENTS events, stored whole or not at all."""

    schema_version: str = Field(pattern=r"^[0-9]{1,3}\.[0-9]{1,3}$", examples=[SCHEMA_VERSION])
    batch_id: UUID = Field(description="Idempotency id of the batch; a re-sent batch is acknowledged, not stored.")
    sent_at: Timestamp
    events: tuple[Event, ...] = Field(min_length=1, max_length=MAX_BATCH_EVENTS)

    @field_validator("schema_version")
    @classmethod
    def _known_major(cls, value: str) -> str:
        major = int(value.split(".", 1)[0])
        if major != SCHEMA_MAJOR:
            raise ValueError(f"schema_version {value} is not supported; this collector speaks {SCHEMA_VERSION}")
        return value

    @model_validator(mode="after")
    def _unique_event_ids(self) -> EventBatch:
        seen: dict[UUID, int] = {}
        for index, event in enumerate(self.events):
            if event.event_id in seen:
                raise ValueError(f"events[{index}].event_id repeats events[{seen[event.event_id]}].event_id")
            seen[event.event_id] = index
        return self
