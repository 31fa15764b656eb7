"""The board report (PDF): what it says, page by page.

1. Executive summary: the headline loss with its range, the observed evidence in counts (kept apart from dollars),
   the top findings and the compliance notes that are not fines.
2. Where the exposure comes from: regulations (mean with P10 to P90) and the loss exceedance curve.
3. Which AI tools: the top tools, sanctioned against unsanctioned, and the data category by tool heat map.
4. Trend, departments and what drives the estimate (tornado).
5. Assumptions and sources, overrides highlighted; method notes and the disclaimer.

A run with no events prints the summary saying so, and the assumptions, with no empty charts.
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

from reportlab.lib import colors
from reportlab.lib.units import inch
from reportlab.platypus import CondPageBreak, KeepTogether, PageBreak, Paragraph, Spacer

from exposure.exports import charts
from exposure.exports.formatting import DASH, TIMES, count, day, money, share
from exposure.exports.names import regulation_name, status_name
from exposure.exports.pdf_layout import (
    EVIDENCE_PANEL,
    OVERRIDE,
    PANEL,
    STYLES,
    TEXT_WIDTH,
    build,
    chart,
    markup,
    panel,
    table,
    text,
)
from exposure.exports.summary import evidence_line, findings, has_events, headline
from exposure.report import ExposureReport

_W = TEXT_WIDTH


def pdf_bytes(report: ExposureReport) -> bytes:
    # Charts are drawn once; the layout is built twice (page count) from the same PNGs.
    pngs = {
        "regulations": charts.regulation_bars(report),
        "exceedance": charts.exceedance_curve(report),
        "tools": charts.top_tools(report),
        "status": charts.status_split(report),
        "heatmap": charts.heatmap(report),
        "trend": charts.monthly_trend(report),
        "tornado": charts.tornado(report),
    }
    return build(report, lambda: _story(report, pngs))


def _story(report: ExposureReport, pngs: dict[str, bytes | None]) -> list[Any]:
    story = _summary(report)
    if not has_events(report):
        return [*story, PageBreak(), *_assumptions(report)]
    story += [PageBreak(), *_regulations(report, pngs), PageBreak(), *_tools(report, pngs)]
    story += [PageBreak(), *_trend_and_drivers(report, pngs)]
    # The assumptions start a page unless a chart spilled over: then they follow it rather than leave a page mostly
    # empty, which keeps even a long parameter list within six pages.
    story += [CondPageBreak(4 * inch), *_assumptions(report)]
    return story


def _figure(heading: Any, png: bytes | None, aspect: float, caption: str, missing: str) -> list[Any]:
    """A chart under its heading with its caption, kept on one page; or one muted sentence when there is nothing to
    draw, so an empty series never shows as a broken-looking empty chart."""
    if png is None:
        return [heading, text(missing, "empty")] if heading is not None else [text(missing, "empty")]
    parts = [chart(png, aspect), text(caption, "caption")]
    return [KeepTogether([heading, *parts] if heading is not None else parts)]


def _aspect(png: bytes | None) -> float:
    """Height over width of a PNG, read from its header: charts choose their own height by content."""
    if png is None:
        return 0.0
    width = int.from_bytes(png[16:20], "big")
    height = int.from_bytes(png[20:24], "big")
    return height / width


def _chart(
    pngs: dict[str, bytes | None], name: str, caption: str, missing: str, heading: str | None = None
) -> list[Any]:
    png = pngs[name]
    title = markup(heading, "h2") if heading else None
    return _figure(title, png, _aspect(png), caption, missing)


# Page 1 ------------------------------------------------------------------------------------------------------------


def _summary(report: ExposureReport) -> list[Any]:
    story: list[Any] = [
        markup("AI tool data exposure", "title"),
        text(
            f"{report.organisation}  ·  board summary  ·  {day(report.window_from)} to {day(report.window_to)}",
            "subtitle",
        ),
        Spacer(1, 10),
        _headline_panel(report),
        Spacer(1, 8),
        _evidence_panel(report),
    ]
    found = findings(report)
    if found:
        story.append(markup("Key findings", "h2"))
        story += [Paragraph(escape(line), STYLES["bullet"], bulletText="•") for line in found]
    else:
        story += [
            markup("What this means", "h2"),
            text(
                "No AI-tool events carrying company data were seen in the window, so there is nothing to price "
                "and this report contains no charts. This reflects what the network sensors and the browser "
                "extension observed; it is not proof that no data left the organisation. Check sensor and "
                "extension coverage before relying on it."
            ),
        ]
    if report.flags:
        story.append(markup("Compliance notes (not priced as fines)", "h2"))
        story += [Paragraph(escape(flag), STYLES["bullet"], bulletText="•") for flag in report.flags]
    story += [markup("How to read the figures", "h2"), *_reading_notes(report), Spacer(1, 8)]
    # On the first page, where the board reads it; every footer repeats that this is not legal advice.
    story.append(
        panel([[markup("<b>Not legal advice.</b>", "small")], [text(report.disclaimer, "small")]], [_W], PANEL)
    )
    return story


def _headline_panel(report: ExposureReport) -> Any:
    total = report.total
    label = markup("MODELLED ANNUAL LOSS  ·  US DOLLARS PER YEAR  ·  MONTE CARLO ESTIMATE", "label")
    if not has_events(report):
        return panel([[label], [markup(money(0), "big")], [text(headline(report))]], [_W], PANEL, full_rows=(0, 1, 2))
    kpis = [
        ("Median (P50)", money(total.p50)),
        (f"80% interval (P10{DASH}P90)", f"{money(total.p10)}{DASH}{money(total.p90)}"),
        ("1-in-20-year loss (P95)", money(total.p95)),
        ("1-in-100-year loss (P99)", money(total.p99)),
    ]
    quarter = _W / 4
    return panel(
        [
            [label, "", "", ""],
            [markup(f"{money(total.mean)} <font size=11>expected annual loss</font>", "big"), "", "", ""],
            [text(headline(report)), "", "", ""],
            [text(name, "label") for name, _ in kpis],
            [text(value, "kpi") for _, value in kpis],
        ],
        [quarter] * 4,
        PANEL,
        full_rows=(0, 1, 2),
    )


def _evidence_panel(report: ExposureReport) -> Any:
    e = report.evidence
    kpis = [
        ("Events to AI tools", e.events),
        ("With company data labels", e.labelled_events),
        ("Distinct data subjects", e.distinct_subjects),
        ("AI tools", e.tools),
        ("Users", e.users),
    ]
    fifth = _W / 5
    return panel(
        [
            [markup("OBSERVED  ·  COUNTS, NOT DOLLARS", "label"), "", "", "", ""],
            [text(name, "label") for name, _ in kpis],
            [text(count(value), "kpi") for _, value in kpis],
            [text(evidence_line(report), "small"), "", "", "", ""],
        ],
        [fifth] * 5,
        EVIDENCE_PANEL,
        full_rows=(0, 3),
    )


def _reading_notes(report: ExposureReport) -> list[Any]:
    notes = [
        "Expected annual loss is the mean over all simulated years; most years cost less, a few cost much more. "
        "The 80% interval holds the middle 80% of simulated years; the 1-in-20-year loss is exceeded in 5% of them.",
        "Means add up across regulations and tools to the total; percentiles do not, because bad years for one "
        "regulation are not always bad years for another.",
        "Dollar figures are modelled from the observed counts and the assumptions on the last page; every "
        "assumption has a source and a confidence grade (A primary source, B restated, C judgement).",
        f"Method: Open FAIR style Monte Carlo, {count(report.trials)} simulated years, seed {report.seed}, model "
        f"version {report.model_version}; the same seed and inputs reproduce every figure. Events observed from "
        f"{day(report.window_from)} to {day(report.window_to)} are annualised. The report holds aggregates only: "
        "no prompt text, snippet or personal identifier.",
    ]
    items = [Paragraph(escape(note), STYLES["bullet"], bulletText="•") for note in notes]
    if report.profile_summary:
        profile = "; ".join(f"{k}: {v}" for k, v in report.profile_summary.items())
        items.append(text(f"Organisation profile used: {profile}.", "caption"))
    return items


# Page 2 ------------------------------------------------------------------------------------------------------------


def _regulations(report: ExposureReport, pngs: dict[str, bytes | None]) -> list[Any]:
    story: list[Any] = [markup("Where the exposure comes from", "h1")]
    story += _chart(
        pngs,
        "regulations",
        "Bars: expected (mean) annual loss per regulation; whiskers: P10 to P90. Response costs are counted once per "
        "loss event, outside every regulation. The means add up to the total expected loss; the percentiles do "
        "not add up across regulations.",
        "No regulation carries modelled loss in this run.",
    )
    header = ["Regulation", "Applies", "Why", "Subjects", "Mean", "P10", "P50", "P90", "P95"]
    rows: list[list[Any]] = [header]
    for r in sorted(report.regulations, key=lambda r: (not r.applies, -r.loss.mean)):
        loss = r.loss
        figures = [money(v) for v in (loss.mean, loss.p10, loss.p50, loss.p90, loss.p95)] if r.applies else [""] * 5
        rows.append(
            [
                text(regulation_name(r.regulation), "small"),
                "Yes" if r.applies else "No",
                text(r.why, "small"),
                count(r.exposed_subjects) if r.applies else "",
                *figures,
            ]
        )
    shared = report.shared_response
    rows.append(
        [
            text("Response costs (shared)", "small"),
            "",
            text("Counted once per loss event", "small"),
            "",
            *[money(v) for v in (shared.mean, shared.p10, shared.p50, shared.p90, shared.p95)],
        ]
    )
    total = report.total
    rows.append(
        [
            markup("<b>Total</b>", "small"),
            "",
            text("Simulated together, not summed", "small"),
            "",
            *[money(v) for v in (total.mean, total.p10, total.p50, total.p90, total.p95)],
        ]
    )
    money_col = 0.58 * inch
    widths = [1.25 * inch, 0.5 * inch, _W - 1.75 * inch - 0.6 * inch - 5 * money_col, 0.6 * inch, *[money_col] * 5]
    story.append(
        table(
            rows,
            widths,
            numeric_from=3,
            extra=[("FONTNAME", (4, len(rows) - 1), (-1, len(rows) - 1), "Helvetica-Bold")],
        )
    )
    story += [Spacer(1, 4)]
    story += _chart(
        pngs,
        "exceedance",
        charts.exceedance_note(report)
        + " The amount axis is logarithmic when losses span a wide range: each step is a multiple, not an addition.",
        "The run produced no loss exceedance points.",
        heading="How large a bad year can get",
    )
    return story


# Page 3 ------------------------------------------------------------------------------------------------------------


def _tools(report: ExposureReport, pngs: dict[str, bytes | None]) -> list[Any]:
    story: list[Any] = [markup("Which AI tools carry the exposure", "h1")]
    story += _chart(
        pngs,
        "tools",
        "Each tool's share of the expected annual loss (allocated within the same simulated years), coloured by "
        "the organisation's policy status, with the events observed."
        + _left_out(len(report.tools), charts.TOP_TOOLS, "tools"),
        "No AI tool carries modelled loss in this run.",
    )
    story += _chart(
        pngs,
        "status",
        _status_caption(report),
        "No tool status information in this run.",
        heading="Sanctioned against unsanctioned use",
    )
    story += _chart(
        pngs,
        "heatmap",
        "Each cell: expected annual loss (top) and labelled events (bottom) for one kind of data sent to one tool. "
        "Darker cells carry more expected loss; the shade is relative to the largest cell, not a pass/fail rating.",
        "No labelled events to show by data category and tool.",
        heading=f"Data category {TIMES} AI tool",
    )
    return story


def _left_out(total: int, shown: int, what: str) -> str:
    if total <= shown:
        return ""
    return f" The {shown} largest of {total} {what} are shown; all are in the spreadsheet."


def _status_caption(report: ExposureReport) -> str:
    events = sum(t.events for t in report.tools)
    loss = sum(t.mean_loss for t in report.tools)
    parts = []
    for status in ("sanctioned", "tolerated", "unsanctioned", "unknown"):
        mine = [t for t in report.tools if t.status == status]
        if mine:
            parts.append(
                f"{status_name(status)}: {share(sum(t.events for t in mine), events)} of events, "
                f"{share(sum(t.mean_loss for t in mine), loss)} of expected loss"
            )
    return "; ".join(parts) + "."


# Page 4 ------------------------------------------------------------------------------------------------------------


def _trend_and_drivers(report: ExposureReport, pngs: dict[str, bytes | None]) -> list[Any]:
    story: list[Any] = [markup("Trend, departments and what drives the estimate", "h1")]
    story += _chart(
        pngs,
        "trend",
        "Top: events per month by data label (grey: events with no company data label, counted but not priced). "
        "Bottom: each month's share of the expected annual loss.",
        "No monthly figures in this run.",
    )
    story += [markup("Departments", "h2"), *_departments(report)]
    story += _chart(
        pngs,
        "tornado",
        "Expected annual loss in the simulated years where one assumption fell in its lowest tenth (light, at or "
        "below its P10) or its highest tenth (dark, at or above its P90), everything else as simulated. The widest "
        "bars are the assumptions most worth refining; the rest matter less."
        + _left_out(len(report.sensitivity), charts.TORNADO_ITEMS, "parameters"),
        "No sensitivity analysis was included in this run.",
        heading="What moves the estimate most",
    )
    return story


def _departments(report: ExposureReport, limit: int = 8) -> list[Any]:
    departments = sorted(report.departments, key=lambda d: d.mean_loss, reverse=True)
    if not departments:
        return [text("No department breakdown in this run.", "empty")]
    total = report.total.mean
    rows: list[list[Any]] = [["Department", "Events", "Data subjects", "Expected annual loss", "Share of total"]]
    for d in departments[:limit]:
        rows.append(
            [
                text(d.department, "small"),
                count(d.events),
                count(d.subjects),
                money(d.mean_loss),
                share(d.mean_loss, total),
            ]
        )
    story: list[Any] = [table(rows, [_W - 4 * 1.15 * inch, *[1.15 * inch] * 4], numeric_from=1)]
    if len(departments) > limit:
        rest = departments[limit:]
        story.append(
            text(
                f"{len(rest)} more departments carry {money(sum(d.mean_loss for d in rest))} together; "
                "all are in the spreadsheet.",
                "caption",
            )
        )
    story.append(text("Department ids are shown as the organisation configured them.", "caption"))
    return story


# Page 5 ------------------------------------------------------------------------------------------------------------


def _assumptions(report: ExposureReport) -> list[Any]:
    story: list[Any] = [
        markup("Assumptions and sources", "h1"),
        text(
            "Every dollar figure rests on these parameters. Grade A: a primary source (statute, regulator, "
            "official table); B: a primary source restated by a credible secondary one; C: calibrated judgement. "
            "Rows highlighted were changed by the organisation; the justification is printed under the row.",
            "caption",
        ),
    ]
    if not report.assumptions:
        return [*story, text("No assumptions were recorded for this run.", "empty")]
    rows: list[list[Any]] = [["Parameter", "Value", "Unit", "Source", "Year", "Grade"]]
    extra: list[tuple[Any, ...]] = []
    for a in report.assumptions:
        # Compact rows (forty parameters must fit on about a page): the id follows the description, and the
        # source's host is printed as a link to the full address, which the spreadsheet and JSON carry in full.
        source = escape(a.source)
        if a.source_url:
            link = escape(a.source_url, {'"': "&quot;"})
            source += f' <a href="{link}" color="#2a5d8f">({escape(_host(a.source_url))})</a>'
        rows.append(
            [
                markup(
                    f"<b>{escape(a.description)}</b> <font color='#5f6b76'>{escape(a.parameter_id)}</font>", "table"
                ),
                text(a.value, "table"),
                text(_UNITS.get(a.unit, a.unit.replace("_", " ")), "table"),
                markup(source, "table"),
                str(a.year) if a.year else DASH,
                a.grade,
            ]
        )
        if a.override_note:
            first = len(rows) - 1
            rows.append(
                [markup(f"<b>Override by the organisation:</b> {escape(a.override_note)}", "table"), "", "", "", "", ""]
            )
            extra += [
                ("BACKGROUND", (0, first), (-1, first + 1), OVERRIDE),
                ("SPAN", (0, first + 1), (-1, first + 1)),
                ("LINEBELOW", (0, first), (-1, first), 0, colors.white),
                ("NOSPLIT", (0, first), (-1, first + 1)),  # an override note never lands apart from its parameter
            ]
    widths = [2.55 * inch, 1.2 * inch, 0.7 * inch, _W - 5.25 * inch, 0.4 * inch, 0.4 * inch]
    style = [("ALIGN", (4, 0), (5, -1), "CENTER"), ("FONTSIZE", (0, 0), (-1, -1), 6.8), *extra]
    story.append(table(rows, widths, extra=style))
    return story


_UNITS = {
    "usd": "USD",
    "eur": "EUR",
    "usd_per_subject": "USD / subject",
    "usd_per_eur": "USD per EUR",
}


def _host(url: str) -> str:
    return url.split("://", 1)[-1].split("/", 1)[0].removeprefix("www.")
