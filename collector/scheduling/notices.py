"""An AlertNotice from a stored alert: the aggregates the alert row holds, never an event's text or snippet."""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Final, cast

from collector.alert_delivery import AlertNotice, Level
from collector.alert_delivery.notice import LEVELS
from collector.models import Alert
from rules.catalog import Catalog
from rules.detection_rules import DetectionRulesError, load_detection_rules

log = logging.getLogger(__name__)

RANK: Final[dict[str, int]] = {level: rank for rank, level in enumerate(LEVELS)}


def levels_at_or_above(minimum: Level) -> list[Level]:
    return [level for level in LEVELS if RANK[level] >= RANK[minimum]]


def rule_titles() -> dict[str, str]:
    """Rule id -> title, for the notice's title; rules that fail to load leave notices titled by rule id."""
    try:
        return {str(loaded.rule.id): loaded.rule.title for loaded in load_detection_rules()}
    except DetectionRulesError as error:
        log.error("detection rules do not load; alert notices carry rule ids as titles:\n%s", error)  # noqa: TRY400
        return {}


def notice_for(alert: Alert, titles: Mapping[str, str], catalog: Catalog, console_url: str | None) -> AlertNotice:
    entry = catalog.tools.get(alert.tool_id) if alert.tool_id else None
    if alert.severity not in RANK:
        raise ValueError(f"alert {alert.id} has severity {alert.severity!r}, not one of {', '.join(LEVELS)}")
    return AlertNotice(
        alert_id=alert.id,
        rule_id=alert.rule_id,
        title=titles.get(alert.rule_id, alert.rule_id),
        level=cast(Level, alert.severity),
        status=alert.status,
        tool_id=alert.tool_id,
        tool_name=entry.tool.name if entry is not None else None,
        # The grouped person or host as stored (pseudonymous where the collector stores it so).
        subject=alert.client or alert.source_id or alert.group_key,
        count=alert.event_count,
        first_seen=alert.first_seen,
        last_seen=alert.last_seen,
        labels=tuple(alert.labels or ()),
        entity_types=tuple(alert.entity_types or ()),
        console_url=console_url.replace("{alert_id}", str(alert.id)) if console_url else None,
    )
