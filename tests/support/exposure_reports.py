"""Hand-built exposure reports for the export tests: a realistic one and one with nothing observed.

Built without the Monte Carlo model so the export tests do not depend on it. The figures are internally consistent
the way the model's are: the total is lognormal and its percentiles, mean and exceedance curve agree; regulation and
shared-response means add up to the total mean (means add, percentiles do not); tool, heat-map cell, month and
department shares of the mean add up to the total mean; event counts agree between the evidence, the heat map, the
months, the tools and the departments.
"""

from __future__ import annotations

import math
from dataclasses import replace
from datetime import UTC, date, datetime
from typing import Any

from exposure.report import (
    Assumption,
    CategoryToolCell,
    DepartmentExposure,
    Distribution,
    Evidence,
    ExposureReport,
    MonthlyPoint,
    Regulation,
    RegulationExposure,
    SensitivityItem,
    ToolExposure,
)

# z-scores of the percentiles a Distribution carries.
_Z = {"p10": -1.2815515655, "p50": 0.0, "p90": 1.2815515655, "p95": 1.6448536270, "p99": 2.3263478740}

TOTAL_MEAN = 1_842_000.0
TOTAL_SIGMA = 1.17  # spread of the lognormal annual loss

# (regulation, share of the total mean, sigma, applies, why, exposed subjects)
_REGULATIONS: tuple[tuple[Regulation, float, float, bool, str, int], ...] = (
    (Regulation.HIPAA, 0.31, 1.30, True, "Covered entity; PHI sent to tools without a BAA", 1_840),
    (Regulation.GDPR, 0.19, 1.45, True, "EU/UK data subjects are 12% of customers", 610),
    (Regulation.STATE_BREACH, 0.12, 1.10, True, "Residents of 41 states in the exposed records", 4_120),
    (Regulation.CCPA, 0.09, 1.20, True, "California residents are 14% of customers", 720),
    (Regulation.SEC, 0.07, 1.60, True, "Listed company; materiality threshold 0.5% of revenue", 0),
    (Regulation.PCI_DSS, 0.05, 1.25, True, "Merchant level 2; card numbers seen in prompts", 96),
    (Regulation.GLBA, 0.0, 1.0, False, "Not a financial institution under GLBA", 0),
)
SHARED_RESPONSE_SHARE = 1.0 - sum(row[1] for row in _REGULATIONS)

# (tool id, name, vendor, status, share of the total mean, subjects)
_TOOLS: tuple[tuple[str, str, str | None, str, float, int], ...] = (
    ("openai-chatgpt", "ChatGPT", "OpenAI", "tolerated", 0.34, 2_210),
    ("deepseek-chat", "DeepSeek", "DeepSeek", "unsanctioned", 0.21, 980),
    ("google-gemini", "Gemini", "Google", "unsanctioned", 0.14, 640),
    ("anthropic-claude", "Claude", "Anthropic", "tolerated", 0.11, 590),
    ("microsoft-copilot", "Microsoft 365 Copilot", "Microsoft", "sanctioned", 0.08, 1_120),
    ("otter-ai", "Otter.ai", "Otter.ai", "unsanctioned", 0.07, 310),
    ("perplexity", "Perplexity", "Perplexity AI", "unknown", 0.05, 160),
)

# Labelled events per (category, tool); absent cells had none.
_CELLS: dict[tuple[str, str], int] = {
    ("personal_data", "openai-chatgpt"): 412,
    ("personal_data", "deepseek-chat"): 133,
    ("personal_data", "google-gemini"): 97,
    ("personal_data", "anthropic-claude"): 88,
    ("personal_data", "microsoft-copilot"): 301,
    ("personal_data", "otter-ai"): 64,
    ("personal_data", "perplexity"): 21,
    ("health", "openai-chatgpt"): 96,
    ("health", "deepseek-chat"): 58,
    ("health", "google-gemini"): 22,
    ("health", "otter-ai"): 31,
    ("payment_card", "openai-chatgpt"): 17,
    ("payment_card", "deepseek-chat"): 9,
    ("bank_account", "openai-chatgpt"): 23,
    ("bank_account", "microsoft-copilot"): 41,
    ("corporate_financial", "openai-chatgpt"): 143,
    ("corporate_financial", "google-gemini"): 61,
    ("corporate_financial", "microsoft-copilot"): 188,
    ("corporate_financial", "perplexity"): 12,
    ("legal", "openai-chatgpt"): 74,
    ("legal", "anthropic-claude"): 52,
    ("legal", "microsoft-copilot"): 96,
    ("credentials", "openai-chatgpt"): 38,
    ("credentials", "deepseek-chat"): 19,
    ("credentials", "anthropic-claude"): 45,
    ("credentials", "perplexity"): 6,
}
# Relative dollars per labelled event, used only to split each tool's mean across its cells.
_CATEGORY_WEIGHT = {
    "personal_data": 1.0,
    "health": 3.2,
    "payment_card": 2.1,
    "bank_account": 1.2,
    "corporate_financial": 0.7,
    "legal": 0.4,
    "credentials": 0.2,
}
UNLABELLED_EVENTS = 1_377  # events to AI tools with no data label: counted, not priced

