"""The spreadsheet's columns: header, meaning, unit, number format and width, in one place.

The sheets are written from these specs and the Data dictionary sheet is generated from them, so a column can never
appear without its explanation.
"""

from __future__ import annotations

from dataclasses import dataclass

CURRENCY = '"$"#,##0'
COUNT = "#,##0"
SHARE = "0.0%"
PROBABILITY = "0.00%"
YEARS = "#,##0.0"
TEXT = "@"
GENERAL = "General"


@dataclass(frozen=True, slots=True)
class Column:
    header: str
    meaning: str
    unit: str
    number_format: str = GENERAL
    width: float = 14
    editable: bool = False  # an input the user may change: unlocked and marked


def _loss(header: str, what: str) -> Column:
    return Column(header, what, "USD per year", CURRENCY, 13)


DISTRIBUTION = (
    _loss("Mean", "Expected (mean) annual loss over all simulated years; means add up across rows."),
    _loss("P10", "Annual loss exceeded in 90% of simulated years."),
    _loss("P50", "Median annual loss: half of the simulated years cost more."),
    _loss("P90", "Annual loss exceeded in 10% of simulated years; percentiles do not add up across rows."),
    _loss("P95", "1-in-20-year annual loss: exceeded in 5% of simulated years."),
    _loss("P99", "1-in-100-year annual loss: exceeded in 1% of simulated years."),
)

SUMMARY = (
    Column("Section", "Which part of the report the row belongs to.", "text", TEXT, 30),
    Column("Item", "The figure or fact.", "text", TEXT, 34),
    Column("Value", "Its value: a number with the row's format, or text.", "as the unit says", GENERAL, 22),
    Column("Unit", "Unit of the value, or a note on how to read it.", "text", TEXT, 70),
)

BY_REGULATION = (
    Column("Regulation id", "Stable identifier of the regulation.", "text", TEXT, 14),
    Column("Regulation", "Regulation name.", "text", TEXT, 22),
    Column("Applies", "Whether the regulation applies to this organisation's profile.", "yes/no", TEXT, 9),
    Column("Why", "One line on why it applies or not (exemptions, profile).", "text", TEXT, 48),
    Column("Exposed subjects", "Distinct data subjects in events this regulation covers.", "count", COUNT, 12),
    *DISTRIBUTION,
)

BY_TOOL = (
    Column("Tool id", "Catalog identifier of the AI tool.", "text", TEXT, 20),
    Column("Tool", "Tool name.", "text", TEXT, 24),
    Column("Vendor", "Vendor, when the catalog knows it.", "text", TEXT, 16),
    Column("Status", "The organisation's policy: sanctioned, tolerated, unsanctioned or unknown.", "text", TEXT, 14),
    Column("Events", "Events to this tool in the window (labelled or not).", "count", COUNT, 10),
    Column("Data subjects", "Distinct data subjects in events to this tool.", "count", COUNT, 12),
    _loss("Mean annual loss", "This tool's share of the total expected annual loss, allocated within the same trials."),
    Column("Share of total", "Mean annual loss as a share of the total expected annual loss.", "fraction", SHARE, 12),
)

BY_DEPARTMENT = (
    Column(
        "Department", "Department id as the organisation configured it (pseudonymous by default).", "text", TEXT, 22
    ),
    Column("Events", "Events from this department's users in the window.", "count", COUNT, 10),
    Column("Data subjects", "Distinct data subjects in those events.", "count", COUNT, 12),
    _loss("Mean annual loss", "The department's share of the total expected annual loss."),
    Column("Share of total", "Mean annual loss as a share of the total expected annual loss.", "fraction", SHARE, 12),
)

TREND = (
    Column("Month", "Calendar month (YYYY-MM).", "text", TEXT, 10),
    Column("Events", "Events to AI tools in the month, labelled or not.", "count", COUNT, 10),
    Column("Labelled events", "Events carrying at least one company data label.", "count", COUNT, 12),
    _loss("Mean annual loss", "The month's share of the total expected annual loss."),
)
TREND_CATEGORY = Column(
    "Events: <category>", "Events in the month carrying this data label (one column per label).", "count", COUNT, 14
)

ASSUMPTIONS = (
    Column("Parameter id", "Stable identifier of the model parameter.", "text", TEXT, 30),
    Column("Description", "What the parameter means.", "text", TEXT, 46),
    Column(
        "Value (input)",
        "The value or distribution used (PERT(min, mode, max), Lognormal90(P5, P95), Uniform(low, high) or a "
        "constant). Editable: write a proposed value here to discuss or re-run; this sheet does not recalculate "
        "the model.",
        "as Unit says",
        TEXT,
        26,
        editable=True,
    ),
    Column("Unit", "Unit of the value.", "text", TEXT, 14),
    Column("Source", "Where the value comes from.", "text", TEXT, 40),
    Column("Source URL", "Link to the source, when it is public.", "text", TEXT, 36),
    Column("Year", "Year of the source.", "year", "0", 7),
    Column(
        "Grade", "Confidence: A primary source, B primary source restated, C calibrated judgement.", "text", TEXT, 7
    ),
    Column(
        "Override justification (input)",
        "Why the organisation replaced the default value (blank: the default is used). Editable: a new override needs "
        "a justification.",
        "text",
        TEXT,
        60,
        editable=True,
    ),
)

SENSITIVITY = (
    Column("Parameter id", "The parameter held fixed.", "text", TEXT, 30),
    Column("Description", "What the parameter means.", "text", TEXT, 46),
    _loss("Mean at P10", "Total expected annual loss in the simulated years with this parameter at or below its P10."),
    _loss("Mean at P90", "Total expected annual loss in the simulated years with this parameter at or above its P90."),
    _loss("Swing", "Distance between the two: how much this parameter's uncertainty moves the estimate."),
)

EXCEEDANCE = (
    _loss("Annual loss", "An annual loss amount."),
    Column("Probability of exceeding", "Chance that a year's loss exceeds the amount.", "probability", PROBABILITY, 14),
    Column(
        "Return period (years)",
        "1 / probability: a loss this large or larger happens once in this many years.",
        "years",
        YEARS,
        14,
    ),
)

HEATMAP_CATEGORY = Column("Data category", "The data label (rows).", "text", TEXT, 22)
HEATMAP_TOOL = Column(
    "<tool name>",
    "One column per AI tool. Top block: expected annual loss of this data category sent to this tool (USD per year); "
    "bottom block: labelled events. Blank: none.",
    "USD per year / count",
    CURRENCY,
    14,
)

DICTIONARY = (
    Column("Sheet", "Sheet name.", "text", TEXT, 16),
    Column("Column", "Column header.", "text", TEXT, 26),
    Column("Meaning", "What the column holds.", "text", TEXT, 90),
    Column("Unit", "Unit of its values.", "text", TEXT, 20),
)

SHEET_NAMES = (
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
)

# The columns each sheet's dictionary entries describe, in sheet order.
DICTIONARY_ENTRIES: tuple[tuple[str, tuple[Column, ...]], ...] = (
    ("Summary", SUMMARY),
    ("By regulation", BY_REGULATION),
    ("By tool", BY_TOOL),
    ("By department", BY_DEPARTMENT),
    ("Trend", (*TREND, TREND_CATEGORY)),
    ("Assumptions", ASSUMPTIONS),
    ("Sensitivity", SENSITIVITY),
    ("Exceedance", EXCEEDANCE),
    ("Heat map", (HEATMAP_CATEGORY, HEATMAP_TOOL)),
    ("Data dictionary", DICTIONARY),
)
