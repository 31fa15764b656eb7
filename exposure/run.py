"""One exposure run: simulate, summarise, allocate to tools, months and departments, measure sensitivity."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, datetime

import numpy as np

from exposure.distributions import Floats, describe
from exposure.inventory import Inventory
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
from exposure.simulation import Simulation, simulate
from rules.exposure_parameters import ParameterSet
from rules.exposure_schema import Constant, OrganisationProfile

DEFAULT_TRIALS = 100_000
DEFAULT_SEED = 20261125
EXCEEDANCE_POINTS = 60
TOP_SENSITIVITY = 10


def distribution_of(losses: Floats) -> Distribution:
    p10, p50, p90, p95, p99 = np.percentile(losses, [10, 50, 90, 95, 99])
    return Distribution(float(losses.mean()), float(p10), float(p50), float(p90), float(p95), float(p99))


def exceedance_curve(losses: Floats, points: int = EXCEEDANCE_POINTS) -> tuple[tuple[float, float], ...]:
    """P(annual loss > x) on a log grid from a small loss to the largest trial (empty when no trial lost money)."""
    positive = losses[losses > 0]
    if positive.size == 0:
        return ()
    ordered = np.sort(losses)
    grid = np.geomspace(max(float(positive.min()), 1.0), float(ordered[-1]), points)
    exceeding = 1.0 - np.searchsorted(ordered, grid, side="right") / ordered.size
    return tuple((float(x), float(p)) for x, p in zip(grid, exceeding, strict=True))


def _flags(profile: OrganisationProfile, inventory: Inventory) -> tuple[str, ...]:
    categories = {exposure.category.value for exposure in inventory.exposures}
    flags: list[str] = []
    if profile.listed_company and "corporate_financial" in categories:
        flags.append(
            "SOX: non-public financial figures were sent to AI tools, a possible weakness in disclosure controls "
            "(a flag for the audit committee, not a fine)."
        )
    if categories & {"legal", "corporate_financial", "credentials"}:
        flags.append(
            "SOC 2 / commercial: confidential contracts, financials or credentials in AI tools can qualify an "
            "attestation or stall a deal; not priced here."
        )
    return tuple(flags)


def _allocations(simulation: Simulation) -> tuple[dict[str, float], dict[str, float], dict[str, float]]:
    """Each cell's mean loss shared out to its tool, its months and its departments, by its events."""
    by_tool: dict[str, float] = defaultdict(float)
    by_month: dict[str, float] = defaultdict(float)
    by_department: dict[str, float] = defaultdict(float)
    for cell in simulation.cells:
        mean = float(cell.total.mean())
        exposure = cell.exposure
        by_tool[exposure.tool.tool_id] += mean
        for shares, target in ((exposure.events_by_month, by_month), (exposure.events_by_department, by_department)):
            total = sum(shares.values())
            for key, count in shares.items():
                target[key] += mean * count / total if total else 0.0
    return by_tool, by_month, by_department


def _tools(simulation: Simulation, by_tool: dict[str, float]) -> tuple[ToolExposure, ...]:
    events: dict[str, int] = defaultdict(int)
    subjects: dict[str, int] = defaultdict(int)
    tools = {}
    for cell in simulation.cells:
        tool = cell.exposure.tool
        tools[tool.tool_id] = tool
        events[tool.tool_id] += cell.exposure.events
        subjects[tool.tool_id] += cell.exposure.subjects
    rows = [
        ToolExposure(t.tool_id, t.name, t.vendor, t.status, events[t.tool_id], subjects[t.tool_id], by_tool[t.tool_id])
        for t in tools.values()
    ]
    return tuple(sorted(rows, key=lambda row: (-row.mean_loss, row.tool_id)))


def _departments(simulation: Simulation, by_department: dict[str, float]) -> tuple[DepartmentExposure, ...]:
    events: dict[str, int] = defaultdict(int)
    subjects: dict[str, int] = defaultdict(int)
    for cell in simulation.cells:
        for department, count in cell.exposure.events_by_department.items():
            events[department] += count
        for department, count in cell.exposure.subjects_by_department.items():
            subjects[department] += count
    rows = [DepartmentExposure(d, events[d], subjects[d], by_department.get(d, 0.0)) for d in events]
    return tuple(sorted(rows, key=lambda row: (-row.mean_loss, row.department)))


def _monthly(inventory: Inventory, simulation: Simulation, by_month: dict[str, float]) -> tuple[MonthlyPoint, ...]:
    by_category: dict[str, dict[str, int]] = defaultdict(dict)
    for cell in simulation.cells:
        for month, count in cell.exposure.events_by_month.items():
            category = cell.exposure.category.value
            by_category[month][category] = by_category[month].get(category, 0) + count
    months = sorted(set(inventory.events_by_month) | set(by_category))
    return tuple(
        MonthlyPoint(
            month,
            inventory.events_by_month.get(month, (0, 0))[0],
            inventory.events_by_month.get(month, (0, 0))[1],
            dict(sorted(by_category.get(month, {}).items())),
            by_month.get(month, 0.0),
        )
        for month in months
    )