MONTHS = ("2026-06", "2026-07", "2026-08", "2026-09", "2026-10", "2026-11")
_MONTH_WEIGHT = (0.11, 0.13, 0.14, 0.17, 0.21, 0.24)  # use grows over the window

# (department id as the organisation gives it, share of events, share of the mean)
_DEPARTMENTS: tuple[tuple[str, float, float], ...] = (
    ("dept-4f1c", 0.29, 0.36),
    ("dept-a27e", 0.22, 0.18),
    ("dept-09bd", 0.17, 0.21),
    ("dept-c3d0", 0.14, 0.11),
    ("dept-77a1", 0.10, 0.09),
    ("dept-e5f2", 0.08, 0.05),
)

# (parameter, description, total mean with it at its P10, at its P90)
_SENSITIVITY: tuple[tuple[str, str, float, float], ...] = (
    ("breach.probability_given_exposure", "Chance an exposure becomes a reportable event", 820_000, 3_410_000),
    ("hipaa.penalty_per_violation", "HIPAA civil penalty per violation", 1_390_000, 2_620_000),
    ("response.cost_per_record", "Response cost per record (notification, forensics)", 1_510_000, 2_300_000),
    ("gdpr.fine_share_of_turnover", "GDPR fine as a share of turnover", 1_620_000, 2_190_000),
    ("vendor.retention_probability", "Chance the tool retains the prompt", 1_600_000, 2_080_000),
    ("state_breach.notification_cost", "State-law notification cost per resident", 1_700_000, 1_990_000),
    ("sec.materiality_probability", "Chance an event is material to investors", 1_760_000, 1_950_000),
)

ASSUMPTIONS: tuple[Assumption, ...] = (
    Assumption(
        "breach.probability_given_exposure",
        "Chance that data sent to a public AI tool becomes a reportable loss event in a year",
        "PERT(0.01, 0.04, 0.15)",
        "probability",
        "Analyst judgement calibrated against vendor breach disclosures",
        None,
        2026,
        "C",
    ),
    Assumption(
        "response.cost_per_record",
        "Detection, notification and post-breach response per exposed record",
        "Lognormal90($120, $260)",
        "usd_per_subject",
        "IBM / Ponemon, Cost of a Data Breach Report",
        "https://www.ibm.com/reports/data-breach",
        2024,
        "B",
    ),
    Assumption(
        "hipaa.penalty_per_violation",
        "HIPAA civil money penalty per violation, reasonable-cause tier",
        "Uniform($1,379, $68,928)",
        "usd",
        "45 CFR 160.404, annual inflation adjustment",
        "https://www.ecfr.gov/current/title-45/subtitle-A/subchapter-C/part-160/subpart-D/section-160.404",
        2024,
        "A",
    ),
    Assumption(
        "gdpr.fine_share_of_turnover",
        "GDPR administrative fine as a share of worldwide annual turnover",
        "PERT(0.0005, 0.002, 0.02)",
        "fraction",
        "GDPR Art. 83(5); EDPB fining guidelines 04/2022",
        "https://www.edpb.europa.eu/our-work-tools/our-documents/guidelines/guidelines-042022-calculation-administrative-fines-under_en",
        2023,
        "B",
    ),
    Assumption(
        "ccpa.penalty_per_violation",
        "CCPA administrative fine per intentional violation",
        "$7,988",
        "usd",
        "Cal. Civ. Code 1798.155, CPPA adjustment",
        "https://cppa.ca.gov/regulations/",
        2025,
        "A",
    ),
    Assumption(
        "state_breach.notification_cost",
        "Cost to notify one resident under state breach laws",
        "PERT($3, $8, $25)",
        "usd_per_subject",
        "Organisation's own 2025 incident invoices",
        None,
        2025,
        "C",
        override_note="Replaced the default PERT($5, $15, $40): the 2025 mailing vendor contract fixes $6-$9 per "
        "letter including call centre.",
    ),
    Assumption(
        "pci.fine_per_month",
        "Card-brand non-compliance assessment per month while unremediated",
        "PERT($5,000, $25,000, $100,000)",
        "usd",
        "Card-brand programme summaries restated by acquirers",
        None,
        2023,
        "C",
    ),
    Assumption(
        "vendor.retention_probability",
        "Chance the tool retains the prompt beyond the session",
        "PERT(0.3, 0.7, 0.95)",
        "probability",
        "ShadowScope AI tool catalog facts (retention, training on input)",
        None,
        2026,
        "B",
        override_note="Raised the low end from 0.1 to 0.3: legal found no zero-retention contract with any "
        "unsanctioned vendor.",
    ),
    Assumption(
        "sec.materiality_probability",
        "Chance an AI-tool loss event is material to investors (Form 8-K Item 1.05)",
        "PERT(0.001, 0.01, 0.05)",
        "probability",
        "SEC Release 33-11216; analyst judgement",
        "https://www.sec.gov/rules/final/2023/33-11216.pdf",
        2023,
        "C",
    ),
    Assumption(
        "frequency.exponent",
        "How loss-event frequency scales with the number of exposed records",
        "0.6",
        "exponent",
        "Analyst judgement (sub-linear aggregation)",
        None,
        2026,
        "C",
    ),
)


