"""The board report's charts, drawn with matplotlib and returned as PNG bytes sized for the printed page.

Figures are created with matplotlib.figure.Figure and the Agg canvas directly, never through pyplot: no global
figure registry, no GUI backend, and safe when the collector renders reports from several threads at once. Each
function returns None when there is nothing to draw, so the PDF prints a sentence instead of an empty, broken-looking
chart. Figure sizes are the printed sizes in inches, so font sizes are true points on paper.
"""

from __future__ import annotations

import io
import math
import re
import textwrap
from collections import defaultdict
from collections.abc import Sequence
from datetime import date

import numpy as np
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.colors import LinearSegmentedColormap
from matplotlib.figure import Figure
from matplotlib.patches import Patch
from matplotlib.ticker import Formatter, FuncFormatter, LogLocator, MaxNLocator, NullFormatter
from PIL import Image as PILImage

from exposure.exports.formatting import DASH, count, money, probability
from exposure.exports.names import category_name, category_rank, regulation_name, status_name, status_rank
from exposure.report import ExposureReport

DPI = 200  # crisp when printed; a 7-inch chart stays well under 1 MB
WIDTH = 7.1  # inches: the PDF's text width (Letter less two 0.7-inch margins)

NAVY = "#1f3a5f"
MID = "#5b7ea4"
LIGHT = "#c9d6e3"
BRICK = "#b5523b"
GREY = "#8c8c8c"
INK = "#222222"

# How many bars a chart shows at most: more would not fit the page legibly. Captions say when some are left out.
TOP_TOOLS = 8
TORNADO_ITEMS = 8

# Status colours are categorical, not a traffic light: the board should read the labels, not the colour.
STATUS_COLOURS = {"sanctioned": MID, "tolerated": "#c2a878", "unsanctioned": BRICK, "unknown": "#a6a6a6"}
CATEGORY_COLOURS = ("#1f3a5f", "#5b7ea4", "#9bb3cc", "#c2a878", "#8a6d3b", "#b5523b", "#6b8e7f", "#7f7f9f")
# White to navy: darker means more expected loss, with no implied pass/fail thresholds.
HEAT = LinearSegmentedColormap.from_list("exposure", ["#f4f7fa", "#9bb3cc", "#1f3a5f"])


def _figure(height: float, width: float = WIDTH) -> Figure:
    figure = Figure(figsize=(width, height), dpi=DPI, facecolor="white")
    FigureCanvasAgg(figure)  # attach a canvas now: tight_layout needs a renderer
    return figure


def _png(figure: Figure) -> bytes:
    """Opaque RGB PNG straight from the Agg buffer.

    savefig would write RGBA, which the PDF carries as a second (soft mask) image for nothing. Light compression:
    reportlab decodes the PNG and compresses the pixels again for the PDF anyway.
    """
    raw = io.BytesIO()
    figure.savefig(raw, format="rgba", dpi=DPI)
    size = (round(figure.bbox.width), round(figure.bbox.height))
    pixels = PILImage.frombuffer("RGBA", size, raw.getvalue()).convert("RGB")
    buffer = io.BytesIO()
    pixels.save(buffer, format="PNG", compress_level=1, dpi=(DPI, DPI))
    return buffer.getvalue()


def _style(ax: Axes) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    ax.spines["left"].set_color(GREY)
    ax.spines["bottom"].set_color(GREY)
    ax.tick_params(colors=INK, labelsize=8, length=3)


class MoneyFormatter(Formatter):
    """money() on an axis; '$1M, $3M, $10M' rather than '$1.0M, $3.0M, $10.0M' when every tick is whole, but never
    a mix such as '$3M' next to '$1.2M'."""

    def __call__(self, x: float, pos: int | None = None) -> str:
        return money(x)

    def format_ticks(self, values: Sequence[float]) -> list[str]:
        labels = [money(value) for value in values]
        if all(re.search(r"\.[1-9][KMB]$", label) is None for label in labels):
            return [re.sub(r"\.0(?=[KMB]$)", "", label) for label in labels]
        return labels


