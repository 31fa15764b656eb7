"""The tool catalog page: every catalogued AI tool with its risk facts, the policy that applies, and recent use."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from collector.console.overview import ToolInUse
from collector.policy import Policy
from rules.catalog import Catalog
from rules.catalog_schema import Fact, RetentionDays, RiskFacts, Tool

PAGE_SIZE = 50

# The facts a reviewer asks about first, in the order the detail page lists them.
FACT_NAMES: tuple[tuple[str, str], ...] = (
    ("trains_on_input_by_default", "Trains on input by default"),
    ("training_opt_out", "Training opt-out"),
    ("retention", "Prompt retention"),
    ("enterprise_no_training", "Enterprise tier without training"),
    ("zero_data_retention", "Zero data retention option"),
    ("soc2", "SOC 2"),
    ("iso27001", "ISO 27001"),
    ("hipaa_baa", "HIPAA BAA"),
    ("data_residency", "Data residency"),
    ("headquarters_country", "Headquarters"),
)
# Columns of the list: a wide table at 1366 px holds about this many facts next to name, policy and use.
LIST_FACTS = ("trains_on_input_by_default", "retention", "enterprise_no_training", "soc2", "headquarters_country")


@dataclass(frozen=True, slots=True)
class ShownFact:
    name: str
    title: str
    value: str
    known: bool
    risky: bool  # the value a reviewer should notice (trains on input, kept indefinitely)
    source: str | None
    source_host: str | None  # what the link says: the site is what a reviewer judges a source by
    as_of: str | None
    note: str | None


@dataclass(frozen=True, slots=True)
class ToolRow:
    tool: Tool
    status: str
    decided_by: str
    usage: ToolInUse | None
    facts: dict[str, ShownFact]


def _value_text(value: Any) -> str:
    if value == "unknown":
        return "Unknown"
    if isinstance(value, bool):
        return "Yes" if value else "No"
    if isinstance(value, RetentionDays):
        return "Not stored" if value.days == 0 else f"{value.days} days"
    if isinstance(value, tuple):
        return ", ".join(str(part) for part in value) or "None"
    return str(value).replace("_", " ").capitalize() if value in ("indefinite", "until_deleted") else str(value)


def _risky(name: str, value: Any) -> bool:
    if name == "trains_on_input_by_default":
        return value is True
    if name == "retention":
        return value in ("indefinite", "until_deleted")
    return False


def shown_facts(facts: RiskFacts) -> dict[str, ShownFact]:
    shown: dict[str, ShownFact] = {}
    for name, title in FACT_NAMES:
        fact: Fact[Any] = getattr(facts, name)
        shown[name] = ShownFact(
            name=name,
            title=title,
            value=_value_text(fact.value),
            known=fact.known,
            risky=_risky(name, fact.value),
            source=str(fact.source) if fact.source is not None else None,
            source_host=fact.source.host if fact.source is not None else None,
            as_of=fact.as_of.isoformat() if fact.as_of is not None else None,
            note=fact.note,
        )
    return shown


def tool_row(tool: Tool, policy: Policy, usage: dict[str, ToolInUse]) -> ToolRow:
    status, decided_by = policy.resolve(tool.id, tool.category.value)
    return ToolRow(tool, status, decided_by, usage.get(tool.id), shown_facts(tool.facts))


@dataclass(frozen=True, slots=True)
class ToolFilter:
    text: str = ""
    status: str = ""
    category: str = ""
    in_use: bool = False

    def keeps(self, row: ToolRow) -> bool:
        needle = self.text.strip().lower()
        if needle and needle not in f"{row.tool.id} {row.tool.name} {row.tool.vendor}".lower():
            return False
        if self.status and row.status != self.status:
            return False
        if self.category and row.tool.category.value != self.category:
            return False
        return not (self.in_use and row.usage is None)


@dataclass(frozen=True, slots=True)
class ToolPage:
    rows: list[ToolRow]
    matched: int
    page: int
    pages: int


def tool_page(catalog: Catalog, policy: Policy, usage: dict[str, ToolInUse], where: ToolFilter, page: int) -> ToolPage:
    """Tools in use first (most events first), then the rest by name; PAGE_SIZE a page."""
    rows = [tool_row(entry.tool, policy, usage) for entry in catalog.tools.values()]
    kept = [row for row in rows if where.keeps(row)]
    kept.sort(key=lambda row: (row.usage is None, -(row.usage.events if row.usage else 0), row.tool.name.lower()))
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return ToolPage(kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], len(kept), page, pages)
