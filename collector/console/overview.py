"""The overview: which AI tools are in use, sanctioned or not, the daily trend, and the exposure headline."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date, timedelta

from sqlalchemy.orm import Session

from collector.console.usage_days import DayToolUsage, usage_by_day
from collector.policy import Policy, ToolStatus
from rules.catalog import Catalog

WINDOW_DAYS = 30
UNCATALOGUED = "uncatalogued"  # the status column of events no catalogued tool matched
STATUS_ORDER = (ToolStatus.UNSANCTIONED.value, ToolStatus.TOLERATED.value, ToolStatus.SANCTIONED.value, UNCATALOGUED)


@dataclass(slots=True)
class ToolInUse:
    tool_id: str
    name: str
    vendor: str
    category: str
    status: str
    decided_by: str
    events: int = 0
    bytes_up: int = 0
    peak_people: int = 0
    last_day: date | None = None


@dataclass(frozen=True, slots=True)
class TrendBar:
    """One stacked segment of the trend chart, in SVG user units (the template only draws)."""

    status: str
    x: float
    y: float
    height: float
    events: int


@dataclass(frozen=True, slots=True)
class TrendDay:
    day: date
    by_status: dict[str, int]
    bars: tuple[TrendBar, ...]

    @property
    def total(self) -> int:
        return sum(self.by_status.values())


@dataclass(frozen=True, slots=True)
class StatusTotal:
    status: str
    tools: int
    events: int


@dataclass(frozen=True, slots=True)
class Overview:
    first: date
    last: date
    tools: list[ToolInUse]
    totals: list[StatusTotal]
    trend: list[TrendDay]
    trend_max: int
    chart: dict[str, float] = field(default_factory=dict)


CHART_WIDTH, CHART_HEIGHT, BAR_GAP = 600.0, 120.0, 2.0


def _tool_rows(usage: list[DayToolUsage], catalog: Catalog, policy: Policy) -> dict[str, ToolInUse]:
    tools: dict[str, ToolInUse] = {}
    for row in usage:
        tool = tools.get(row.tool_id)
        if tool is None:
            entry = catalog.tools.get(row.tool_id)
            if entry is None:
                # Events the sensor saw but no catalogued tool claims (or a tool an overlay has since removed).
                name = row.tool_id or "Uncatalogued AI traffic"
                tool = ToolInUse(row.tool_id, name, "—", "—", UNCATALOGUED, "not in the catalog")
            else:
                status, decided_by = policy.resolve(entry.tool.id, entry.tool.category.value)
                tool = ToolInUse(
                    entry.tool.id, entry.tool.name, entry.tool.vendor, entry.tool.category.value, status, decided_by
                )
            tools[row.tool_id] = tool
        tool.events += row.events
        tool.bytes_up += row.bytes_up
        tool.peak_people = max(tool.peak_people, row.people)
        tool.last_day = row.day if tool.last_day is None else max(tool.last_day, row.day)
    return tools


def _trend(usage: list[DayToolUsage], tools: dict[str, ToolInUse], first: date, last: date) -> list[TrendDay]:
    per_day: dict[date, dict[str, int]] = defaultdict(lambda: dict.fromkeys(STATUS_ORDER, 0))
    for row in usage:
        per_day[row.day][tools[row.tool_id].status] += row.events
    days = [first + timedelta(days=offset) for offset in range((last - first).days + 1)]
    peak = max((sum(per_day[day].values()) for day in days), default=0) or 1
    slot = CHART_WIDTH / len(days)
    trend: list[TrendDay] = []
    for index, day in enumerate(days):
        counts = per_day[day]
        bars: list[TrendBar] = []
        bottom = CHART_HEIGHT
        for status in STATUS_ORDER:  # unsanctioned at the bottom: the part a reviewer reads first
            if counts[status]:
                height = max(CHART_HEIGHT * counts[status] / peak, 1.0)
                bottom -= height
                bars.append(
                    TrendBar(
                        status, round(index * slot + BAR_GAP / 2, 2), round(bottom, 2), round(height, 2), counts[status]
                    )
                )
        trend.append(TrendDay(day, dict(counts), tuple(bars)))
    return trend


def build_overview(session: Session, catalog: Catalog, policy: Policy, today: date) -> Overview:
    first = today - timedelta(days=WINDOW_DAYS - 1)
    usage = usage_by_day(session, first, today)
    tools = _tool_rows(usage, catalog, policy)
    ranked = sorted(tools.values(), key=lambda t: (STATUS_ORDER.index(t.status), -t.events, t.name))
    totals = [
        StatusTotal(
            status,
            sum(1 for t in ranked if t.status == status),
            sum(t.events for t in ranked if t.status == status),
        )
        for status in STATUS_ORDER
    ]
    trend = _trend(usage, tools, first, today)
    slot = CHART_WIDTH / len(trend)
    return Overview(
        first=first,
        last=today,
        tools=ranked,
        totals=totals,
        trend=trend,
        trend_max=max((day.total for day in trend), default=0),
        chart={"width": CHART_WIDTH, "height": CHART_HEIGHT, "bar": round(slot - BAR_GAP, 2)},
    )