def _lognormal(mean: float, sigma: float) -> Distribution:
    """The mean and percentiles of a lognormal with this mean and log-spread."""
    if mean <= 0:
        return Distribution(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    median = mean / math.exp(sigma**2 / 2)
    values = {name: median * math.exp(z * sigma) for name, z in _Z.items()}
    return Distribution(mean=mean, **values)


def _exceedance(mean: float, sigma: float, points: int = 40) -> tuple[tuple[float, float], ...]:
    median = mean / math.exp(sigma**2 / 2)
    low, high = median * math.exp(-3 * sigma), median * math.exp(3.5 * sigma)
    curve = []
    for i in range(points):
        loss = low * (high / low) ** (i / (points - 1))
        z = math.log(loss / median) / sigma
        curve.append((loss, 0.5 * math.erfc(z / math.sqrt(2))))
    return tuple(curve)


def _split(total: int, weights: tuple[float, ...]) -> list[int]:
    """Whole numbers in proportion to the weights that add up exactly to the total (largest remainder)."""
    raw = [total * w / sum(weights) for w in weights]
    parts = [math.floor(r) for r in raw]
    by_remainder = sorted(range(len(raw)), key=lambda i: raw[i] - parts[i], reverse=True)
    for i in by_remainder[: total - sum(parts)]:
        parts[i] += 1
    return parts


def _heatmap() -> tuple[CategoryToolCell, ...]:
    tool_mean = {tool_id: share * TOTAL_MEAN for tool_id, _, _, _, share, _ in _TOOLS}
    tool_subjects = {tool_id: subjects for tool_id, *_, subjects in _TOOLS}
    cells = []
    for tool_id, mean_loss in tool_mean.items():
        mine = {category: n for (category, tool), n in _CELLS.items() if tool == tool_id}
        weight = {category: n * _CATEGORY_WEIGHT[category] for category, n in mine.items()}
        subjects = _split(tool_subjects[tool_id], tuple(float(n) for n in mine.values()))
        for (category, events), cell_subjects in zip(mine.items(), subjects, strict=True):
            mean = mean_loss * weight[category] / sum(weight.values())
            cells.append(CategoryToolCell(category, tool_id, events, cell_subjects, mean))
    return tuple(cells)


def _monthly(labelled_by_category: dict[str, int]) -> tuple[MonthlyPoint, ...]:
    per_category = {category: _split(n, _MONTH_WEIGHT) for category, n in labelled_by_category.items()}
    unlabelled = _split(UNLABELLED_EVENTS, _MONTH_WEIGHT)
    points = []
    for i, month in enumerate(MONTHS):
        by_category = {category: split[i] for category, split in per_category.items()}
        labelled = sum(by_category.values())
        mean = TOTAL_MEAN * _MONTH_WEIGHT[i] / sum(_MONTH_WEIGHT)
        points.append(MonthlyPoint(month, labelled + unlabelled[i], labelled, by_category, mean))
    return tuple(points)


def sample_report(**changes: Any) -> ExposureReport:
    """A realistic report (a listed US healthcare group); pass field values to change any of them."""
    heatmap = _heatmap()
    labelled_by_category: dict[str, int] = {}
    for cell in heatmap:
        labelled_by_category[cell.category] = labelled_by_category.get(cell.category, 0) + cell.events
    labelled = sum(labelled_by_category.values())
    events = labelled + UNLABELLED_EVENTS
    tool_events = {tool_id: 0 for tool_id, *_ in _TOOLS}
    for cell in heatmap:
        tool_events[cell.tool_id] += cell.events
    # Unlabelled events still went to a tool: counted there, not in the heat map.
    for tool_id, unlabelled in zip(
        tool_events, _split(UNLABELLED_EVENTS, tuple(row[4] for row in _TOOLS)), strict=True
    ):
        tool_events[tool_id] += unlabelled
    subjects = sum(row[5] for row in _TOOLS)
    department_events = _split(events, tuple(row[1] for row in _DEPARTMENTS))
    department_subjects = _split(subjects, tuple(row[1] for row in _DEPARTMENTS))
    report = ExposureReport(
        model_version="1.0.0",
        seed=20261202,
        trials=20_000,
        generated_at=datetime(2026, 12, 2, 9, 30, tzinfo=UTC),
        window_from=date(2026, 6, 1),
        window_to=date(2026, 11, 30),
        organisation="Northwind Health Group",
        profile_summary={
            "Industry": "Healthcare services",
            "Annual revenue": "$480M",
            "Employees": "2,300",
            "HIPAA": "Covered entity",
            "PCI DSS": "Merchant level 2",
            "Listed company": "Yes",
        },
        evidence=Evidence(
            events=events, labelled_events=labelled, distinct_subjects=subjects, tools=len(_TOOLS), users=412
        ),
        total=_lognormal(TOTAL_MEAN, TOTAL_SIGMA),
        shared_response=_lognormal(SHARED_RESPONSE_SHARE * TOTAL_MEAN, 1.05),
        regulations=tuple(
            RegulationExposure(regulation, _lognormal(share * TOTAL_MEAN, sigma), applies, why, exposed)
            for regulation, share, sigma, applies, why, exposed in _REGULATIONS
        ),
        exceedance=_exceedance(TOTAL_MEAN, TOTAL_SIGMA),
        tools=tuple(
            ToolExposure(tool_id, name, vendor, status, tool_events[tool_id], tool_subjects, share * TOTAL_MEAN)
            for tool_id, name, vendor, status, share, tool_subjects in _TOOLS
        ),
        heatmap=heatmap,
        monthly=_monthly(labelled_by_category),
        departments=tuple(
            DepartmentExposure(department, department_events[i], department_subjects[i], mean_share * TOTAL_MEAN)
            for i, (department, _, mean_share) in enumerate(_DEPARTMENTS)
        ),
        sensitivity=tuple(SensitivityItem(*row) for row in _SENSITIVITY),
        assumptions=ASSUMPTIONS,
        flags=(
            "SOX: non-public financial results were sent to unsanctioned tools; review as an ITGC deficiency "
            "(no fine modelled).",
            "SOC 2: prompts with customer data left the system boundary; note for the next CC6/CC7 audit period.",
        ),
    )
    return replace(report, **changes)


def empty_report(**changes: Any) -> ExposureReport:
    """A run over a window in which no AI-tool event was observed: zeros and empty series, assumptions as usual."""
    zero = Distribution(0.0, 0.0, 0.0, 0.0, 0.0, 0.0)
    base = sample_report()
    report = replace(
        base,
        evidence=Evidence(events=0, labelled_events=0, distinct_subjects=0, tools=0, users=0),
        total=zero,
        shared_response=zero,
        regulations=tuple(replace(r, loss=zero, exposed_subjects=0) for r in base.regulations),
        exceedance=(),
        tools=(),
        heatmap=(),
        monthly=(),
        departments=(),
        sensitivity=(),
        flags=(),
    )
    return replace(report, **changes)
