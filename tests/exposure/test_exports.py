"""The board exports: golden structure of the JSON, CSV and XLSX, the same numbers in each, and a PDF that renders."""

from __future__ import annotations

import csv
import io
import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from openpyxl import load_workbook
from PIL import Image
from pypdf import PdfReader

from exposure.exports import (
    FORMATS,
    SCHEMA_ID,
    csv_text,
    json_text,
    pdf_bytes,
    render_json,
    write_exports,
    xlsx_bytes,
)
from exposure.exports.formatting import money
from exposure.exports.summary import headline
from exposure.report import DepartmentExposure, ExposureReport, ToolExposure
from tests.support.exposure_reports import empty_report, sample_report

JSON_KEYS = [
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
]
CSV_COLUMNS = ["window_from", "window_to", "scope", "key", "label", "metric", "value", "unit"]
SHEETS = [
    "Summary",
    "By regulation",
    "By tool",
    "By department",
    "Trend",
    "Assumptions",
    "Sensitivity",
    "Exceedance",
    "Heat map",
    "Data dictionary",
]
DISTRIBUTION = ["Mean", "P10", "P50", "P90", "P95", "P99"]
HEADERS = {
    "Summary": ["Section", "Item", "Value", "Unit"],
    "By regulation": ["Regulation id", "Regulation", "Applies", "Why", "Exposed subjects", *DISTRIBUTION],
    "By tool": ["Tool id", "Tool", "Vendor", "Status", "Events", "Data subjects", "Mean annual loss", "Share of total"],
    "By department": ["Department", "Events", "Data subjects", "Mean annual loss", "Share of total"],
    "Assumptions": [
        "Parameter id",
        "Description",
        "Value (input)",
        "Unit",
        "Source",
        "Source URL",
        "Year",
        "Grade",
        "Override justification (input)",
    ],
    "Sensitivity": ["Parameter id", "Description", "Mean at P10", "Mean at P90", "Swing"],
    "Exceedance": ["Annual loss", "Probability of exceeding", "Return period (years)"],
    "Data dictionary": ["Sheet", "Column", "Meaning", "Unit"],
}


@pytest.fixture(scope="module")
def report() -> ExposureReport:
    return sample_report()


@pytest.fixture(scope="module")
def sample_pdf(report: ExposureReport) -> bytes:
    return pdf_bytes(report)


