"""The spreadsheet export (XLSX): every table of the report on its own sheet, for an analyst to filter and check.

Raw numbers with display formats (currency, counts, percentages), so a cell holds the same value as the JSON and
CSV while reading like the PDF. Header rows are styled and frozen; the Assumptions sheet is protected except for the
cells a user is meant to edit (value and override justification), which are marked as inputs.
"""

from __future__ import annotations

import io
from collections import defaultdict
from collections.abc import Iterable, Sequence
from typing import Any

from openpyxl import Workbook
from openpyxl.comments import Comment
from openpyxl.formatting.rule import ColorScaleRule
from openpyxl.styles import Alignment, Font, PatternFill, Protection
from openpyxl.utils import get_column_letter

from exposure.exports import xlsx_columns as spec
from exposure.exports.formatting import timestamp
from exposure.exports.names import category_name, category_rank, regulation_name
from exposure.exports.summary import evidence_line, findings, headline
from exposure.exports.xlsx_columns import Column
from exposure.report import Distribution, ExposureReport

HEADER_FONT = Font(bold=True, color="FFFFFF")
HEADER_FILL = PatternFill("solid", fgColor="1F3A5F")
SECTION_FONT = Font(bold=True, color="1F3A5F")
# The usual financial-model convention for inputs: blue text on pale yellow.
INPUT_FONT = Font(color="1F4E9A")
INPUT_FILL = PatternFill("solid", fgColor="FFF4D6")
WRAP = Alignment(wrap_text=True, vertical="top")
TOP = Alignment(vertical="top")


def xlsx_bytes(report: ExposureReport) -> bytes:
    workbook = Workbook()
    workbook.remove(workbook.active)
    _summary(workbook, report)
    _table(workbook, "By regulation", spec.BY_REGULATION, _regulation_rows(report))
    _table(workbook, "By tool", spec.BY_TOOL, _tool_rows(report))
    _table(workbook, "By department", spec.BY_DEPARTMENT, _department_rows(report))
    _trend(workbook, report)
    _assumptions(workbook, report)
    _table(
        workbook,
        "Sensitivity",
        spec.SENSITIVITY,
        [
            [s.parameter_id, s.description, s.total_mean_at_low, s.total_mean_at_high, s.swing]
            for s in report.sensitivity
        ],
    )
    _table(
        workbook,
        "Exceedance",
        spec.EXCEEDANCE,
        [[loss, p, 1 / p if p > 0 else None] for loss, p in report.exceedance],
    )
    _heatmap(workbook, report)
    _dictionary(workbook)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _put(sheet: Any, row: int, column: int, value: Any) -> Any:
    cell = sheet.cell(row=row, column=column, value=value)
    if isinstance(value, str) and value.startswith("="):
        cell.data_type = "s"  # text from the report is never a formula (a department id "=cmd|..." stays text)
    return cell


def _header(sheet: Any, columns: Sequence[Column]) -> None:
    for index, column in enumerate(columns, start=1):
        cell = _put(sheet, 1, index, column.header)
        cell.font = HEADER_FONT
        cell.fill = HEADER_FILL
        cell.alignment = Alignment(wrap_text=True, vertical="center")
        sheet.column_dimensions[get_column_letter(index)].width = column.width
    sheet.row_dimensions[1].height = 30
    sheet.freeze_panes = "A2"


def _table(workbook: Workbook, title: str, columns: Sequence[Column], rows: Iterable[Sequence[Any]]) -> Any:
    sheet = workbook.create_sheet(title)
    _header(sheet, columns)
    last = 1
    for r, values in enumerate(rows, start=2):
        for c, (column, value) in enumerate(zip(columns, values, strict=True), start=1):
            cell = _put(sheet, r, c, value)
            cell.number_format = column.number_format
            cell.alignment = WRAP if column.number_format == spec.TEXT else TOP
        last = r
    if last > 1:
        sheet.auto_filter.ref = f"A1:{get_column_letter(len(columns))}{last}"
    return sheet


# Summary -----------------------------------------------------------------------------------------------------------


def _distribution_rows(section: str, loss: Distribution) -> list[list[Any]]:
    names = {"mean": "Mean (expected annual loss)", "p10": "P10", "p50": "P50 (median)", "p90": "P90"}
    names |= {"p95": "P95 (1-in-20-year loss)", "p99": "P99 (1-in-100-year loss)"}
    return [[section, names[key], getattr(loss, key), "USD per year"] for key in names]