def _money_axis(ax: Axes, axis: str = "x", ticks: int = 8) -> None:
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(MoneyFormatter())
    if target.get_scale() == "linear":
        # Steps of 1, 2 and 5 only: a tick at $1.25M would print as $1.2M and misstate the gridline.
        target.set_major_locator(MaxNLocator(ticks, steps=[1, 2, 5, 10]))


def _wrap(label: str, width: int, lines: int = 2) -> str:
    """A label wrapped to at most `lines` lines, the last cut with an ellipsis: long names must not push into the
    next bar's label. The full names are in the spreadsheet."""
    wrapped = textwrap.wrap(label, width) or [label]
    if len(wrapped) > lines:
        wrapped = [*wrapped[: lines - 1], textwrap.shorten(" ".join(wrapped[lines - 1 :]), width, placeholder="…")]
    return "\n".join(wrapped)


def regulation_bars(report: ExposureReport) -> bytes | None:
    """Mean per regulation with P10 to P90 whiskers, plus the shared response costs, largest first."""
    rows = [(regulation_name(r.regulation), r.loss, False) for r in report.regulations if r.applies]
    rows.append(("Response costs (shared, counted once)", report.shared_response, True))
    rows = [row for row in rows if row[1].p90 > 0 or row[1].mean > 0]
    if not rows:
        return None
    rows.sort(key=lambda row: row[1].mean)  # barh draws bottom-up: largest ends on top
    figure = _figure(0.45 + 0.27 * len(rows))
    ax = figure.add_subplot()
    positions = range(len(rows))
    means = [loss.mean for _, loss, _ in rows]
    ax.barh(
        positions,
        means,
        height=0.6,
        color=[LIGHT if shared else NAVY for *_, shared in rows],
        edgecolor=[GREY if shared else NAVY for *_, shared in rows],
        hatch=None,
    )
    low = [max(loss.mean - loss.p10, 0) for _, loss, _ in rows]
    high = [max(loss.p90 - loss.mean, 0) for _, loss, _ in rows]
    ax.errorbar(means, positions, xerr=[low, high], fmt="none", ecolor=INK, elinewidth=0.9, capsize=3)
    right = max(*(loss.p90 for _, loss, _ in rows), 1.0)  # all-zero losses still need an axis with a width
    for y, (_, loss, _) in enumerate(rows):
        ax.text(loss.p90 + right * 0.015, y, money(loss.mean), va="center", fontsize=8, color=INK)
    ax.set_yticks(list(positions), [_wrap(name, 26) for name, *_ in rows], fontsize=8)
    ax.set_xlim(0, right * 1.12)
    _money_axis(ax)
    ax.set_xlabel("Annual loss (bar: mean; whisker: P10 to P90)", fontsize=8, color=INK)
    _style(ax)
    figure.tight_layout(pad=0.4)
    return _png(figure)


def exceedance_curve(report: ExposureReport) -> bytes | None:
    """Probability that the annual loss exceeds each amount; log-scaled amounts when they span a wide range."""
    points = [(loss, p) for loss, p in report.exceedance if loss > 0]
    # A curve needs a range of losses: when every losing trial lost the same amount there is none to draw.
    if len(points) < 2 or report.total.mean <= 0 or max(p[0] for p in points) <= min(p[0] for p in points):
        return None
    figure = _figure(2.25)
    ax = figure.add_subplot()
    losses = [loss for loss, _ in points]
    ax.plot(losses, [p for _, p in points], color=NAVY, linewidth=1.8)
    ax.fill_between(losses, [p for _, p in points], color=LIGHT, alpha=0.5, linewidth=0)
    if max(losses) / min(losses) > 50:
        ax.set_xscale("log")
        ax.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0, 3.0)))
        ax.xaxis.set_minor_formatter(NullFormatter())
    _money_axis(ax)
    total = report.total
    marks = (
        (total.mean, f"Expected (mean) loss: {money(total.mean)}"),
        (total.p95, f"1-in-20-year loss (P95): {money(total.p95)}"),
        (total.p99, f"1-in-100-year loss (P99): {money(total.p99)}"),
    )
    # Each mark is a dot on the curve with a drop line to the axis, named in a legend: the marks can sit close
    # together on a log axis, and lines that stop at the curve leave the legend's corner empty.
    for (loss, label), style in zip(marks, ("--", "-.", ":"), strict=True):
        if min(losses) <= loss <= max(losses):
            chance = float(np.interp(math.log(loss), [math.log(x) for x in losses], [p for _, p in points]))
            ax.plot([loss, loss], [0, chance], color=BRICK, linewidth=1.1, linestyle=style, label=label)
            ax.plot([loss], [chance], "o", color=BRICK, markersize=3.5)
            ax.annotate(
                probability(chance),
                (loss, chance),
                xytext=(4, 5),
                textcoords="offset points",
                fontsize=7.5,
                color=BRICK,
            )
    if ax.get_legend_handles_labels()[0]:  # the marks can all fall outside a very narrow curve
        ax.legend(loc="upper right", fontsize=7.5, frameon=False, handlelength=2.6)
    ax.set_ylim(0, 1)
    ax.set_xlim(min(losses), max(losses))
    ax.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
    ax.set_ylabel("Chance of exceeding", fontsize=8, color=INK)
    ax.set_xlabel("Annual loss", fontsize=8, color=INK)
    ax.grid(True, which="major", color="#e6e6e6", linewidth=0.6)
    _style(ax)
    figure.tight_layout(pad=0.4)
    return _png(figure)


