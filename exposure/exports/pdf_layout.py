"""The board report's page furniture: paper, styles, tables, the footer every page carries, and the build.

Kept apart from pdf.py, which decides what the report says, so the look can change without touching the content.
"""

from __future__ import annotations

import io
from collections.abc import Callable, Sequence
from typing import Any
from xml.sax.saxutils import escape

from reportlab import rl_config
from reportlab.lib import colors
from reportlab.lib.pagesizes import letter
from reportlab.lib.styles import ParagraphStyle, getSampleStyleSheet
from reportlab.lib.units import inch
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Table, TableStyle

from exposure.exports.formatting import count, day, timestamp
from exposure.report import ExposureReport

# Images as binary streams, not ASCII85 text: without reportlab's C accelerator, ASCII85 encoding the charts is most
# of the build time, and it makes the file a quarter larger. A PDF is a binary file either way.
rl_config.useA85 = 0

PAGE = letter  # US dollars and US regulations: the reader's paper is Letter
MARGIN = 0.7 * inch
FOOTER_SPACE = 0.45 * inch
TEXT_WIDTH = PAGE[0] - 2 * MARGIN

NAVY = colors.HexColor("#1f3a5f")
PANEL = colors.HexColor("#eef2f7")
EVIDENCE_PANEL = colors.HexColor("#f3f3f1")
RULE = colors.HexColor("#c9d6e3")
MUTED = colors.HexColor("#5f6b76")
OVERRIDE = colors.HexColor("#fff4d6")  # a pale highlight: an override is a fact to notice, not a warning

_base = getSampleStyleSheet()
STYLES: dict[str, ParagraphStyle] = {
    "title": ParagraphStyle("title", _base["Title"], fontSize=19, leading=23, alignment=0, textColor=NAVY),
    "subtitle": ParagraphStyle("subtitle", _base["Normal"], fontSize=10, leading=13, textColor=MUTED),
    "h1": ParagraphStyle("h1", _base["Heading1"], fontSize=14, leading=17, textColor=NAVY, spaceBefore=2),
    "h2": ParagraphStyle("h2", _base["Heading2"], fontSize=11, leading=14, textColor=NAVY, spaceBefore=8),
    "body": ParagraphStyle("body", _base["Normal"], fontSize=9, leading=12),
    "small": ParagraphStyle("small", _base["Normal"], fontSize=7.5, leading=9.5),
    "table": ParagraphStyle("table", _base["Normal"], fontSize=6.8, leading=8.2),
    "caption": ParagraphStyle("caption", _base["Normal"], fontSize=7.5, leading=9.5, textColor=MUTED, spaceAfter=4),
    "bullet": ParagraphStyle("bullet", _base["Normal"], fontSize=9, leading=12, leftIndent=12, bulletIndent=2),
    "label": ParagraphStyle("label", _base["Normal"], fontSize=7, leading=9, textColor=MUTED),
    "big": ParagraphStyle("big", _base["Normal"], fontName="Helvetica-Bold", fontSize=22, leading=26, textColor=NAVY),
    "kpi": ParagraphStyle("kpi", _base["Normal"], fontName="Helvetica-Bold", fontSize=12, leading=15, textColor=NAVY),
    "empty": ParagraphStyle("empty", _base["Normal"], fontSize=9, leading=12, textColor=MUTED, spaceBefore=4),
}


def text(value: str, style: str = "body") -> Paragraph:
    """A paragraph of data-derived text: escaped, because a tool name such as 'AT&T Chat' is not markup."""
    return Paragraph(escape(value), STYLES[style])


def markup(value: str, style: str = "body") -> Paragraph:
    """A paragraph of our own markup (bold, colour); never pass report data unescaped."""
    return Paragraph(value, STYLES[style])


def chart(png: bytes, height_over_width: float) -> Image:
    return Image(io.BytesIO(png), width=TEXT_WIDTH, height=TEXT_WIDTH * height_over_width)


