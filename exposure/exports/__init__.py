"""Board exports of an exposure report: a PDF board report, an XLSX workbook, a tidy CSV and a JSON document.

`write_exports` writes files; the per-format functions return the content so the collector can stream it.
"""

from exposure.exports.document import SCHEMA_ID, render_json
from exposure.exports.pdf import pdf_bytes
from exposure.exports.tabular import csv_text
from exposure.exports.writer import FORMATS, export_bytes, json_text, write_exports
from exposure.exports.xlsx import xlsx_bytes

__all__ = [
    "FORMATS",
    "SCHEMA_ID",
    "csv_text",
    "export_bytes",
    "json_text",
    "pdf_bytes",
    "render_json",
    "write_exports",
    "xlsx_bytes",
]