def _sensitivity(simulation: Simulation, parameters: ParameterSet) -> tuple[SensitivityItem, ...]:
    """How the expected loss moves with each uncertain parameter, read off the run itself: the mean total of the
    trials where the parameter fell in its lowest tenth, and of those where it fell in its highest tenth.

    Every parameter is drawn independently in every trial, so these conditional means isolate its effect (the
    others average out over ten thousand trials each) without running the model again.
    """
    total = simulation.total
    items = []
    for parameter_id, parameter in parameters.parameters.items():
        values = simulation.draws.get(parameter_id)
        if values is None or isinstance(parameter.distribution, Constant) or np.ptp(values) == 0:
            continue
        low, high = np.quantile(values, [0.1, 0.9])
        at_low = total[values <= low]
        at_high = total[values >= high]
        if at_low.size == 0 or at_high.size == 0:
            continue
        items.append(SensitivityItem(parameter_id, parameter.description, float(at_low.mean()), float(at_high.mean())))
    return tuple(sorted(items, key=lambda item: -item.swing)[:TOP_SENSITIVITY])


def _assumptions(parameters: ParameterSet) -> tuple[Assumption, ...]:
    return tuple(
        Assumption(
            parameter_id=p.id,
            description=p.description,
            value=describe(p.distribution, p.unit),
            unit=p.unit,
            source=p.source.title,
            source_url=str(p.source.url) if p.source.url else None,
            year=p.source.year,
            grade=p.source.grade,
            override_note=parameters.overrides.get(p.id),
        )
        for p in parameters.parameters.values()
    )


def _regulations(simulation: Simulation) -> tuple[RegulationExposure, ...]:
    return tuple(
        RegulationExposure(
            regulation=regulation,
            loss=distribution_of(simulation.regulation_total(regulation)),
            applies=simulation.scopes[regulation].applies,
            why=simulation.scopes[regulation].why,
            exposed_subjects=sum(
                cell.exposure.subjects
                for cell in simulation.cells
                if cell.exposure.category in simulation.scopes[regulation].categories
            ),
        )
        for regulation in Regulation
    )


def _heatmap(simulation: Simulation) -> tuple[CategoryToolCell, ...]:
    return tuple(
        CategoryToolCell(
            cell.exposure.category.value,
            cell.exposure.tool.tool_id,
            cell.exposure.events,
            cell.exposure.subjects,
            float(cell.total.mean()),
        )
        for cell in simulation.cells
    )


def run_exposure(
    inventory: Inventory,
    profile: OrganisationProfile,
    parameters: ParameterSet,
    *,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
    generated_at: datetime | None = None,
) -> ExposureReport:
    simulation = simulate(inventory, profile, parameters, trials=trials, seed=seed)
    total = simulation.total
    by_tool, by_month, by_department = _allocations(simulation)
    return ExposureReport(
        model_version=parameters.model_version,
        seed=seed,
        trials=trials,
        generated_at=generated_at or datetime.now(UTC),
        window_from=inventory.window_from,
        window_to=inventory.window_to,
        organisation=profile.name,
        profile_summary=_profile_summary(profile),
        evidence=Evidence(
            events=inventory.events,
            labelled_events=inventory.labelled_events,
            distinct_subjects=inventory.distinct_subjects,
            tools=max(inventory.tools, len(by_tool)),
            users=inventory.users,
        ),
        total=distribution_of(total),
        shared_response=distribution_of(simulation.response_total),
        regulations=_regulations(simulation),
        exceedance=exceedance_curve(total),
        tools=_tools(simulation, by_tool),
        heatmap=_heatmap(simulation),
        monthly=_monthly(inventory, simulation, by_month),
        departments=_departments(simulation, by_department),
        sensitivity=_sensitivity(simulation, parameters) if simulation.cells else (),
        assumptions=_assumptions(parameters),
        flags=_flags(profile, inventory),
    )


def _profile_summary(profile: OrganisationProfile) -> dict[str, str]:
    shares = profile.subjects
    return {
        "industry": profile.industry,
        "annual revenue": f"${profile.annual_revenue_usd:,.0f}",
        "employees": f"{profile.employees:,}",
        "data subjects": (
            f"EU/UK {shares.eu_uk:.0%}, California {shares.california:.0%}, other US {shares.other_us:.0%}"
        ),
        "HIPAA": profile.hipaa.replace("_", " "),
        "PCI merchant level": str(profile.pci_merchant_level or "none"),
        "GLBA financial institution": "yes" if profile.glba_financial_institution else "no",
        "listed company": "yes" if profile.listed_company else "no",
    }
