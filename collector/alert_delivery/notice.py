"""What leaves the collector about an alert: ids, counts, times and labels, never a text, snippet or identifier value.

Every channel (webhook, syslog/CEF, e-mail) renders this one type, so what a receiver can learn about an alert is
decided here and nowhere else.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final, Literal, get_args

SCHEMA_ID: Final = "shadowscope/alert-notice/v1"

Level = Literal["low", "medium", "high", "critical"]
LEVELS: Final[tuple[Level, ...]] = get_args(Level)


@dataclass(frozen=True, slots=True, kw_only=True)
class AlertNotice:
    """An alert as told to the outside. `subject` is the grouped person or host, pseudonymous as stored."""

    alert_id: int
    rule_id: str
    title: str
    level: Level
    status: str
    tool_id: str | None
    tool_name: str | None
    subject: str
    count: int
    first_seen: datetime
    last_seen: datetime
    labels: tuple[str, ...]
    entity_types: tuple[str, ...]
    console_url: str | None

    def __post_init__(self) -> None:
        # Checked here so a bad notice fails where it is built, not half-way through a fan-out to three channels.
        if self.level not in LEVELS:
            raise ValueError(f"level must be one of {', '.join(LEVELS)}, not {self.level!r}")
        if not self.rule_id:
            raise ValueError("rule_id is empty")
        if self.count < 0:
            raise ValueError("count is negative")
        for name in ("first_seen", "last_seen"):
            if getattr(self, name).tzinfo is None:
                raise ValueError(f"{name} is a naive datetime; give an aware one (UTC)")
        if self.last_seen < self.first_seen:
            raise ValueError("last_seen is before first_seen")
        # Lists would make the frozen notice mutable after all and break hashing.
        for name in ("labels", "entity_types"):
            if not isinstance(getattr(self, name), tuple):
                raise TypeError(f"{name} must be a tuple of str")

    def as_json(self) -> dict[str, Any]:
        """The webhook payload: JSON-ready, times as ISO 8601 in UTC, keys fixed by SCHEMA_ID."""
        return {
            "schema": SCHEMA_ID,
            "alert_id": self.alert_id,
            "rule_id": self.rule_id,
            "title": self.title,
            "level": self.level,
            "status": self.status,
            "tool_id": self.tool_id,
            "tool_name": self.tool_name,
            "subject": self.subject,
            "count": self.count,
            "first_seen": utc_iso(self.first_seen),
            "last_seen": utc_iso(self.last_seen),
            "labels": list(self.labels),
            "entity_types": list(self.entity_types),
            "console_url": self.console_url,
        }


def utc_iso(moment: datetime) -> str:
    """ISO 8601 in UTC with a `Z`: one spelling for every receiver, whatever zone the collector ran in."""
    return moment.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