def _numbers(value: Any) -> Iterator[float]:
    """Every number in a JSON document (booleans are not numbers here)."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return
    if isinstance(value, int | float):
        yield float(value)
    elif isinstance(value, dict):
        for item in value.values():
            yield from _numbers(item)
    elif isinstance(value, list):
        for item in value:
            yield from _numbers(item)


def _csv_rows(report: ExposureReport) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(csv_text(report))))


def _pdf_text(data: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(data)).pages]


# write_exports -----------------------------------------------------------------------------------------------------


def test_write_exports_writes_every_format_under_fixed_names(tmp_path: Path) -> None:
    paths = write_exports(empty_report(), tmp_path / "out", ["pdf", "XLSX", " csv", "json", "pdf"])

    assert [p.name for p in paths] == ["report.pdf", "report.xlsx", "report.csv", "report.json"]
    assert all(p.stat().st_size > 0 for p in paths)
    assert FORMATS == ("pdf", "xlsx", "csv", "json")


def test_an_unknown_format_is_named_and_nothing_is_written(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="'docx'"):
        write_exports(sample_report(), tmp_path, ["json", "docx"])

    assert list(tmp_path.iterdir()) == []


def test_an_empty_report_writes_all_four_files_that_say_so(tmp_path: Path) -> None:
    paths = write_exports(empty_report(), tmp_path, FORMATS)

    assert {p.name for p in paths} == {"report.pdf", "report.xlsx", "report.csv", "report.json"}
    pages = _pdf_text((tmp_path / "report.pdf").read_bytes())
    assert len(pages) == 2  # summary and assumptions: no empty chart pages
    assert "No AI-tool events were observed" in pages[0]
    assert not any(page.images for page in PdfReader(tmp_path / "report.pdf").pages)
    doc = json.loads((tmp_path / "report.json").read_text())
    assert (doc["tools"], doc["exceedance"], doc["evidence"]["events"]) == ([], [], 0)
    assert load_workbook(tmp_path / "report.xlsx").sheetnames == SHEETS


# JSON --------------------------------------------------------------------------------------------------------------


def test_json_has_the_documented_top_level_keys_and_schema_id(report: ExposureReport) -> None:
    doc = json.loads(json_text(report))

    assert list(doc) == JSON_KEYS
    assert doc["schema"] == SCHEMA_ID == "shadowscope/exposure-report/v1"
    assert doc["run"] == {
        "model_version": "1.0.0",
        "seed": 20261202,
        "trials": 20_000,
        "generated_at": "2026-12-02T09:30:00+00:00",
    }
    assert doc["window"] == {"from": "2026-06-01", "to": "2026-11-30"}
    assert set(doc["total"]) == {"mean", "p10", "p50", "p90", "p95", "p99"}
    assert set(doc["regulations"][0]) == {"id", "name", "applies", "why", "exposed_subjects", "loss"}
    assert set(doc["tools"][0]) == {"id", "name", "vendor", "status", "events", "subjects", "mean_loss"}
    assert set(doc["exceedance"][0]) == {"loss", "probability"}
    overridden = [a for a in doc["assumptions"] if a["override_note"]]
    assert [a["parameter_id"] for a in overridden] == ["state_breach.notification_cost", "vendor.retention_probability"]


def test_json_carries_the_reports_unrounded_numbers(report: ExposureReport) -> None:
    doc = render_json(report)

    assert doc["total"]["p95"] == report.total.p95
    assert doc["sensitivity"][0]["swing"] == report.sensitivity[0].swing
    assert json.loads(json_text(report)) == doc  # round-trips exactly


# CSV ---------------------------------------------------------------------------------------------------------------


def test_csv_is_long_format_with_the_documented_columns_and_scopes(report: ExposureReport) -> None:
    header = next(csv.reader(io.StringIO(csv_text(report))))
    rows = _csv_rows(report)

    assert header == CSV_COLUMNS
    assert {r["scope"] for r in rows} == {
        "run",
        "evidence",
        "total",
        "shared_response",
        "regulation",
        "exceedance",
        "tool",
        "category_tool",
        "month",
        "month_category",
        "department",
        "sensitivity",
        "assumption",
        "flag",
    }
    assert {(r["window_from"], r["window_to"]) for r in rows} == {("2026-06-01", "2026-11-30")}
    keys = [(r["scope"], r["key"], r["metric"]) for r in rows]
    assert len(keys) == len(set(keys))  # one row per (scope, key, metric)


def test_every_json_number_is_in_the_csv_and_no_other(report: ExposureReport) -> None:
    json_numbers = set(_numbers(render_json(report)))
    csv_numbers = {float(r["value"]) for r in _csv_rows(report) if r["unit"] not in {"text", "boolean"} and r["value"]}

    assert json_numbers == csv_numbers
    assert len(json_numbers) > 300


def test_csv_rows_hold_the_same_figure_as_the_json(report: ExposureReport) -> None:
    doc = render_json(report)
    by_key = {(r["scope"], r["key"], r["metric"]): r for r in _csv_rows(report)}

    assert float(by_key["total", "all", "mean"]["value"]) == doc["total"]["mean"]
    assert float(by_key["regulation", "hipaa", "p90"]["value"]) == doc["regulations"][0]["loss"]["p90"]
    assert by_key["regulation", "glba", "applies"]["value"] == "false"
    assert float(by_key["tool", "deepseek-chat", "mean_loss"]["value"]) == doc["tools"][1]["mean_loss"]
    assert by_key["tool", "deepseek-chat", "status"]["value"] == "unsanctioned"
    assert int(by_key["category_tool", "health/otter-ai", "events"]["value"]) == 31
    assert (
        int(by_key["month_category", "2026-11/personal_data", "events"]["value"])
        == doc["monthly"][5]["events_by_category"]["personal_data"]
    )
    assert float(by_key["exceedance", "1", "probability"]["value"]) == doc["exceedance"][0]["probability"]
    assert by_key["assumption", "response.cost_per_record", "value"]["value"] == "Lognormal90($120, $260)"
    assert by_key["assumption", "response.cost_per_record", "unit"]["value"] == "usd_per_subject"
    assert by_key["assumption", "state_breach.notification_cost", "override_note"]["value"].startswith("Replaced")
    assert by_key["run", "run", "seed"]["value"] == "20261202"


def test_text_that_a_spreadsheet_would_run_as_a_formula_stays_text(tmp_path: Path) -> None:
    hostile = '=HYPERLINK("http://example.invalid")'
    report = sample_report(
        departments=(DepartmentExposure(hostile, 3, 2, 1000.0),),
        tools=(ToolExposure("x", "AT&T <Chat>", None, "unknown", 3, 2, 1000.0),),
    )

    rows = _csv_rows(report)
    workbook = load_workbook(io.BytesIO(xlsx_bytes(report)))
    department = workbook["By department"]["A2"]

    # CSV: the OWASP defence, a leading apostrophe, so a spreadsheet shows the text instead of running it.
    assert {r["key"] for r in rows if r["scope"] == "department"} == {"'" + hostile}
    assert not any(value.startswith("=") for r in rows for value in r.values())
    # JSON and XLSX keep the id exactly as given; the XLSX cell is typed as text, not a formula.
    assert render_json(report)["departments"][0]["id"] == hostile
    assert (department.value, department.data_type) == (hostile, "s")
    assert len(PdfReader(io.BytesIO(pdf_bytes(report))).pages) >= 2  # markup characters do not break the PDF


# XLSX --------------------------------------------------------------------------------------------------------------


def test_xlsx_has_the_documented_sheets_and_header_rows(report: ExposureReport) -> None:
    workbook = load_workbook(io.BytesIO(xlsx_bytes(report)))

    assert workbook.sheetnames == SHEETS
    for name, header in HEADERS.items():
        sheet = workbook[name]
        assert [c.value for c in sheet[1]] == header, name
        assert sheet.freeze_panes == "A2", name
        assert sheet["A1"].font.bold, name
    trend = [c.value for c in workbook["Trend"][1]]
    assert trend[:4] == ["Month", "Events", "Labelled events", "Mean annual loss"]
    assert trend[4] == "Events: Personal data"  # largest expected loss first, as in the chart
    heatmap = [c.value for c in workbook["Heat map"][1]]
    assert heatmap[:3] == ["Data category", "ChatGPT", "DeepSeek"]


def same(value: float) -> Any:
    """Equal to Excel's precision: openpyxl writes 15-16 significant digits, not every bit of a float."""
    return pytest.approx(value, rel=1e-14)


