"""What one exposure run produces: every figure an export shows, and nothing an export may not show.

Aggregates only — no prompt text, snippet or personal identifier ever reaches this structure, so no export can
leak one. All amounts are US dollars per year over the analysed window, annualised.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, datetime
from enum import StrEnum


class Regulation(StrEnum):
    GDPR = "gdpr"
    HIPAA = "hipaa"
    CCPA = "ccpa"
    PCI_DSS = "pci_dss"
    GLBA = "glba"
    SEC = "sec"
    STATE_BREACH = "state_breach"


REGULATION_NAMES = {
    Regulation.GDPR: "GDPR / UK GDPR",
    Regulation.HIPAA: "HIPAA",
    Regulation.CCPA: "CCPA / CPRA",
    Regulation.PCI_DSS: "PCI DSS",
    Regulation.GLBA: "GLBA",
    Regulation.SEC: "SEC cyber disclosure",
    Regulation.STATE_BREACH: "US state breach laws",
}


@dataclass(frozen=True, slots=True)
class Distribution:
    """Summary of a simulated annual loss: the mean (annualised expected loss) and percentiles."""

    mean: float
    p10: float
    p50: float
    p90: float
    p95: float
    p99: float


@dataclass(frozen=True, slots=True)
class RegulationExposure:
    regulation: Regulation
    loss: Distribution
    applies: bool
    why: str  # one line: why it applies or not (exemptions, profile)
    exposed_subjects: int


@dataclass(frozen=True, slots=True)
class ToolExposure:
    tool_id: str
    tool_name: str
    vendor: str | None
    status: str  # sanctioned | tolerated | unsanctioned | unknown
    events: int
    subjects: int
    mean_loss: float  # this tool's share of the total mean (allocated within the same trials)


@dataclass(frozen=True, slots=True)
class CategoryToolCell:
    category: str
    tool_id: str
    events: int
    subjects: int
    mean_loss: float


@dataclass(frozen=True, slots=True)
class MonthlyPoint:
    month: str  # YYYY-MM
    events: int
    labelled_events: int
    events_by_category: dict[str, int]
    mean_loss: float  # the month's share of the total mean


@dataclass(frozen=True, slots=True)
class DepartmentExposure:
    department: str  # pseudonymous id unless the organisation enables names
    events: int
    subjects: int
    mean_loss: float


@dataclass(frozen=True, slots=True)
class SensitivityItem:
    parameter_id: str
    description: str
    total_mean_at_low: float  # mean total of the trials where the parameter fell at or below its P10
    total_mean_at_high: float  # ... at or above its P90

    @property
    def swing(self) -> float:
        return abs(self.total_mean_at_high - self.total_mean_at_low)


@dataclass(frozen=True, slots=True)
class Assumption:
    parameter_id: str
    description: str
    value: str  # the distribution as a person reads it: "PERT(0.2, 0.5, 0.9)", "$2,190,294"
    unit: str
    source: str
    source_url: str | None
    year: int | None
    grade: str  # A primary, B restated, C judgement
    override_note: str | None = None  # the organisation's justification when it replaced the default


@dataclass(frozen=True, slots=True)
class Evidence:
    """What was observed, kept apart from what is modelled."""

    events: int
    labelled_events: int
    distinct_subjects: int
    tools: int
    users: int


@dataclass(frozen=True, slots=True)
class ExposureReport:
    model_version: str
    seed: int
    trials: int
    generated_at: datetime
    window_from: date
    window_to: date
    organisation: str
    profile_summary: dict[str, str]
    evidence: Evidence
    total: Distribution
    shared_response: Distribution  # response costs counted once per loss event, outside every regulation
    regulations: tuple[RegulationExposure, ...]
    exceedance: tuple[tuple[float, float], ...]  # (annual loss, probability of exceeding it), loss ascending
    tools: tuple[ToolExposure, ...]
    heatmap: tuple[CategoryToolCell, ...]
    monthly: tuple[MonthlyPoint, ...]
    departments: tuple[DepartmentExposure, ...]
    sensitivity: tuple[SensitivityItem, ...]  # largest swing first
    assumptions: tuple[Assumption, ...]
    flags: tuple[str, ...] = field(default=())  # SOX / SOC 2 notes: not fines
    disclaimer: str = (
        "An estimate of exposure from observed use of AI tools, for risk management. Not legal advice: whether an "
        "event is a reportable breach or a violation is for counsel to decide."
    )