def table(
    rows: Sequence[Sequence[Any]],
    widths: Sequence[float],
    numeric_from: int | None = None,
    extra: Sequence[tuple[Any, ...]] = (),
) -> Table:
    """A report table: navy header, hairline rows, numbers right-aligned from column `numeric_from` on."""
    result = Table(list(rows), colWidths=list(widths), repeatRows=1)
    style: list[tuple[Any, ...]] = [
        ("BACKGROUND", (0, 0), (-1, 0), NAVY),
        ("TEXTCOLOR", (0, 0), (-1, 0), colors.white),
        ("FONTNAME", (0, 0), (-1, 0), "Helvetica-Bold"),
        ("FONTSIZE", (0, 0), (-1, -1), 7.5),
        ("LEADING", (0, 0), (-1, -1), 9.5),
        ("VALIGN", (0, 0), (-1, -1), "TOP"),
        ("LINEBELOW", (0, 1), (-1, -1), 0.25, RULE),
        ("TOPPADDING", (0, 0), (-1, -1), 2.5),
        ("BOTTOMPADDING", (0, 0), (-1, -1), 2.5),
        ("LEFTPADDING", (0, 0), (-1, -1), 3),
        ("RIGHTPADDING", (0, 0), (-1, -1), 3),
    ]
    if numeric_from is not None:
        style.append(("ALIGN", (numeric_from, 0), (-1, -1), "RIGHT"))
    result.setStyle(TableStyle([*style, *extra]))
    return result


def panel(
    rows: Sequence[Sequence[Any]], widths: Sequence[float], background: colors.Color, full_rows: Sequence[int] = ()
) -> Table:
    """A shaded box for the headline figures; evidence and modelled dollars each get their own colour.

    `full_rows` are rows whose single cell spans the whole box (a label or a sentence above a row of figures).
    """
    result = Table(list(rows), colWidths=list(widths))
    result.setStyle(
        TableStyle(
            [
                *[("SPAN", (0, row), (-1, row)) for row in full_rows],
                ("BACKGROUND", (0, 0), (-1, -1), background),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LEFTPADDING", (0, 0), (-1, -1), 8),
                ("RIGHTPADDING", (0, 0), (-1, -1), 8),
                ("TOPPADDING", (0, 0), (-1, -1), 3),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 3),
                ("TOPPADDING", (0, 0), (-1, 0), 8),
                ("BOTTOMPADDING", (0, -1), (-1, -1), 8),
            ]
        )
    )
    return result


def footer_lines(report: ExposureReport) -> tuple[str, str]:
    """What every page carries so a page torn out of the deck can still be traced to its run."""
    run = (
        f"ShadowScope exposure model {report.model_version}  ·  seed {report.seed}  ·  "
        f"{count(report.trials)} trials  ·  window {day(report.window_from)} to {day(report.window_to)}  ·  "
        f"generated {timestamp(report.generated_at)}"
    )
    return run, f"{report.organisation}  ·  Estimate of exposure for risk management. Not legal advice."


def _on_page(report: ExposureReport, total_pages: int) -> Callable[[Any, Any], None]:
    run, caveat = footer_lines(report)

    def draw(canvas: Any, doc: Any) -> None:
        canvas.saveState()
        canvas.setStrokeColor(RULE)
        canvas.setLineWidth(0.5)
        canvas.line(MARGIN, FOOTER_SPACE + 10, PAGE[0] - MARGIN, FOOTER_SPACE + 10)
        canvas.setFont("Helvetica", 6.5)
        canvas.setFillColor(MUTED)
        canvas.drawString(MARGIN, FOOTER_SPACE, run)
        canvas.drawString(MARGIN, FOOTER_SPACE - 9, caveat)
        canvas.drawRightString(PAGE[0] - MARGIN, FOOTER_SPACE - 9, f"Page {doc.page} of {total_pages}")
        canvas.restoreState()

    return draw


def build(report: ExposureReport, story: Callable[[], list[Any]]) -> bytes:
    """Lay the story out twice: the first pass counts the pages so every footer can say 'Page 2 of 5'.

    The story is rebuilt for the second pass because platypus consumes flowables as it splits them.
    """
    total_pages = 0
    for _ in range(2):
        buffer = io.BytesIO()
        doc = SimpleDocTemplate(
            buffer,
            pagesize=PAGE,
            leftMargin=MARGIN,
            rightMargin=MARGIN,
            topMargin=MARGIN,
            bottomMargin=MARGIN + 0.25 * inch,
            title=f"AI tool data exposure: {report.organisation}",
            author="ShadowScope",
            subject=f"Exposure estimate, {day(report.window_from)} to {day(report.window_to)}",
        )
        draw = _on_page(report, total_pages)
        doc.build(story(), onFirstPage=draw, onLaterPages=draw)
        total_pages = doc.page
    return buffer.getvalue()