def test_xlsx_numbers_are_the_reports_with_display_formats(report: ExposureReport) -> None:
    workbook = load_workbook(io.BytesIO(xlsx_bytes(report)))

    summary = {(row[0], row[1]): row[2] for row in workbook["Summary"].iter_rows(min_row=2, values_only=True)}
    assert summary["Modelled annual loss: total", "Mean (expected annual loss)"] == same(report.total.mean)
    assert summary["Modelled annual loss: total", "P95 (1-in-20-year loss)"] == same(report.total.p95)
    assert summary["Response costs (shared, counted once)", "P50 (median)"] == same(report.shared_response.p50)
    assert summary["Observed (counts, not dollars)", "Events to AI tools"] == report.evidence.events
    assert summary["Report", "Seed"] == report.seed
    tools = workbook["By tool"]
    assert tools["G2"].value == same(report.tools[0].mean_loss)
    assert tools["G2"].number_format == '"$"#,##0'
    assert tools["H2"].number_format == "0.0%"
    exceedance = workbook["Exceedance"]
    assert exceedance["B2"].value == same(report.exceedance[0][1])
    dictionary = {(row[0], row[1]) for row in workbook["Data dictionary"].iter_rows(min_row=2, values_only=True)}
    for name, header in HEADERS.items():
        assert {(name, column) for column in header} <= dictionary


