"""Settings of the scheduled jobs: the scheduler itself, retention, scheduled reports and alert destinations.

Kept apart from collector/settings.py so that file stays a readable list of the collector's own switches. Secrets
(webhook keys, SMTP passwords) are never values here: a setting names the file or environment variable holding one,
and the delivery code reads it when it builds the channel (see collector/scheduling/destinations.py).
"""

from __future__ import annotations

import re
from datetime import UTC
from pathlib import Path
from typing import Final, Literal, Self
from urllib.parse import urlsplit

from apscheduler.triggers.cron import CronTrigger  # type: ignore[import-untyped]
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

Level = Literal["low", "medium", "high", "critical"]
EXPORT_FORMATS: Final = ("pdf", "xlsx", "csv", "json")
# Destination names go into alert_deliveries.destination (64 characters) and into logs: keep them plain.
DESTINATION_NAME = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,63}$")
ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class SettingsSection(BaseModel):
    # Frozen like the settings that hold it; unknown keys are typos, refused rather than silently ignored.
    model_config = ConfigDict(extra="forbid", frozen=True)


class SchedulerSettings(SettingsSection):
    lease_seconds: int = Field(
        default=60,
        ge=3,
        le=3600,
        description="How long the scheduler lease lasts; the holder renews it every third of this. A dead "
        "holder's jobs are taken over at most this long after it stopped renewing.",
    )
    misfire_grace_seconds: int = Field(
        default=30, ge=1, le=86_400, description="A run that could not start on time still starts this late."
    )
    rule_evaluation_seconds: int = Field(default=60, ge=1, le=3600, description="How often windowed rules run.")
    rollup_minutes: int = Field(default=60, ge=1, le=24 * 60, description="How often daily rollups are brought up.")
    rollup_late_days: int = Field(
        default=7,
        ge=1,
        le=90,
        description="Closed days recomputed on every rollup run, so events that arrive late are still counted.",
    )
    purge_minutes: int = Field(default=60, ge=1, le=24 * 60, description="How often the retention purge runs.")
    delivery_seconds: int = Field(default=15, ge=1, le=3600, description="How often alert notices are sent.")
    catalog_reload_seconds: int = Field(
        default=60,
        ge=0,
        le=86_400,
        description="How often every collector process checks its catalog overlay files for changes (0: never).",
    )


class RetentionSettings(SettingsSection):
    """Days each kind of data is kept. A purge run deletes everything older, in chunks."""

    # 13 months: the board report prices a trailing year of exposure, and the month being reported must still be
    # whole when the report runs early in the next one. Shorter periods shrink what the exposure model sees.
    events_days: int = Field(
        default=400,
        ge=1,
        description="Events by when they occurred, with their exposures, subjects and alert evidence links; "
        "ingest batch records go once their events have.",
    )
    closed_alerts_days: int = Field(
        default=365,
        ge=1,
        description="Resolved or dismissed alerts, counted from their last activity or change, with comments and "
        "delivery records. Open alerts are never purged.",
    )
    sessions_days: int = Field(default=30, ge=1, description="Console sessions, counted from when they ended.")
    deliveries_days: int = Field(default=90, ge=1, description="Alert delivery records, counted from creation.")
    audit_days: int = Field(default=730, ge=1, description="Audit log entries.")
    daily_usage_days: int = Field(default=1095, ge=1, description="Daily usage rollups.")
    chunk_rows: int = Field(
        default=2000,
        ge=10,
        le=50_000,
        description="Rows deleted per transaction, so a big purge never holds a long lock.",
    )


