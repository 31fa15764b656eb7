"""Readable names for the identifiers a report carries (data categories, tool statuses, regulations), and the order
every export lists them in."""

from __future__ import annotations

from exposure.report import REGULATION_NAMES, ExposureReport, Regulation

# The model's categories (exposure.inventory.Category); anything newer falls back to its identifier made readable.
_CATEGORY_NAMES = {
    "personal_data": "Personal data",
    "health": "Health data (PHI)",
    "payment_card": "Payment cards",
    "bank_account": "Bank accounts",
    "corporate_financial": "Corporate financial",
    "legal": "Legal",
    "credentials": "Credentials",
}

# Sanctioned first, unknown last: the order a reader compares them in.
STATUS_ORDER = ("sanctioned", "tolerated", "unsanctioned", "unknown")


def category_name(category: str) -> str:
    """A known data label's name, or the identifier made readable (a newer model may add categories)."""
    return _CATEGORY_NAMES.get(category, category.replace("_", " ").capitalize())


def regulation_name(regulation: Regulation) -> str:
    return REGULATION_NAMES.get(regulation, str(regulation))


def status_name(status: str) -> str:
    return status.replace("_", " ").capitalize()


def status_rank(status: str) -> int:
    return STATUS_ORDER.index(status) if status in STATUS_ORDER else len(STATUS_ORDER)


def category_rank(report: ExposureReport, category: str) -> float:
    """Sort key: the data categories carrying the most expected loss first (and at the bottom of a stacked bar)."""
    return -sum(c.mean_loss for c in report.heatmap if c.category == category)
