"""What the model is given: per data category and AI tool, what left and how many people it concerns.

The collector builds this from stored, classified events; the model never sees an event, a text or an identifier.
People are counted as distinct keyed hashes of their identifiers, so the same customer list pasted ten times is one
exposure of its people, not ten; a labelled text without a countable identifier counts as one distinct text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from enum import StrEnum


class Category(StrEnum):
    PERSONAL_DATA = "personal_data"
    HEALTH = "health"
    PAYMENT_CARD = "payment_card"
    BANK_ACCOUNT = "bank_account"
    CORPORATE_FINANCIAL = "corporate_financial"
    LEGAL = "legal"
    CREDENTIALS = "credentials"


# Categories whose loss is measured in people (notification, monitoring, per-person damages).
PEOPLE_CATEGORIES = frozenset({Category.PERSONAL_DATA, Category.HEALTH, Category.PAYMENT_CARD, Category.BANK_ACCOUNT})


@dataclass(frozen=True, slots=True)
class Tool:
    tool_id: str
    name: str
    vendor: str | None
    status: str  # sanctioned | tolerated | unsanctioned | unknown
    trains_on_input: bool | None  # catalog fact; None when unknown
    hipaa_baa: bool | None


@dataclass(frozen=True, slots=True)
class Exposure:
    """One (category, tool) cell over the window."""

    category: Category
    tool: Tool
    events: int
    users: int  # distinct users (or devices): one person's repeated pastes are one incident to handle
    distinct_texts: int
    identified_subjects: int  # distinct identifier hashes
    unidentified_texts: int  # distinct labelled texts in which no identifier could be counted
    events_by_month: dict[str, int] = field(default_factory=dict)
    events_by_department: dict[str, int] = field(default_factory=dict)
    subjects_by_department: dict[str, int] = field(default_factory=dict)

    @property
    def subjects(self) -> int:
        """People as the exports count them: distinct identifiers, plus one per text that had none."""
        return self.identified_subjects + self.unidentified_texts


@dataclass(frozen=True, slots=True)
class Inventory:
    window_from: date
    window_to: date
    exposures: tuple[Exposure, ...]
    events: int  # every prompt, paste and upload in the window
    labelled_events: int
    distinct_subjects: int
    users: int
    events_by_month: dict[str, tuple[int, int]] = field(default_factory=dict)  # month → (events, labelled)
    tools: int = 0  # distinct AI tools used at all (labelled or not)

    @property
    def years(self) -> float:
        """The window in years, at least a day: figures are annualised by it."""
        return max((self.window_to - self.window_from).days + 1, 1) / 365.0
