"""The alert queue's filters as the page's query string: parsed into the queries module's AlertFilter, and back.

Every link on the page (status tabs, next page, the detail's "back to the queue") keeps the reviewer's filters.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from urllib.parse import urlencode

from collector.alerts.queries import ME, UNASSIGNED, AlertFilter
from collector.triage import Status

OPEN = "open"
ALL = "all"
SEVERITIES = ("critical", "high", "medium", "low")  # the detection rules' levels
OPEN_STATUSES = (Status.NEW, Status.TRIAGED, Status.ESCALATED)
TABS = (OPEN, *(status.value for status in Status), ALL)


@dataclass(frozen=True, slots=True)
class QueueQuery:
    """What the reviewer asked for, as typed: shown back in the form and kept in every link."""

    status: str = OPEN
    severity: str = ""
    tool: str = ""
    client: str = ""
    assignee: str = ""
    rule: str = ""

    @classmethod
    def parse(cls, params: Mapping[str, str]) -> QueueQuery:
        def text(name: str, limit: int) -> str:
            return (params.get(name) or "").strip()[:limit].replace("\x00", "")

        status = text("status", 16)
        severity = text("severity", 16)
        return cls(
            status=status if status in TABS else OPEN,
            severity=severity if severity in SEVERITIES else "",
            tool=text("tool", 128),
            client=text("client", 256),
            assignee=text("assignee", 64),
            rule=text("rule", 36),
        )

    def to_filter(self) -> AlertFilter:
        if self.status == OPEN:
            statuses: tuple[Status, ...] = OPEN_STATUSES
        elif self.status == ALL:
            statuses = ()
        else:
            statuses = (Status(self.status),)
        return AlertFilter(
            statuses=statuses,
            severities=(self.severity,) if self.severity else (),
            rule_id=self.rule or None,
            tool_id=self.tool or None,
            # A part of a name or an IP prefix ("10.1.") is what a reviewer types.
            client=self.client or None,
            client_contains=True,
            assignee=self.assignee or None,
        )

    def query_string(self, **changes: str) -> str:
        """The query string of this filter with `changes` applied; defaults left out so links stay short."""
        values = replace(self, **changes)
        pairs = [(name, getattr(values, name)) for name in ("status", "severity", "tool", "client", "assignee", "rule")]
        return urlencode([(name, value) for name, value in pairs if value and not (name == "status" and value == OPEN)])

    @property
    def narrowed(self) -> bool:
        return any((self.severity, self.tool, self.client, self.assignee, self.rule))


ASSIGNEE_CHOICES = ((ME, "Me"), (UNASSIGNED, "Unassigned"))
