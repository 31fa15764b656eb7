"""Writing the chosen exports of one report into a folder, under fixed file names."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from pathlib import Path

from exposure.exports.document import render_json
from exposure.exports.pdf import pdf_bytes
from exposure.exports.tabular import csv_text
from exposure.exports.xlsx import xlsx_bytes
from exposure.report import ExposureReport


def json_text(report: ExposureReport) -> str:
    # allow_nan=False: a NaN or infinity from the model is a bug to surface here, not invalid JSON to ship.
    return json.dumps(render_json(report), indent=2, ensure_ascii=False, allow_nan=False) + "\n"


_RENDERERS: dict[str, tuple[str, Callable[[ExposureReport], bytes]]] = {
    "pdf": ("report.pdf", pdf_bytes),
    "xlsx": ("report.xlsx", xlsx_bytes),
    "csv": ("report.csv", lambda report: csv_text(report).encode("utf-8")),
    "json": ("report.json", lambda report: json_text(report).encode("utf-8")),
}
FORMATS = tuple(_RENDERERS)


def export_bytes(report: ExposureReport, export_format: str) -> bytes:
    """One export's content (for streaming it, as the collector's endpoint does)."""
    return _RENDERERS[export_format][1](report)


def write_exports(report: ExposureReport, out_dir: Path, formats: Iterable[str]) -> list[Path]:
    """Write report.<format> for each requested format into out_dir (created if missing); return the paths written.

    Every format is checked before anything is written, so a typo does not leave half a set of files behind.
    """
    wanted = list(dict.fromkeys(f.strip().lower() for f in formats))
    unknown = [f for f in wanted if f not in _RENDERERS]
    if unknown:
        raise ValueError(f"unknown export format {', '.join(map(repr, unknown))}; known: {', '.join(FORMATS)}")
    out_dir.mkdir(parents=True, exist_ok=True)
    written = []
    for name in wanted:
        path = out_dir / _RENDERERS[name][0]
        path.write_bytes(export_bytes(report, name))
        written.append(path)
    return written