def _summary(workbook: Workbook, report: ExposureReport) -> None:
    e = report.evidence
    rows: list[list[Any]] = [
        ["Report", "Organisation", report.organisation, ""],
        ["Report", "Window from", report.window_from.isoformat(), "inclusive"],
        ["Report", "Window to", report.window_to.isoformat(), "inclusive; amounts are annualised"],
        ["Report", "Model version", report.model_version, ""],
        ["Report", "Seed", report.seed, "the same seed and inputs reproduce every figure"],
        ["Report", "Trials", report.trials, "simulated years"],
        ["Report", "Generated", timestamp(report.generated_at), ""],
        ["Headline", "Headline", headline(report), ""],
        *_distribution_rows("Modelled annual loss: total", report.total),
        *_distribution_rows("Response costs (shared, counted once)", report.shared_response),
        ["Observed (counts, not dollars)", "Events to AI tools", e.events, "count"],
        ["Observed (counts, not dollars)", "Events with company data labels", e.labelled_events, "count"],
        ["Observed (counts, not dollars)", "Distinct data subjects", e.distinct_subjects, "count"],
        ["Observed (counts, not dollars)", "AI tools", e.tools, "count"],
        ["Observed (counts, not dollars)", "Users", e.users, "count"],
        ["Observed (counts, not dollars)", "In words", evidence_line(report), ""],
        *[["Key findings", f"Finding {i}", line, ""] for i, line in enumerate(findings(report), start=1)],
        *[["Compliance notes (not fines)", f"Note {i}", flag, ""] for i, flag in enumerate(report.flags, start=1)],
        *[["Organisation profile", key, value, ""] for key, value in report.profile_summary.items()],
        ["Disclaimer", "Not legal advice", report.disclaimer, ""],
    ]
    sheet = _table(workbook, "Summary", spec.SUMMARY, rows)
    for r, values in enumerate(rows, start=2):
        value = sheet.cell(row=r, column=3)
        if values[3] == "USD per year":
            value.number_format = spec.CURRENCY
        elif isinstance(values[2], int) and values[1] != "Seed":
            value.number_format = spec.COUNT
        elif isinstance(values[2], str):
            value.alignment = WRAP
        sheet.cell(row=r, column=1).font = SECTION_FONT
    sheet.auto_filter.ref = None


# Tables ------------------------------------------------------------------------------------------------------------


def _regulation_rows(report: ExposureReport) -> list[list[Any]]:
    rows: list[list[Any]] = []
    for r in report.regulations:
        loss = r.loss
        rows.append(
            [
                str(r.regulation),
                regulation_name(r.regulation),
                "yes" if r.applies else "no",
                r.why,
                r.exposed_subjects,
                loss.mean,
                loss.p10,
                loss.p50,
                loss.p90,
                loss.p95,
                loss.p99,
            ]
        )
    return rows


def _share(part: float, whole: float) -> float | None:
    return part / whole if whole > 0 else None


def _tool_rows(report: ExposureReport) -> list[list[Any]]:
    total = report.total.mean
    return [
        [t.tool_id, t.tool_name, t.vendor, t.status, t.events, t.subjects, t.mean_loss, _share(t.mean_loss, total)]
        for t in sorted(report.tools, key=lambda t: t.mean_loss, reverse=True)
    ]


def _department_rows(report: ExposureReport) -> list[list[Any]]:
    total = report.total.mean
    return [
        [d.department, d.events, d.subjects, d.mean_loss, _share(d.mean_loss, total)]
        for d in sorted(report.departments, key=lambda d: d.mean_loss, reverse=True)
    ]


def _trend(workbook: Workbook, report: ExposureReport) -> None:
    # The chart's order: categories carrying the most expected loss first.
    categories = sorted(
        {c for m in report.monthly for c in m.events_by_category}, key=lambda c: category_rank(report, c)
    )
    columns = [
        *spec.TREND,
        *[
            Column(f"Events: {category_name(c)}", spec.TREND_CATEGORY.meaning, "count", spec.COUNT, 14)
            for c in categories
        ],
    ]
    rows = [
        [m.month, m.events, m.labelled_events, m.mean_loss, *[m.events_by_category.get(c, 0) for c in categories]]
        for m in report.monthly
    ]
    _table(workbook, "Trend", columns, rows)


