"""Database tables. The collector is the only owner of the database; producers reach it through the API."""

from __future__ import annotations

import uuid
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Date,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    TypeDecorator,
    UniqueConstraint,
    Uuid,
    func,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

# Deterministic constraint names keep Alembic migrations identical on SQLite and PostgreSQL.
NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

# SQLite only auto-increments a column declared exactly INTEGER PRIMARY KEY.
BigId = BigInteger().with_variant(Integer(), "sqlite")
# JSONB on PostgreSQL: indexable and compact; plain JSON text elsewhere.
JSON_TYPE = JSON().with_variant(postgresql.JSONB(), "postgresql")


class UTCDateTime(TypeDecorator[datetime]):
    """Aware datetimes in, aware UTC datetimes out, on every backend (SQLite keeps no zone of its own)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to a UTC column")
        return value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)


class ApiKey(Base):
    """A producer's or reader's credential. Only a SHA-256 of the secret is kept; the key id is its public part."""

    __tablename__ = "api_keys"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    key_id: Mapped[str] = mapped_column(String(32), unique=True)
    secret_sha256: Mapped[str] = mapped_column(String(64))
    scope: Mapped[str] = mapped_column(String(16))
    sensor_id: Mapped[str | None] = mapped_column(String(128))
    description: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class IngestBatch(Base):
    """One accepted batch; its id makes a re-sent batch a no-op."""

    __tablename__ = "ingest_batches"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    batch_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    api_key_id: Mapped[int] = mapped_column(ForeignKey("api_keys.id"))
    schema_version: Mapped[str] = mapped_column(String(16))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    event_count: Mapped[int] = mapped_column(Integer)
    stored_count: Mapped[int] = mapped_column(Integer)


class StoredEvent(Base):
    """Every event kind in one table: the columns queries filter on, and the rest of the event as JSON."""

    __tablename__ = "events"
    __table_args__ = (
        Index("ix_events_occurred_at_id", "occurred_at", "id"),
        Index("ix_events_tool_id_occurred_at", "tool_id", "occurred_at"),
        Index("ix_events_client_occurred_at", "client", "occurred_at"),
        Index("ix_events_source_id_occurred_at", "source_id", "occurred_at"),
        # The exposure report counts prompts, pastes and uploads per month, client and tool: an index-only scan.
        Index("ix_events_kind_occurred_at_client", "kind", "occurred_at", "client", "tool_id"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(Uuid, unique=True)
    batch_id: Mapped[int] = mapped_column(ForeignKey("ingest_batches.id"), index=True)
    kind: Mapped[str] = mapped_column(String(32))
    # The sensor id for network events, the device id for browser events.
    source_id: Mapped[str] = mapped_column(String(128))
    # The client IP for network events; the user (or else the device) for browser events.
    client: Mapped[str] = mapped_column(String(256))
    tool_id: Mapped[str | None] = mapped_column(String(128))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    bytes_up: Mapped[int] = mapped_column(BigInteger, default=0)
    bytes_down: Mapped[int] = mapped_column(BigInteger, default=0)
    # Flows summed into the event: a sensor sends one event per client x tool x window.
    flow_count: Mapped[int] = mapped_column(BigInteger, default=1, server_default="1")
    detail: Mapped[dict[str, Any]] = mapped_column(JSON_TYPE)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class EventExposure(Base):
    """A category of sensitive data one event sent to a tool: the rows the exposure model counts.

    Copies the event columns the model groups by, so a million-event window aggregates from one narrow table.
    """

    __tablename__ = "event_exposures"
    __table_args__ = (
        UniqueConstraint("event_id", "category"),
        Index("ix_event_exposures_occurred_at", "occurred_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.event_id"))
    category: Mapped[str] = mapped_column(String(32))
    tool_id: Mapped[str | None] = mapped_column(String(128))
    client: Mapped[str] = mapped_column(String(256))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    # Keyed hash of the text: the same text pasted again is the same exposure.
    text_hmac: Mapped[str | None] = mapped_column(String(64))


class EventSubject(Base):
    """A keyed hash standing for one person found in an event's text: counts distinct people, reveals none."""

    __tablename__ = "event_subjects"
    __table_args__ = (UniqueConstraint("event_id", "subject_hash"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.event_id"), index=True)
    subject_hash: Mapped[str] = mapped_column(String(32))


class EnrolmentToken(Base):
    """A one-time (or few-times) secret an admin hands to browser extensions to enrol; only its SHA-256 is kept."""

    __tablename__ = "enrolment_tokens"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    description: Mapped[str | None] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    uses_left: Mapped[int] = mapped_column(Integer)


class PolicyChange(Base):
    """Append-only history of the organisation's AI-tool policy: every change is a new version."""

    __tablename__ = "policy_changes"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)  # the policy version this change created
    subject_kind: Mapped[str] = mapped_column(String(16))  # tool | category | default
    subject: Mapped[str] = mapped_column(String(128))
    old_status: Mapped[str | None] = mapped_column(String(16))
    new_status: Mapped[str | None] = mapped_column(String(16))  # None: the entry was removed
    actor: Mapped[str] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(String(1000))
    changed_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class PolicyEntry(Base):
    """The policy in force: one status per tool, per category, and the default."""

    __tablename__ = "policy_entries"
    __table_args__ = (UniqueConstraint("subject_kind", "subject"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    subject_kind: Mapped[str] = mapped_column(String(16))
    subject: Mapped[str] = mapped_column(String(128))
    status: Mapped[str] = mapped_column(String(16))
    change_id: Mapped[int] = mapped_column(ForeignKey("policy_changes.id"))


class User(Base):
    """A person who signs in to the console or API: admin, reviewer or read_only. Only an Argon2id hash is kept."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    password_hash: Mapped[str] = mapped_column(String(256))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    password_changed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    disabled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class UserSession(Base):
    """A signed-in browser or API client. The token is 256 random bits; only its SHA-256 is stored."""

    __tablename__ = "user_sessions"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class Alert(Base):
    """One detection rule firing for one group (person or host, tool), with repeats folded in as a count."""

    __tablename__ = "alerts"
    __table_args__ = (
        # The queue: open alerts, newest activity first.
        Index("ix_alerts_status_last_seen", "status", "last_seen"),
        # Folding a repeat into the open alert of its rule and group.
        Index("ix_alerts_rule_id_group_key_last_seen", "rule_id", "group_key", "last_seen"),
        Index("ix_alerts_tool_id_last_seen", "tool_id", "last_seen"),
        Index("ix_alerts_client_last_seen", "client", "last_seen"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    rule_id: Mapped[str] = mapped_column(String(36))
    severity: Mapped[str] = mapped_column(String(16))  # the rule's level when the alert was raised
    status: Mapped[str] = mapped_column(String(16), default="new", server_default="new")
    resolution: Mapped[str | None] = mapped_column(String(32))
    # The rule's group_by values as canonical JSON: what makes repeats "the same" alert.
    group_key: Mapped[str] = mapped_column(String(600))
    client: Mapped[str | None] = mapped_column(String(256))
    tool_id: Mapped[str | None] = mapped_column(String(128))
    source_id: Mapped[str | None] = mapped_column(String(128))
    first_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    last_seen: Mapped[datetime] = mapped_column(UTCDateTime)
    event_count: Mapped[int] = mapped_column(Integer, default=1)
    # Labels and entity types seen across the folded events: enough to triage without opening the evidence.
    labels: Mapped[list[str]] = mapped_column(JSON_TYPE, default=list)
    entity_types: Mapped[list[str]] = mapped_column(JSON_TYPE, default=list)
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class AlertEvent(Base):
    """Evidence: an event folded into an alert (the first EVIDENCE_LIMIT of them; the count goes on)."""

    __tablename__ = "alert_events"
    __table_args__ = (UniqueConstraint("alert_id", "event_id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    event_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("events.event_id"), index=True)


class AlertComment(Base):
    __tablename__ = "alert_comments"

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"), index=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    body: Mapped[str] = mapped_column(String(4000))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())


class AuditEntry(Base):
    """Append-only record of who changed what: alert workflow, users, policy. Nothing updates or deletes it."""

    __tablename__ = "audit_log"
    __table_args__ = (Index("ix_audit_log_subject_kind_subject_id_id", "subject_kind", "subject_id", "id"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    actor: Mapped[str] = mapped_column(String(256))  # "user:alice", "key:<key id>", "system"
    action: Mapped[str] = mapped_column(String(48))  # e.g. alert.created, alert.status, alert.assigned
    subject_kind: Mapped[str] = mapped_column(String(32))  # alert | user | session
    subject_id: Mapped[str] = mapped_column(String(64))
    from_value: Mapped[str | None] = mapped_column(String(256))
    to_value: Mapped[str | None] = mapped_column(String(256))
    reason: Mapped[str | None] = mapped_column(String(1000))


class AlertDelivery(Base):
    """Outbox: one row per alert and destination, so a notice is sent once and retried until delivered."""

    __tablename__ = "alert_deliveries"
    __table_args__ = (
        UniqueConstraint("alert_id", "destination"),
        Index("ix_alert_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
    )

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    alert_id: Mapped[int] = mapped_column(ForeignKey("alerts.id"))
    destination: Mapped[str] = mapped_column(String(64))
    delivery_id: Mapped[uuid.UUID] = mapped_column(Uuid, default=uuid.uuid4)
    status: Mapped[str] = mapped_column(String(16), default="pending")  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    next_attempt_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, server_default=func.now())
    delivered_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class DetectionWatermark(Base):
    """How far a windowed rule has been evaluated: the next run starts here, so no window is counted twice."""

    __tablename__ = "detection_watermarks"

    rule_id: Mapped[str] = mapped_column(String(36), primary_key=True)
    evaluated_until: Mapped[datetime] = mapped_column(UTCDateTime)


class SchedulerLease(Base):
    """Which process runs the scheduled jobs: the holder renews before `expires_at`; others wait for it to lapse."""

    __tablename__ = "scheduler_leases"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    holder: Mapped[str] = mapped_column(String(128))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DailyUsage(Base):
    """Daily rollup per tool and event kind: the overview's trend without scanning the events."""

    __tablename__ = "daily_usage"
    __table_args__ = (UniqueConstraint("day", "tool_id", "kind"),)

    id: Mapped[int] = mapped_column(BigId, primary_key=True)
    day: Mapped[date] = mapped_column(Date)
    tool_id: Mapped[str] = mapped_column(String(128))  # "" for events of no catalogued tool
    kind: Mapped[str] = mapped_column(String(32))
    events: Mapped[int] = mapped_column(BigInteger)
    clients: Mapped[int] = mapped_column(Integer)
    bytes_up: Mapped[int] = mapped_column(BigInteger)


class ProducerHeartbeat(Base):
    """The newest heartbeat of each sensor and browser extension: liveness, version and the spool it holds back.

    One row per producer, overwritten by each newer heartbeat (a late, older one changes nothing).
    """

    __tablename__ = "producer_health"

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # sensor | extension
    producer_id: Mapped[str] = mapped_column(String(128), primary_key=True)  # sensor id or device id
    version: Mapped[str] = mapped_column(String(64))
    sent_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    spool_batches: Mapped[int] = mapped_column(BigInteger)
    spool_bytes: Mapped[int] = mapped_column(BigInteger)
    dropped_for_space: Mapped[int] = mapped_column(BigInteger)
    rejected: Mapped[int] = mapped_column(BigInteger)
    oldest_spooled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    packets: Mapped[int | None] = mapped_column(BigInteger)
    events: Mapped[int | None] = mapped_column(BigInteger)
    capture_interface: Mapped[str | None] = mapped_column(String(256))
    capture_drops: Mapped[int | None] = mapped_column(BigInteger)
