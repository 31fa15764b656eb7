"""How every export writes a figure for a person: money as $1.2M / $350K, counts with separators, shares as %.

One function per kind of figure so the PDF, the charts and the spreadsheet can never disagree on how a number reads.
Machine exports (JSON, CSV) carry the raw floats instead.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

DASH = "\N{EN DASH}"  # between the two ends of a range
TIMES = "\N{MULTIPLICATION SIGN}"  # data category by tool

# (scale, suffix, below this many units show one decimal): $1.2M and $12.3M, but $350K not $350.0K.
_SCALES = ((1e9, "B", 100), (1e6, "M", 100), (1e3, "K", 10))


def money(amount: float) -> str:
    """$1.2M, $12.3M, $120M, $350K, $9.5K, $950, $0: the same short form in every table, chart and sentence."""
    sign = "-" if amount < 0 else ""
    value = abs(amount)
    for scale, suffix, decimals_below in _SCALES:
        scaled = value / scale
        # Round before choosing the scale: $999,960 must read $1.0M, not $1000K.
        if round(scaled, 1) >= 1:
            decimals = 1 if round(scaled, 1) < decimals_below else 0
            return f"{sign}${scaled:.{decimals}f}{suffix}"
    return f"{sign}${value:.0f}"


def money_exact(amount: float) -> str:
    """$1,234,567 for tables where a reader may want to check the arithmetic."""
    return f"-${abs(amount):,.0f}" if amount < 0 else f"${amount:,.0f}"


def count(number: int) -> str:
    return f"{number:,}"


def share(part: float, whole: float) -> str:
    """A part of a whole as a whole-number percentage; '<1%' rather than a misleading 0% for small nonzero parts."""
    if whole <= 0:
        return DASH
    percent = 100 * part / whole
    if 0 < percent < 1:
        return "<1%"
    return f"{percent:.0f}%"


def probability(value: float) -> str:
    """Exceedance probabilities: 5%, 0.5%, <0.1%."""
    percent = 100 * value
    if 0 < percent < 0.1:
        return "<0.1%"
    return f"{percent:.1f}%" if percent < 10 else f"{percent:.0f}%"


def day(value: date) -> str:
    return value.isoformat()


def timestamp(value: datetime) -> str:
    """Generation time in UTC when the datetime is aware; naive datetimes are printed as given, unlabelled."""
    if value.tzinfo is None:
        return value.strftime("%Y-%m-%d %H:%M")
    return value.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")