def top_tools(report: ExposureReport, limit: int = TOP_TOOLS) -> bytes | None:
    """The tools carrying the most expected loss, coloured by the organisation's status for each."""
    tools = sorted((t for t in report.tools if t.mean_loss > 0), key=lambda t: t.mean_loss, reverse=True)[:limit]
    if not tools:
        return None
    tools.reverse()
    figure = _figure(0.45 + 0.25 * len(tools))
    ax = figure.add_subplot()
    ax.barh(
        range(len(tools)),
        [t.mean_loss for t in tools],
        height=0.62,
        color=[STATUS_COLOURS.get(t.status, GREY) for t in tools],
    )
    right = max(*(t.mean_loss for t in tools), 1.0)
    for y, tool in enumerate(tools):
        ax.text(
            tool.mean_loss + right * 0.01,
            y,
            f"{money(tool.mean_loss)}  ·  {count(tool.events)} events",
            va="center",
            fontsize=7.5,
            color=INK,
        )
    ax.set_yticks(range(len(tools)), [_wrap(t.tool_name, 30, lines=1) for t in tools], fontsize=8)
    ax.set_xlim(0, right * 1.35)
    _money_axis(ax, ticks=6)
    ax.set_xlabel("Share of expected annual loss", fontsize=8, color=INK)
    present = sorted({t.status for t in tools}, key=status_rank)
    ax.legend(
        handles=[Patch(color=STATUS_COLOURS.get(s, GREY), label=status_name(s)) for s in present],
        loc="lower right",
        fontsize=7.5,
        frameon=False,
    )
    _style(ax)
    figure.tight_layout(pad=0.4)
    return _png(figure)


def status_split(report: ExposureReport) -> bytes | None:
    """Share of events and share of expected loss by tool status, as two 100% bars side by side."""
    events: dict[str, float] = defaultdict(float)
    loss: dict[str, float] = defaultdict(float)
    for tool in report.tools:
        events[tool.status] += tool.events
        loss[tool.status] += tool.mean_loss
    total_events, total_loss = sum(events.values()), sum(loss.values())
    if total_events <= 0 and total_loss <= 0:
        return None
    statuses = sorted(set(events) | set(loss), key=status_rank)
    figure = _figure(1.25)
    ax = figure.add_subplot()
    bars = (("Events", events, total_events), ("Expected loss", loss, total_loss))
    for y, (_, values, whole) in enumerate(reversed(bars)):
        left = 0.0
        for status in statuses:
            part = values[status] / whole if whole > 0 else 0.0
            if part <= 0:
                continue
            colour = STATUS_COLOURS.get(status, GREY)
            ax.barh(y, part, left=left, height=0.6, color=colour, edgecolor="white", linewidth=0.8)
            if part >= 0.06:
                text_colour = "white" if status in {"unsanctioned", "sanctioned"} else INK
                ax.text(left + part / 2, y, f"{part:.0%}", ha="center", va="center", fontsize=8, color=text_colour)
            left += part
    ax.set_yticks([0, 1], [label for label, *_ in reversed(bars)], fontsize=8)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:.0%}"))
    ax.legend(
        handles=[Patch(color=STATUS_COLOURS.get(s, GREY), label=status_name(s)) for s in statuses],
        loc="upper center",
        bbox_to_anchor=(0.5, -0.32),
        ncol=len(statuses),
        fontsize=7.5,
        frameon=False,
    )
    _style(ax)
    figure.tight_layout(pad=0.4)
    return _png(figure)


