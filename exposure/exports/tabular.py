"""The CSV export: tidy long format, one row per (scope, key, metric), with the JSON document's numbers.

Columns: window_from, window_to, scope, key, label, metric, value, unit. `value` is a number except where `unit`
is `text` or `boolean`; numbers are written in Python's shortest round-trip form so a float read back from the CSV
equals the one in the JSON. Rows are built from render_json's output, not from the report, so the two exports cannot
drift apart.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from exposure.exports.document import render_json
from exposure.exports.formatting import TIMES
from exposure.exports.names import category_name
from exposure.report import ExposureReport

COLUMNS = ("window_from", "window_to", "scope", "key", "label", "metric", "value", "unit")
PERCENTILES = ("mean", "p10", "p50", "p90", "p95", "p99")
USD = "usd_per_year"  # every modelled amount is an annualised US-dollar figure

# A spreadsheet opening the CSV would run a text cell starting with one of these as a formula (CSV injection).
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


@dataclass(frozen=True, slots=True)
class Row:
    scope: str
    key: str
    label: str
    metric: str
    value: str | int | float | bool | None
    unit: str


def _distribution(scope: str, key: str, label: str, loss: Mapping[str, float]) -> Iterator[Row]:
    for metric in PERCENTILES:
        yield Row(scope, key, label, metric, loss[metric], USD)


def rows(report: ExposureReport) -> Iterator[Row]:
    """Every figure of the report as a row, in the JSON document's order."""
    doc = render_json(report)
    yield from _run_rows(doc)
    for metric, value in doc["evidence"].items():
        yield Row("evidence", "observed", "Observed, not modelled", metric, value, "count")
    yield from _distribution("total", "all", "All regulations and response", doc["total"])
    yield from _distribution(
        "shared_response", "shared_response", "Response costs, counted once", doc["shared_response"]
    )
    for r in doc["regulations"]:
        yield from _distribution("regulation", r["id"], r["name"], r["loss"])
        yield Row("regulation", r["id"], r["name"], "exposed_subjects", r["exposed_subjects"], "count")
        yield Row("regulation", r["id"], r["name"], "applies", r["applies"], "boolean")
        yield Row("regulation", r["id"], r["name"], "why", r["why"], "text")
    for i, point in enumerate(doc["exceedance"], start=1):
        yield Row("exceedance", str(i), "", "loss", point["loss"], USD)
        yield Row("exceedance", str(i), "", "probability", point["probability"], "probability")
    yield from _tool_rows(doc)
    yield from _time_and_people_rows(doc)
    for s in doc["sensitivity"]:
        for metric in ("total_mean_at_low", "total_mean_at_high", "swing"):
            yield Row("sensitivity", s["parameter_id"], s["description"], metric, s[metric], USD)
    yield from _assumption_rows(doc)
    for i, flag in enumerate(doc["flags"], start=1):
        yield Row("flag", str(i), "Compliance note, not a fine", "note", flag, "text")


def _run_rows(doc: Mapping[str, Any]) -> Iterator[Row]:
    run = doc["run"]
    yield Row("run", "run", doc["organisation"], "model_version", run["model_version"], "text")
    yield Row("run", "run", doc["organisation"], "seed", run["seed"], "integer")
    yield Row("run", "run", doc["organisation"], "trials", run["trials"], "count")
    yield Row("run", "run", doc["organisation"], "generated_at", run["generated_at"], "text")


def _tool_rows(doc: Mapping[str, Any]) -> Iterator[Row]:
    names = {t["id"]: t["name"] for t in doc["tools"]}
    for t in doc["tools"]:
        yield Row("tool", t["id"], t["name"], "status", t["status"], "text")
        yield Row("tool", t["id"], t["name"], "vendor", t["vendor"], "text")
        for metric in ("events", "subjects"):
            yield Row("tool", t["id"], t["name"], metric, t[metric], "count")
        yield Row("tool", t["id"], t["name"], "mean_loss", t["mean_loss"], USD)
    for c in doc["heatmap"]:
        key = f"{c['category']}/{c['tool_id']}"
        label = f"{category_name(c['category'])} {TIMES} {names.get(c['tool_id'], c['tool_id'])}"
        for metric in ("events", "subjects"):
            yield Row("category_tool", key, label, metric, c[metric], "count")
        yield Row("category_tool", key, label, "mean_loss", c["mean_loss"], USD)


def _time_and_people_rows(doc: Mapping[str, Any]) -> Iterator[Row]:
    for m in doc["monthly"]:
        for metric in ("events", "labelled_events"):
            yield Row("month", m["month"], "", metric, m[metric], "count")
        yield Row("month", m["month"], "", "mean_loss", m["mean_loss"], USD)
        for category, events in m["events_by_category"].items():
            yield Row("month_category", f"{m['month']}/{category}", "", "events", events, "count")
    for d in doc["departments"]:
        for metric in ("events", "subjects"):
            yield Row("department", d["id"], "", metric, d[metric], "count")
        yield Row("department", d["id"], "", "mean_loss", d["mean_loss"], USD)


def _assumption_rows(doc: Mapping[str, Any]) -> Iterator[Row]:
    for a in doc["assumptions"]:
        key, label = a["parameter_id"], a["description"]
        # The value is a distribution as a person reads it ("PERT(0.2, 0.5, 0.9)"): text, with its unit beside it.
        yield Row("assumption", key, label, "value", a["value"], "text")
        yield Row("assumption", key, label, "unit", a["unit"], "text")
        yield Row("assumption", key, label, "source", a["source"], "text")
        yield Row("assumption", key, label, "source_url", a["source_url"], "text")
        yield Row("assumption", key, label, "year", a["year"], "year")
        yield Row("assumption", key, label, "grade", a["grade"], "text")
        if a["override_note"]:
            yield Row("assumption", key, label, "override_note", a["override_note"], "text")


def _cell(value: str | int | float | bool | None) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)  # shortest form that reads back as the same float
    if value.startswith(_FORMULA_STARTS):
        return "'" + value
    return value


def csv_text(report: ExposureReport) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(COLUMNS)
    window = (report.window_from.isoformat(), report.window_to.isoformat())
    for row in rows(report):
        writer.writerow((*window, row.scope, _cell(row.key), _cell(row.label), row.metric, _cell(row.value), row.unit))
    return buffer.getvalue()
