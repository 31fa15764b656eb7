"""An AlertNotice as an ArcSight CEF line, escaped per the CEF spec so SIEM parsers split it where we meant.

Header fields escape `\\` and `|`; extension values escape `\\`, `=` and line breaks (as `\\n`, `\\r`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Final

from collector.alert_delivery.notice import AlertNotice, Level
from collector.alert_delivery.version import PRODUCT_VERSION

VENDOR: Final = "ShadowScope"
PRODUCT: Final = "ShadowScope"

# CEF's 0-10 scale reads 0-3 low, 4-6 medium, 7-8 high, 9-10 very high.
CEF_SEVERITY: Final[dict[Level, int]] = {"low": 3, "medium": 5, "high": 8, "critical": 10}


def escape_header(value: str) -> str:
    # Line breaks cannot be escaped in a header field; a space keeps the line one line.
    value = value.replace("\r\n", " ").replace("\r", " ").replace("\n", " ")
    return value.replace("\\", "\\\\").replace("|", "\\|")


def escape_extension(value: str) -> str:
    # Backslash first, or the backslashes added for `=` would be doubled again.
    value = value.replace("\\", "\\\\").replace("=", "\\=")
    return value.replace("\r\n", "\\n").replace("\n", "\\n").replace("\r", "\\r")


def epoch_ms(moment: datetime) -> str:
    """CEF's time keys take milliseconds since the Unix epoch, which needs no zone or format agreement."""
    return str(round(moment.timestamp() * 1000))


def extension_fields(notice: AlertNotice) -> list[tuple[str, str]]:
    """Standard CEF keys where one fits; custom strings with labels for the rest. Empty fields are left out."""
    fields: list[tuple[str, str]] = [
        ("externalId", str(notice.alert_id)),
        ("cat", "shadowscope/alert"),
        ("cnt", str(notice.count)),
        ("start", epoch_ms(notice.first_seen)),
        ("end", epoch_ms(notice.last_seen)),
        ("cs1Label", "subject"),
        ("cs1", notice.subject),
        ("cs2Label", "level"),
        ("cs2", notice.level),
        ("cs3Label", "status"),
        ("cs3", notice.status),
    ]
    if notice.tool_name is not None:
        fields.append(("destinationServiceName", notice.tool_name))
    if notice.tool_id is not None:
        fields += [("cs4Label", "toolId"), ("cs4", notice.tool_id)]
    if notice.labels:
        fields += [("cs5Label", "labels"), ("cs5", ",".join(notice.labels))]
    if notice.entity_types:
        fields += [("cs6Label", "entityTypes"), ("cs6", ",".join(notice.entity_types))]
    if notice.console_url is not None:
        # `request` is CEF's URL key; SIEMs show it as a link, here back to the alert in the console.
        fields.append(("request", notice.console_url))
    return fields


def format_cef(notice: AlertNotice) -> str:
    header = [
        "CEF:0",
        escape_header(VENDOR),
        escape_header(PRODUCT),
        escape_header(PRODUCT_VERSION),
        escape_header(notice.rule_id),
        escape_header(notice.title),
        str(CEF_SEVERITY[notice.level]),
    ]
    extension = " ".join(f"{key}={escape_extension(value)}" for key, value in extension_fields(notice))
    return "|".join(header) + "|" + extension