class ReportSettings(SettingsSection):
    """Scheduled exposure reports: off unless `directory` is set."""

    directory: Path | None = Field(
        default=None, description="Where scheduled reports are written, one folder per window."
    )
    schedule: str = Field(
        default="0 6 1 * *", description="When, as a crontab line in UTC (default: 06:00 on the 1st of the month)."
    )
    window: Literal["last_month", "rolling"] = Field(
        default="last_month", description="The last full calendar month, or the `rolling_days` up to yesterday."
    )
    rolling_days: int = Field(default=30, ge=1, le=3660)
    formats: tuple[str, ...] = Field(default=EXPORT_FORMATS, min_length=1)
    trials: int = Field(default=100_000, ge=1000, le=5_000_000)
    seed: int = Field(default=20261125, ge=0)

    @field_validator("schedule")
    @classmethod
    def _valid_crontab(cls, value: str) -> str:
        try:
            CronTrigger.from_crontab(value, timezone=UTC)
        except ValueError as error:
            raise ValueError(f"not a crontab line (minute hour day month weekday): {error}") from error
        return value

    @field_validator("formats")
    @classmethod
    def _known_formats(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [name for name in value if name not in EXPORT_FORMATS]
        if unknown:
            raise ValueError(f"unknown format {', '.join(unknown)}; known: {', '.join(EXPORT_FORMATS)}")
        return value

    @property
    def enabled(self) -> bool:
        return self.directory is not None


class Destination(SettingsSection):
    name: str = Field(description="Names the destination in the outbox and in logs; unique across destinations.")
    min_severity: Level = Field(default="high", description="Alerts at this level or above are sent here.")

    @field_validator("name")
    @classmethod
    def _plain_name(cls, value: str) -> str:
        if not DESTINATION_NAME.match(value):
            raise ValueError("use 1-64 lower-case letters, digits, '.', '_' or '-', starting with a letter or digit")
        return value


class SecretSource(SettingsSection):
    """Exactly one of a file or an environment variable holds the secret; its value is read by the channel."""

    file: Path | None = None
    env: str | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Self:
        if (self.file is None) == (self.env is None):
            raise ValueError("give exactly one of `file` or `env`")
        if self.env is not None and not ENV_NAME.match(self.env):
            raise ValueError(f"{self.env!r} is not an environment variable name")
        return self


class WebhookDestinationSettings(Destination):
    name: str = "webhook"
    # Kept out of repr: webhook URLs often carry a token.
    url: str = Field(repr=False)
    secret: SecretSource = Field(description="The HMAC key, from a file or an environment variable.")
    ca_file: Path | None = Field(default=None, description="Trust this CA (PEM) for https, instead of the system's.")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    @field_validator("url")
    @classmethod
    def _http_url(cls, value: str) -> str:
        parts = urlsplit(value)
        if parts.scheme not in {"http", "https"} or not parts.hostname:
            # The URL itself is not repeated: it may carry a token.
            raise ValueError("webhook url must be an http:// or https:// URL with a host")
        return value


class SyslogDestinationSettings(Destination):
    name: str = "syslog"
    host: str = Field(min_length=1)
    port: int = Field(default=514, ge=1, le=65535)
    transport: Literal["udp", "tcp", "tls"] = "udp"
    ca_file: Path | None = Field(default=None, description="For tls: trust this CA (PEM) instead of the system's.")
    facility: int = Field(default=16, ge=0, le=23, description="Syslog facility; 16 is local0.")
    hostname: str | None = Field(default=None, description="HOSTNAME sent in each message (default: this host).")
    timeout_seconds: float = Field(default=10.0, gt=0, le=300)

    @model_validator(mode="after")
    def _ca_only_with_tls(self) -> Self:
        if self.ca_file is not None and self.transport != "tls":
            raise ValueError("ca_file is only used with transport = 'tls'")
        return self


class EmailDestinationSettings(Destination):
    name: str = "email"
    host: str = Field(min_length=1)
    port: int = Field(default=587, ge=1, le=65535)
    sender: str = Field(min_length=3, description="The From address.")
    recipients: tuple[str, ...] = Field(min_length=1)
    security: Literal["starttls", "tls", "none"] = "starttls"
    ca_file: Path | None = Field(default=None, description="Trust this CA (PEM) instead of the system's.")
    username: str | None = None
    password: SecretSource | None = Field(default=None, description="The SMTP password, from a file or env.")
    timeout_seconds: float = Field(default=30.0, gt=0, le=300)

    @model_validator(mode="after")
    def _credentials(self) -> Self:
        if (self.username is None) != (self.password is None):
            raise ValueError("give both username and password, or neither")
        if self.username is not None and self.security == "none":
            raise ValueError("refusing to send an SMTP password without TLS; use security 'starttls' or 'tls'")
        if self.ca_file is not None and self.security == "none":
            raise ValueError("ca_file needs security 'starttls' or 'tls'")
        return self


class DeliverySettings(SettingsSection):
    """Where alert notices go. Each destination gets one outbox row per alert and is retried on its own."""

    webhooks: tuple[WebhookDestinationSettings, ...] = ()
    syslog: tuple[SyslogDestinationSettings, ...] = ()
    email: tuple[EmailDestinationSettings, ...] = ()
    max_attempts: int = Field(default=8, ge=1, le=100, description="Attempts before a notice is marked failed.")
    retry_base_seconds: float = Field(default=30.0, ge=0, description="First retry after about this long.")
    retry_max_seconds: float = Field(default=3600.0, ge=0, description="Retries are never further apart.")
    lookback_hours: int = Field(
        default=24,
        ge=1,
        le=24 * 90,
        description="Only alerts raised this recently are queued, so a newly added destination is not flooded "
        "with old alerts.",
    )
    batch_size: int = Field(default=100, ge=1, le=10_000, description="Notices sent per delivery run at most.")
    console_url: str | None = Field(
        default=None,
        description="Link to an alert in the console, with {alert_id}, e.g. https://shadowscope.example/alerts/"
        "{alert_id}.",
    )

    @model_validator(mode="after")
    def _consistent(self) -> Self:
        names = [destination.name for destination in self.destinations]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise ValueError(f"destination names must be unique; repeated: {', '.join(repeated)}")
        if self.retry_max_seconds < self.retry_base_seconds:
            raise ValueError("retry_max_seconds is below retry_base_seconds")
        if self.console_url is not None and "{alert_id}" not in self.console_url:
            raise ValueError("console_url must contain {alert_id}")
        return self

    @property
    def destinations(self) -> tuple[Destination, ...]:
        return (*self.webhooks, *self.syslog, *self.email)