def test_xlsx_assumption_inputs_are_unlocked_and_marked(report: ExposureReport) -> None:
    sheet = load_workbook(io.BytesIO(xlsx_bytes(report)))["Assumptions"]

    assert sheet.protection.sheet
    value, source, override = sheet["C2"], sheet["E2"], sheet["I2"]
    assert (value.protection.locked, override.protection.locked) == (False, False)
    assert source.protection.locked
    assert value.fill.fgColor.rgb.endswith("FFF4D6")
    overridden = [row[0].value for row in sheet.iter_rows(min_row=2) if row[8].value]
    assert overridden == ["state_breach.notification_cost", "vendor.retention_probability"]


# PDF ---------------------------------------------------------------------------------------------------------------


def test_pdf_is_a_two_to_six_page_board_report(report: ExposureReport, sample_pdf: bytes) -> None:
    pages = _pdf_text(sample_pdf)
    text = "\n".join(pages)

    assert 2 <= len(pages) <= 6
    assert money(report.total.mean) == "$1.8M"
    assert "$1.8M" in pages[0]
    assert "1-in-20-year loss $6.4M" in pages[0]
    for page in pages:  # the footer on every page ties it to its run
        assert "seed 20261202" in page
        assert "model 1.0.0" in page
        assert "not legal advice" in page.lower()
    assert "Assumptions and sources" in text
    assert "Replaced the default PERT($5, $15, $40)" in text  # override justifications are printed


def test_headline_states_mean_median_interval_and_tail(report: ExposureReport) -> None:
    assert headline(report) == (
        "Expected annual loss $1.8M (median $929K; 80% interval $207K\u2013$4.2M); 1-in-20-year loss $6.4M."
    )


def test_a_report_missing_some_series_prints_a_sentence_instead_of_an_empty_chart() -> None:
    report = sample_report(sensitivity=(), monthly=(), departments=())

    text = "\n".join(_pdf_text(pdf_bytes(report)))

    assert "No sensitivity analysis was included in this run." in text
    assert "No monthly figures in this run." in text
    assert "No department breakdown in this run." in text


def test_pdf_pages_render_and_are_not_blank(sample_pdf: bytes, tmp_path: Path) -> None:
    pdftoppm = shutil.which("pdftoppm")
    if pdftoppm is None:
        pytest.skip("pdftoppm not found: install poppler-utils to render the PDF pages in this test")
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(sample_pdf)

    subprocess.run([pdftoppm, "-png", "-r", "30", str(pdf), str(tmp_path / "page")], check=True, timeout=60)

    images = sorted(tmp_path.glob("page-*.png"))
    assert len(images) == len(PdfReader(pdf).pages)
    for image in images:
        with Image.open(image) as page:
            grey = page.convert("L")
            inked = sum(grey.histogram()[:200])  # pixels darker than near-white
            assert inked / (grey.width * grey.height) > 0.01, image.name


# Money formatting --------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "text"),
    [
        (0, "$0"),
        (950, "$950"),
        (9_500, "$9.5K"),
        (350_000, "$350K"),
        (999_960, "$1.0M"),
        (1_234_567, "$1.2M"),
        (12_345_678, "$12.3M"),
        (123_000_000, "$123M"),
        (2.5e9, "$2.5B"),
        (-350_000, "-$350K"),
    ],
)
def test_money_reads_the_same_everywhere(amount: float, text: str) -> None:
    assert money(amount) == text


def test_exports_are_deterministic_for_the_same_report(report: ExposureReport) -> None:
    assert csv_text(report) == csv_text(replace(report))
    assert json_text(report) == json_text(replace(report))