def heatmap(report: ExposureReport, max_tools: int = 8) -> bytes | None:
    """Data category by tool: expected loss and event count printed in every cell; shade follows the loss."""
    cells = [c for c in report.heatmap if c.events > 0 or c.mean_loss > 0]
    if not cells:
        return None
    names = {t.tool_id: t.tool_name for t in report.tools}
    tool_loss: dict[str, float] = defaultdict(float)
    category_loss: dict[str, float] = defaultdict(float)
    for cell in cells:
        tool_loss[cell.tool_id] += cell.mean_loss
        category_loss[cell.category] += cell.mean_loss
    tools = sorted(tool_loss, key=lambda t: tool_loss[t], reverse=True)
    # More tools than fit legibly: the smallest are merged into one column rather than dropped.
    shown = tools if len(tools) <= max_tools else [*tools[: max_tools - 1], "__other__"]
    column = {tool: shown.index(tool) if tool in shown else len(shown) - 1 for tool in tools}
    categories = sorted(category_loss, key=lambda c: category_loss[c], reverse=True)
    loss = [[0.0] * len(shown) for _ in categories]
    events = [[0] * len(shown) for _ in categories]
    for cell in cells:
        row, col = categories.index(cell.category), column[cell.tool_id]
        loss[row][col] += cell.mean_loss
        events[row][col] += cell.events
    figure = _figure(0.7 + 0.32 * len(categories))
    ax = figure.add_subplot()
    peak = max(max(row) for row in loss) or 1.0
    ax.imshow([[value / peak for value in row] for row in loss], cmap=HEAT, vmin=0, vmax=1, aspect="auto")
    for r, _ in enumerate(categories):
        for c, _ in enumerate(shown):
            if events[r][c] == 0 and loss[r][c] == 0:
                ax.text(c, r, DASH, ha="center", va="center", fontsize=8, color=GREY)
                continue
            dark = loss[r][c] / peak > 0.55
            ax.text(
                c,
                r,
                f"{money(loss[r][c])}\n{count(events[r][c])} ev.",
                ha="center",
                va="center",
                fontsize=7,
                color="white" if dark else INK,
                linespacing=1.15,
            )
    labels = [_wrap("Other tools" if t == "__other__" else names.get(t, t), 12) for t in shown]
    ax.set_xticks(range(len(shown)), labels, fontsize=7.5)
    ax.xaxis.tick_top()
    ax.set_yticks(range(len(categories)), [category_name(c) for c in categories], fontsize=8)
    ax.tick_params(length=0)
    for side in ax.spines.values():
        side.set_visible(False)
    ax.set_xticks([x - 0.5 for x in range(1, len(shown))], minor=True)
    ax.set_yticks([y - 0.5 for y in range(1, len(categories))], minor=True)
    ax.grid(which="minor", color="white", linewidth=1.5)
    ax.tick_params(which="minor", length=0)
    figure.tight_layout(pad=0.4)
    return _png(figure)


def _month_label(month: str) -> str:
    year, number = month.split("-")
    return date(int(year), int(number), 1).strftime("%b %Y")