def _assumptions(workbook: Workbook, report: ExposureReport) -> None:
    rows = [
        [a.parameter_id, a.description, a.value, a.unit, a.source, a.source_url, a.year, a.grade, a.override_note]
        for a in report.assumptions
    ]
    sheet = _table(workbook, "Assumptions", spec.ASSUMPTIONS, rows)
    for r in range(2, len(rows) + 2):
        for c, column in enumerate(spec.ASSUMPTIONS, start=1):
            cell = sheet.cell(row=r, column=c)
            if column.editable:
                cell.protection = Protection(locked=False)
                cell.font = INPUT_FONT
                cell.fill = INPUT_FILL
        url = sheet.cell(row=r, column=6)
        if isinstance(url.value, str) and url.value.startswith(("https://", "http://")):
            url.hyperlink = url.value
            url.font = Font(color="2A5D8F", underline="single")
        if rows[r - 2][8]:
            sheet.cell(row=r, column=1).font = Font(bold=True)
    for c, column in enumerate(spec.ASSUMPTIONS, start=1):
        if column.editable:
            sheet.cell(row=1, column=c).comment = Comment(column.meaning, "ShadowScope")
    # Protected without a password: the point is to mark what is an input, not to lock anyone out.
    sheet.protection.sheet = True
    sheet.protection.autoFilter = False
    sheet.protection.sort = False
    sheet.protection.formatColumns = False


def _heatmap(workbook: Workbook, report: ExposureReport) -> None:
    sheet = workbook.create_sheet("Heat map")
    names = {t.tool_id: t.tool_name for t in report.tools}
    tool_loss: dict[str, float] = defaultdict(float)
    category_loss: dict[str, float] = defaultdict(float)
    for cell in report.heatmap:
        tool_loss[cell.tool_id] += cell.mean_loss
        category_loss[cell.category] += cell.mean_loss
    tools = sorted(tool_loss, key=lambda t: tool_loss[t], reverse=True)
    categories = sorted(category_loss, key=lambda c: category_loss[c], reverse=True)
    loss = {(c.category, c.tool_id): c.mean_loss for c in report.heatmap}
    events = {(c.category, c.tool_id): c.events for c in report.heatmap}
    columns = [spec.HEATMAP_CATEGORY, *[Column(names.get(t, t), "", "", spec.CURRENCY, 14) for t in tools]]
    _header(sheet, columns)
    for r, category in enumerate(categories, start=2):
        _put(sheet, r, 1, category_name(category)).font = Font(bold=True)
        for c, tool in enumerate(tools, start=2):
            cell = _put(sheet, r, c, loss.get((category, tool)))
            cell.number_format = spec.CURRENCY
    if categories and tools:
        area = f"B2:{get_column_letter(len(tools) + 1)}{len(categories) + 1}"
        # One hue from white to navy: darker is more loss, with no pass/fail colours.
        sheet.conditional_formatting.add(
            area, ColorScaleRule(start_type="min", start_color="F4F7FA", end_type="max", end_color="5B7EA4")
        )
    # The second block repeats the grid with labelled event counts, under its own header row.
    start = len(categories) + 3
    _put(sheet, start, 1, "Labelled events").font = HEADER_FONT
    sheet.cell(row=start, column=1).fill = HEADER_FILL
    for c, tool in enumerate(tools, start=2):
        header = _put(sheet, start, c, names.get(tool, tool))
        header.font = HEADER_FONT
        header.fill = HEADER_FILL
    for r, category in enumerate(categories, start=start + 1):
        _put(sheet, r, 1, category_name(category)).font = Font(bold=True)
        for c, tool in enumerate(tools, start=2):
            _put(sheet, r, c, events.get((category, tool))).number_format = spec.COUNT
    sheet.cell(row=1, column=1).comment = Comment(
        "Top block: expected annual loss (USD per year). Bottom block: labelled events.", "ShadowScope"
    )


def _dictionary(workbook: Workbook) -> None:
    rows = [
        [sheet, column.header, column.meaning, column.unit]
        for sheet, columns in spec.DICTIONARY_ENTRIES
        for column in columns
    ]
    _table(workbook, "Data dictionary", spec.DICTIONARY, rows)
