"""The JSON export: a documented, stable structure (schema shadowscope/exposure-report/v1) with the raw numbers.

Numbers are the floats and integers of the report, unrounded, so the CSV, the spreadsheet and this document agree
exactly. Field names and nesting are described in docs/exports.md; adding a field is compatible, renaming or
removing one needs a new schema id.
"""

from __future__ import annotations

from typing import Any

from exposure.exports.names import regulation_name
from exposure.report import Distribution, ExposureReport

SCHEMA_ID = "shadowscope/exposure-report/v1"

TOP_LEVEL_KEYS = (
    "schema",
    "organisation",
    "run",
    "window",
    "currency",
    "profile",
    "evidence",
    "total",
    "shared_response",
    "regulations",
    "exceedance",
    "tools",
    "heatmap",
    "monthly",
    "departments",
    "sensitivity",
    "assumptions",
    "flags",
    "disclaimer",
)


def distribution(loss: Distribution) -> dict[str, float]:
    return {
        "mean": loss.mean,
        "p10": loss.p10,
        "p50": loss.p50,
        "p90": loss.p90,
        "p95": loss.p95,
        "p99": loss.p99,
    }


def render_json(report: ExposureReport) -> dict[str, Any]:
    """The report as JSON-ready data (str, int, float, bool, None, lists and dicts only)."""
    return {
        "schema": SCHEMA_ID,
        "organisation": report.organisation,
        "run": {
            "model_version": report.model_version,
            "seed": report.seed,
            "trials": report.trials,
            "generated_at": report.generated_at.isoformat(),
        },
        "window": {"from": report.window_from.isoformat(), "to": report.window_to.isoformat()},
        "currency": "USD",
        "profile": dict(report.profile_summary),
        "evidence": {
            "events": report.evidence.events,
            "labelled_events": report.evidence.labelled_events,
            "distinct_subjects": report.evidence.distinct_subjects,
            "tools": report.evidence.tools,
            "users": report.evidence.users,
        },
        "total": distribution(report.total),
        "shared_response": distribution(report.shared_response),
        "regulations": [
            {
                "id": str(r.regulation),
                "name": regulation_name(r.regulation),
                "applies": r.applies,
                "why": r.why,
                "exposed_subjects": r.exposed_subjects,
                "loss": distribution(r.loss),
            }
            for r in report.regulations
        ],
        "exceedance": [{"loss": loss, "probability": p} for loss, p in report.exceedance],
        "tools": [
            {
                "id": t.tool_id,
                "name": t.tool_name,
                "vendor": t.vendor,
                "status": t.status,
                "events": t.events,
                "subjects": t.subjects,
                "mean_loss": t.mean_loss,
            }
            for t in report.tools
        ],
        "heatmap": [
            {
                "category": c.category,
                "tool_id": c.tool_id,
                "events": c.events,
                "subjects": c.subjects,
                "mean_loss": c.mean_loss,
            }
            for c in report.heatmap
        ],
        "monthly": [
            {
                "month": m.month,
                "events": m.events,
                "labelled_events": m.labelled_events,
                "events_by_category": dict(m.events_by_category),
                "mean_loss": m.mean_loss,
            }
            for m in report.monthly
        ],
        "departments": [
            {"id": d.department, "events": d.events, "subjects": d.subjects, "mean_loss": d.mean_loss}
            for d in report.departments
        ],
        "sensitivity": [
            {
                "parameter_id": s.parameter_id,
                "description": s.description,
                "total_mean_at_low": s.total_mean_at_low,
                "total_mean_at_high": s.total_mean_at_high,
                "swing": s.swing,
            }
            for s in report.sensitivity
        ],
        "assumptions": [
            {
                "parameter_id": a.parameter_id,
                "description": a.description,
                "value": a.value,
                "unit": a.unit,
                "source": a.source,
                "source_url": a.source_url,
                "year": a.year,
                "grade": a.grade,
                "override_note": a.override_note,
            }
            for a in report.assumptions
        ],
        "flags": list(report.flags),
        "disclaimer": report.disclaimer,
    }