def monthly_trend(report: ExposureReport) -> bytes | None:
    """Events per month by data category (stacked) above the month's share of expected loss."""
    months = list(report.monthly)
    if not months or all(m.events == 0 and m.mean_loss == 0 for m in months):
        return None
    categories = sorted({c for m in months for c in m.events_by_category}, key=lambda c: category_rank(report, c))
    figure = _figure(2.5)
    top, bottom = figure.subplots(2, 1, sharex=True, gridspec_kw={"height_ratios": [1.7, 1]})
    x = range(len(months))
    base = [0.0] * len(months)
    for i, category in enumerate(categories):
        heights = [float(m.events_by_category.get(category, 0)) for m in months]
        colour = CATEGORY_COLOURS[i % len(CATEGORY_COLOURS)]
        top.bar(x, heights, bottom=base, width=0.65, color=colour, label=category_name(category))
        base = [b + h for b, h in zip(base, heights, strict=True)]
    unlabelled = [float(max(m.events - m.labelled_events, 0)) for m in months]
    if any(unlabelled):
        top.bar(x, unlabelled, bottom=base, width=0.65, color="#e3e3e3", label="No data label")
    top.set_ylabel("Events", fontsize=8, color=INK)
    top.yaxis.set_major_locator(MaxNLocator(5, integer=True))
    top.yaxis.set_major_formatter(FuncFormatter(lambda value, _: count(int(value))))
    top.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    _style(top)
    bottom.plot(x, [m.mean_loss for m in months], color=BRICK, marker="o", markersize=3.5, linewidth=1.5)
    bottom.set_ylim(0, max(m.mean_loss for m in months) * 1.25 or 1)
    _money_axis(bottom, "y", ticks=3)
    bottom.set_ylabel("Expected loss", fontsize=8, color=INK)
    bottom.set_xticks(list(x), [_month_label(m.month) for m in months], fontsize=7.5)
    if len(months) > 8:
        bottom.tick_params(axis="x", labelrotation=45)
    _style(bottom)
    figure.tight_layout(pad=0.4)
    return _png(figure)


def tornado(report: ExposureReport, limit: int = TORNADO_ITEMS) -> bytes | None:
    """Expected loss in the years where each parameter fell in its lowest and its highest tenth, around the mean."""
    items = [s for s in report.sensitivity if s.swing > 0][:limit]
    if not items:
        return None
    items = sorted(items, key=lambda s: s.swing)  # widest bar on top
    base = report.total.mean
    labels = [_wrap(s.description, 48) for s in items]
    row = 0.31 if any("\n" in label for label in labels) else 0.26  # two-line labels need the room
    figure = _figure(0.55 + row * len(items))
    ax = figure.add_subplot()
    for y, item in enumerate(items):
        for value, colour in ((item.total_mean_at_low, LIGHT), (item.total_mean_at_high, NAVY)):
            ax.barh(y, value - base, left=base, height=0.62, color=colour)
        low, high = sorted((item.total_mean_at_low, item.total_mean_at_high))
        ax.text(low, y, money(low) + " ", ha="right", va="center", fontsize=7.5, color=INK)
        ax.text(high, y, " " + money(high), ha="left", va="center", fontsize=7.5, color=INK)
    ax.axvline(base, color=INK, linewidth=0.9)
    lows = [min(s.total_mean_at_low, s.total_mean_at_high) for s in items]
    highs = [max(s.total_mean_at_low, s.total_mean_at_high) for s in items]
    span = max(max(highs) - min(lows), abs(base) * 0.1, 1.0)  # no swing at all still needs an axis width
    ax.set_xlim(min(lows) - span * 0.16, max(highs) + span * 0.16)
    ax.set_yticks(range(len(items)), labels, fontsize=7.2)
    _money_axis(ax)
    ax.set_xlabel(f"Expected annual loss (line: this run's {money(base)})", fontsize=8, color=INK)
    ax.legend(
        handles=[Patch(color=LIGHT, label="Parameter ≤ its P10"), Patch(color=NAVY, label="Parameter ≥ its P90")],
        loc="lower right",
        fontsize=7.5,
        frameon=False,
    )
    _style(ax)
    figure.tight_layout(pad=0.4)
    return _png(figure)


def exceedance_note(report: ExposureReport) -> str:
    """The two readings of the curve a board asks for, in words."""
    total = report.total
    return (
        f"Read across from an amount to the chance that a year's loss exceeds it. A loss above {money(total.p95)} "
        f"has a 1-in-20 ({probability(0.05)}) chance in any year; above {money(total.p99)}, 1-in-100."
    )
