"""The sentences a board reads first: the headline loss with its range, and the few findings worth a question.

Shared by the PDF and the spreadsheet's Summary sheet so both say exactly the same thing.
"""

from __future__ import annotations

from collections import defaultdict

from exposure.exports.formatting import DASH, count, money, share
from exposure.exports.names import category_name, regulation_name, status_name
from exposure.report import ExposureReport


def has_events(report: ExposureReport) -> bool:
    return report.evidence.events > 0


def headline(report: ExposureReport) -> str:
    """'Expected annual loss $1.8M (median $929K; 80% interval $207K to $4.2M); 1-in-20-year loss $6.4M.'

    The interval is P10 to P90, which is an 80% interval: the report carries no P5, so it must not be called 90%.
    """
    total = report.total
    if not has_events(report):
        return "No AI-tool events were observed in the window, so no annual loss is modelled."
    return (
        f"Expected annual loss {money(total.mean)} (median {money(total.p50)}; 80% interval "
        f"{money(total.p10)}{DASH}{money(total.p90)}); 1-in-20-year loss {money(total.p95)}."
    )


def evidence_line(report: ExposureReport) -> str:
    """What was observed, in counts only: kept apart from modelled dollars so the two are never confused."""
    e = report.evidence
    if e.events == 0:
        return "Nothing was observed in the window: no events to AI tools, so no data subjects and no users."
    return (
        f"{count(e.events)} events sent to {count(e.tools)} AI tools by {count(e.users)} users; "
        f"{count(e.labelled_events)} carried company data labels, covering {count(e.distinct_subjects)} "
        f"distinct data subjects."
    )


def findings(report: ExposureReport, limit: int = 6) -> list[str]:
    """The largest contributors, in plain words; empty when nothing was observed."""
    if not has_events(report) or report.total.mean <= 0:
        return []
    total = report.total.mean
    found: list[str] = []
    applying = [r for r in report.regulations if r.applies and r.loss.mean > 0]
    top = max(applying, key=lambda r: r.loss.mean) if applying else None
    response = report.shared_response.mean
    # Response costs (notification, forensics, counsel) can outweigh every fine: say so first when they do, or the
    # largest regulation would read as the main exposure when it is a small part of it.
    if response > 0 and (top is None or response > top.loss.mean):
        found.append(
            f"Response costs (notification, forensics, counsel; counted once per loss event) are the largest part: "
            f"{money(response)} a year ({share(response, total)} of the total)."
        )
    if top is not None:
        found.append(
            f"{regulation_name(top.regulation)} carries the largest regulatory expected loss: {money(top.loss.mean)} "
            f"a year ({share(top.loss.mean, total)} of the total)."
        )
    tools = sorted(report.tools, key=lambda t: t.mean_loss, reverse=True)
    if tools:
        lead = f"{tools[0].tool_name} accounts for {share(tools[0].mean_loss, total)} of expected loss"
        if len(tools) > 1:
            lead += f", {tools[1].tool_name} for {share(tools[1].mean_loss, total)}"
        found.append(lead + ".")
    unsanctioned = [t for t in report.tools if t.status == "unsanctioned"]
    if unsanctioned:
        loss = sum(t.mean_loss for t in unsanctioned)
        events = sum(t.events for t in unsanctioned)
        all_events = sum(t.events for t in report.tools)
        found.append(
            f"{status_name('unsanctioned')} tools carry {share(loss, total)} of expected loss "
            f"from {share(events, all_events)} of events."
        )
    by_category: dict[str, float] = defaultdict(float)
    for cell in report.heatmap:
        by_category[cell.category] += cell.mean_loss
    if by_category:
        category, loss = max(by_category.items(), key=lambda item: item[1])
        found.append(f"{category_name(category)} drives {share(loss, total)} of expected loss.")
    if report.sensitivity:
        item = report.sensitivity[0]
        low, high = sorted((item.total_mean_at_low, item.total_mean_at_high))
        found.append(
            f"The most influential assumption is “{item.description}”: expected loss ranges from {money(low)} "
            f"to {money(high)} between its P10 and P90."
        )
    return found[:limit]
