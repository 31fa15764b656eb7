"""Collector settings: environment (prefix SHADOWSCOPE_COLLECTOR_), an optional TOML file, then defaults."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator
from pydantic_settings import (
    BaseSettings,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
    TomlConfigSettingsSource,
)

from collector.job_settings import DeliverySettings, ReportSettings, RetentionSettings, SchedulerSettings

ENV_PREFIX = "SHADOWSCOPE_COLLECTOR_"
CONFIG_FILE_ENV = f"{ENV_PREFIX}CONFIG_FILE"


def default_data_dir() -> Path:
    base = os.environ.get("XDG_DATA_HOME") or Path.home() / ".local" / "share"
    return Path(base) / "shadowscope"


class CollectorSettings(BaseSettings):
    # `__` reaches into a section from the environment: SHADOWSCOPE_COLLECTOR_RETENTION__EVENTS_DAYS=90.
    model_config = SettingsConfigDict(env_prefix=ENV_PREFIX, env_nested_delimiter="__", extra="forbid", frozen=True)

    data_dir: Path = Field(
        default_factory=default_data_dir, description="Where the embedded SQLite database and keys live."
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL, e.g. postgresql+psycopg://user@host/db. Unset: SQLite in data_dir.",
    )
    max_body_bytes: int = Field(default=8 * 1024 * 1024, gt=0, description="Larger ingest bodies are refused with 413.")
    store_prompt_text: bool = Field(
        default=False,
        description="Keep raw prompt text in the database. Off: text is reduced to a keyed hash and length.",
    )
    classify_content: bool = Field(
        default=True,
        description="Classify prompt and paste text on arrival (labels, scores, entity counts, redacted snippet).",
    )
    classifier_ner: bool = Field(
        default=True, description="Use spaCy NER for people's names when classifying (off: patterns only)."
    )
    organisation_profile: Path | None = Field(
        default=None,
        description="Organisation profile YAML for the exposure report (default: the shipped example profile).",
    )
    extension_send_text: bool = Field(
        default=False,
        description="Let browser extensions send prompt text (classified here, then dropped). Off: they send "
        "labels, entity counts and a keyed hash computed on the device.",
    )
    extension_actions_file: Path | None = Field(
        default=None, description="Action table for the browser extension (default: rules/extension/actions.yaml)."
    )
    extension_redirect_tool: str | None = Field(
        default=None, max_length=64, description="Catalog id of the sanctioned tool a `redirect` action opens."
    )
    extension_batches_per_minute: int = Field(
        default=60, gt=0, le=6000, description="Telemetry batches one device may send per minute (429 beyond)."
    )
    session_idle_minutes: int = Field(
        default=30, gt=0, le=24 * 60, description="A console or API session ends after this long unused."
    )
    session_max_hours: int = Field(
        default=12, gt=0, le=24 * 30, description="A session ends this long after sign-in, however active."
    )
    login_max_failures: int = Field(
        default=5, gt=0, le=100, description="Failed sign-ins for one username before it is locked for a while."
    )
    login_lockout_minutes: int = Field(default=15, gt=0, le=24 * 60, description="How long that lock lasts.")
    auto_migrate: bool = Field(default=True, description="Upgrade the schema to head when the server starts.")
    query_page_max: int = Field(default=1000, gt=0, le=10_000)
    catalog_overlays: tuple[Path, ...] = Field(
        default=(), description="The deployment's own catalog files, laid over the shipped AI tool catalog."
    )
    run_scheduler: bool = Field(
        default=True,
        description="Run the scheduled jobs in this process. Several processes may: a lease in the database lets "
        "one of them run the jobs at a time (see docs/scheduler.md).",
    )
    scheduler: SchedulerSettings = Field(default_factory=SchedulerSettings)
    retention: RetentionSettings = Field(default_factory=RetentionSettings)
    reports: ReportSettings = Field(default_factory=ReportSettings)
    delivery: DeliverySettings = Field(default_factory=DeliverySettings)

    @field_validator("database_url")
    @classmethod
    def _no_blank_url(cls, value: str | None) -> str | None:
        return value or None

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite+pysqlite:///{self.data_dir / 'shadowscope.db'}"

    @property
    def hash_key_file(self) -> Path:
        return self.data_dir / "content-hash.key"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Precedence: explicit arguments, then the environment, then the TOML file (if load_settings named one).
        return (init_settings, env_settings, TomlConfigSettingsSource(settings_cls))


def load_settings(config_file: Path | None = None, **overrides: Any) -> CollectorSettings:
    """Build settings once per entry point; `overrides` set to None are left to the other sources.

    The TOML file is `config_file`, else the one SHADOWSCOPE_COLLECTOR_CONFIG_FILE names, else none.
    """
    settings_cls: type[CollectorSettings] = CollectorSettings
    if config_file is None and os.environ.get(CONFIG_FILE_ENV):
        config_file = Path(os.environ[CONFIG_FILE_ENV])
    if config_file is not None:
        if not config_file.is_file():
            raise FileNotFoundError(f"collector config file not found: {config_file}")

        class CollectorSettingsFromFile(CollectorSettings):
            model_config = SettingsConfigDict(**{**CollectorSettings.model_config, "toml_file": config_file})

        settings_cls = CollectorSettingsFromFile
    return settings_cls(**{k: v for k, v in overrides.items() if v is not None})
