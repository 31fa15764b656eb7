"""Build the exposure model's inventory from stored events, aggregated in the database.

Every figure is a GROUP BY over `event_exposures` (one narrow row per labelled event and category) and
`event_subjects` (keyed hashes of the people in it), so a window of a million events aggregates without loading
them. Nothing that leaves here names a person or quotes a text.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, TypeVar

from sqlalchemy import ColumnElement, Select, distinct, exists, func, select
from sqlalchemy.orm import Session

from collector.models import EventExposure, EventSubject, StoredEvent
from collector.policy import current_policy
from exposure.inventory import Category, Exposure, Inventory, Tool
from rules.catalog import Catalog

CONTENT_KINDS = ("prompt", "paste", "upload")
UNASSIGNED = "unassigned"
_CellKey = tuple[str, str | None]
S = TypeVar("S", bound=Select[*tuple[Any, ...]])


@dataclass(frozen=True, slots=True)
class Window:
    start: date
    end: date  # inclusive

    @property
    def bounds(self) -> tuple[datetime, datetime]:
        return datetime.combine(self.start, time(), UTC), datetime.combine(self.end + timedelta(days=1), time(), UTC)


def _month(session: Session, column: Any) -> ColumnElement[str]:
    if session.get_bind().dialect.name == "postgresql":
        return func.to_char(column, "YYYY-MM")
    return func.strftime("%Y-%m", column)


def _in_window(statement: S, column: Any, window: Window) -> S:
    start, end = window.bounds
    return statement.where(column >= start, column < end)


def _cells(session: Session, window: Window) -> dict[_CellKey, dict[str, int]]:
    x = EventExposure
    cells: dict[_CellKey, dict[str, int]] = {}
    counts = select(
        x.category, x.tool_id, func.count(), func.count(distinct(x.client)), func.count(distinct(x.text_hmac))
    )
    for category, tool_id, events, users, texts in session.execute(
        _in_window(counts, x.occurred_at, window).group_by(x.category, x.tool_id)
    ):
        cells[(category, tool_id)] = {"events": events, "users": users, "texts": texts, "subjects": 0, "bare": 0}
    subjects = select(x.category, x.tool_id, func.count(distinct(EventSubject.subject_hash))).join(
        EventSubject, EventSubject.event_id == x.event_id
    )
    for category, tool_id, count in session.execute(
        _in_window(subjects, x.occurred_at, window).group_by(x.category, x.tool_id)
    ):
        cells[(category, tool_id)]["subjects"] = count
    no_subject = ~exists().where(EventSubject.event_id == x.event_id)
    bare = select(x.category, x.tool_id, func.count(distinct(x.text_hmac))).where(no_subject)
    for category, tool_id, count in session.execute(
        _in_window(bare, x.occurred_at, window).group_by(x.category, x.tool_id)
    ):
        cells[(category, tool_id)]["bare"] = count
    return cells


def _by_month(session: Session, window: Window) -> dict[_CellKey, dict[str, int]]:
    x = EventExposure
    month = _month(session, x.occurred_at)
    statement = _in_window(select(x.category, x.tool_id, month, func.count()), x.occurred_at, window)
    result: dict[_CellKey, dict[str, int]] = defaultdict(dict)
    for category, tool_id, key, count in session.execute(statement.group_by(x.category, x.tool_id, month)):
        result[(category, tool_id)][key] = count
    return result


def _by_department(
    session: Session, window: Window, departments: Mapping[str, str]
) -> tuple[dict[_CellKey, dict[str, int]], dict[_CellKey, dict[str, int]]]:
    """Events and people per department: clients are grouped in the database, mapped to departments here."""
    x = EventExposure
    events: dict[_CellKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    people: dict[_CellKey, dict[str, int]] = defaultdict(lambda: defaultdict(int))
    per_client = _in_window(select(x.category, x.tool_id, x.client, func.count()), x.occurred_at, window)
    for category, tool_id, client, count in session.execute(per_client.group_by(x.category, x.tool_id, x.client)):
        events[(category, tool_id)][departments.get(client, UNASSIGNED)] += count
    subjects = select(x.category, x.tool_id, x.client, func.count(distinct(EventSubject.subject_hash))).join(
        EventSubject, EventSubject.event_id == x.event_id
    )
    for category, tool_id, client, count in session.execute(
        _in_window(subjects, x.occurred_at, window).group_by(x.category, x.tool_id, x.client)
    ):
        people[(category, tool_id)][departments.get(client, UNASSIGNED)] += count
    return events, people


def _tool(tool_id: str | None, catalog: Catalog, status: str) -> Tool:
    entry = catalog.tools.get(tool_id) if tool_id else None
    if entry is None:
        return Tool(tool_id or "uncatalogued", tool_id or "Uncatalogued sites", None, status, None, None)
    facts = entry.tool.facts

    def known(value: object) -> bool | None:
        return value if isinstance(value, bool) else None

    return Tool(
        entry.tool.id,
        entry.tool.name,
        entry.tool.vendor,
        status,
        known(facts.trains_on_input_by_default.value),
        known(facts.hipaa_baa.value),
    )


def _totals(session: Session, window: Window) -> tuple[int, int, int, int, int, dict[str, tuple[int, int]]]:
    e, x = StoredEvent, EventExposure
    columns = (func.count(), func.count(distinct(e.client)), func.count(distinct(e.tool_id)))
    content = _in_window(select(*columns), e.occurred_at, window)
    events, users, tools = session.execute(content.where(e.kind.in_(CONTENT_KINDS))).one()
    labelled = session.scalar(_in_window(select(func.count(distinct(x.event_id))), x.occurred_at, window)) or 0
    subjects_query = select(func.count(distinct(EventSubject.subject_hash))).join(
        x, x.event_id == EventSubject.event_id
    )
    subjects = session.scalar(_in_window(subjects_query, x.occurred_at, window)) or 0
    monthly: dict[str, list[int]] = defaultdict(lambda: [0, 0])
    month = _month(session, e.occurred_at)
    for key, count in session.execute(
        _in_window(select(month, func.count()), e.occurred_at, window).where(e.kind.in_(CONTENT_KINDS)).group_by(month)
    ):
        monthly[key][0] = count
    x_month = _month(session, x.occurred_at)
    for key, count in session.execute(
        _in_window(select(x_month, func.count(distinct(x.event_id))), x.occurred_at, window).group_by(x_month)
    ):
        monthly[key][1] = count
    return events, labelled, subjects, users, tools, {key: (v[0], v[1]) for key, v in sorted(monthly.items())}


def build_inventory(
    session: Session, catalog: Catalog, window: Window, departments: Mapping[str, str] | None = None
) -> Inventory:
    departments = departments or {}
    policy = current_policy(session)
    months = _by_month(session, window)
    department_events, department_people = _by_department(session, window, departments)
    exposures = []
    for (category, tool_id), counts in sorted(_cells(session, window).items(), key=lambda item: str(item[0])):
        entry = catalog.tools.get(tool_id) if tool_id else None
        status, _ = policy.resolve(tool_id, entry.tool.category.value if entry else None)
        exposures.append(
            Exposure(
                category=Category(category),
                tool=_tool(tool_id, catalog, status.value),
                events=counts["events"],
                users=counts["users"],
                distinct_texts=max(counts["texts"], 1),
                identified_subjects=counts["subjects"],
                unidentified_texts=counts["bare"],
                events_by_month=dict(months.get((category, tool_id), {})),
                events_by_department=dict(department_events.get((category, tool_id), {})),
                subjects_by_department=dict(department_people.get((category, tool_id), {})),
            )
        )
    events, labelled, subjects, users, tools, monthly = _totals(session, window)
    return Inventory(window.start, window.end, tuple(exposures), events, labelled, subjects, users, monthly, tools)
