"""The sensor on the shared peer pcap corpus: which names the peers (and tshark) extract, which ShadowScope reports.

Every capture in `../shared/corpus/pcaps` (beside the project) goes through the code path of
`shadowscope sensor read --jsonl`, and its observations are compared with the corpus manifest: the names the peer
project's own test states (`expected.stated`: Suricata, Zeek, nDPI) and the names tshark extracts (`derived`).
A name counts as extracted when ShadowScope reports it as the `host` of an observation of the matching family
(`ech` and `doh` observations count for TLS and QUIC SNI: they are ClientHellos whose name is a hiding front).
Peer markers are checked too: a ClientHello without SNI must be reported as one (`host` null), ESNI/ECH as `ech`.

    .venv/bin/python scripts/evaluate_sensor_corpus.py [--corpus DIR] [--output docs/sensor-evaluation.md]

Exits 0 when it ran (misses are findings, written to the report), 2 when the corpus is not there.
"""

from __future__ import annotations

import argparse
import io
import json
import sys
import textwrap
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from ipaddress import ip_address
from pathlib import Path
from typing import Any

from sensor.capture.base import CaptureError
from sensor.capture.files import CaptureFile
from sensor.names import clean_name
from sensor.runner import write_observations

ROOT = Path(__file__).resolve().parents[1]
WIDTH = 115  # prose wraps like the other docs; tables cannot
DEFAULT_CORPUS = ROOT.parent / "shared" / "corpus" / "pcaps"
DEFAULT_OUTPUT = ROOT / "docs" / "sensor-evaluation.md"
# Manifest name family -> the observation signals that count as extracting one of its names.
_SNI = frozenset({"tls_sni", "ech", "doh"})
FAMILIES: dict[str, frozenset[str]] = {
    "tls_sni": _SNI,
    "quic_sni": frozenset({"quic_sni", "ech", "doh"}),
    "gquic_sni": frozenset({"quic_sni", "ech", "doh"}),
    "dns_query_names": frozenset({"dns"}),
    "http_hosts": frozenset({"http_host"}),
}
CLIENT_HELLO_SIGNALS = frozenset({"tls_sni", "quic_sni", "ech", "doh"})
SOURCES = {"peer": "peer-stated", "tshark": "tshark-derived"}


@dataclass(frozen=True)
class Seen:
    """One observation, as the JSON-lines contract gives it."""

    signal: str
    host: str | None
    client: tuple[str, int]
    server: tuple[str, int]


@dataclass(frozen=True)
class NameCheck:
    file: str
    source: str  # a key of SOURCES
    family: str
    name: str
    found: bool
    reason: str = ""


@dataclass(frozen=True)
class MarkerCheck:
    file: str
    marker: str
    found: bool
    detail: str


@dataclass
class FileResult:
    file: str
    seen: list[Seen]
    names: list[NameCheck]
    markers: list[MarkerCheck]
    error: str | None = None


def observe(path: Path) -> tuple[list[Seen], str | None]:
    """The capture's observations through `sensor read --jsonl`'s own code path, or why it could not be read."""
    out = io.StringIO()
    try:
        write_observations([CaptureFile(str(path))], out=out)
    except CaptureError as error:
        return [], str(error)
    seen = []
    for line in out.getvalue().splitlines():
        obs = json.loads(line)
        client, server = (obs["src_ip"], obs["src_port"]), (obs["dst_ip"], obs["dst_port"])
        seen.append(Seen(obs["signal"], obs["host"], client, server))
    return seen, None


def reported(name: str, family: str, seen: Iterable[Seen]) -> bool:
    wanted = {name.lower(), clean_name(name)}
    return any(s.host in wanted for s in seen if s.signal in FAMILIES[family])


def _gquic_version(entry: dict[str, Any]) -> str | None:
    derived = entry["derived"]
    for version in [*derived.get("gquic_versions", []), *derived.get("quic_initial_versions", [])]:
        if version.startswith("Q"):
            return str(version)
        if version.startswith("0x51"):  # 'Q' in the version field: Google QUIC
            return bytes.fromhex(version[2:]).decode("ascii", "replace")
    return None


def explain(entry: dict[str, Any], family: str, name: str, seen: list[Seen]) -> str:
    """Why a name was missed, as far as the capture and the observations tell."""
    elsewhere = sorted({s.signal for s in seen if s.host in {name.lower(), clean_name(name)}})
    if elsewhere:
        return f"reported, but as {', '.join(elsewhere)}"
    if family in ("quic_sni", "gquic_sni") and (gquic := _gquic_version(entry)):
        return (
            f"gQUIC {gquic}: only the clear-text CHLO of Q039/Q043/Q046 is read; Q050 and later protect theirs "
            "with Google's own Initial scheme"
        )
    if family == "quic_sni":
        return f"QUIC Initial version {', '.join(entry['derived'].get('quic_initial_versions', [])) or '?'} not decoded"
    if "doh_cleartext_h2" in entry.get("covers", []):
        return "DNS over cleartext HTTP/2 (h2c): HTTP/2 frames are not decoded, so the DoH queries inside are unseen"
    others = sorted({s.host or "(no name)" for s in seen if s.signal in FAMILIES[family]})
    return f"reported {', '.join(others)} instead" if others else f"no {family} observation at all"


def name_checks(entry: dict[str, Any], seen: list[Seen]) -> list[NameCheck]:
    blocks = {"peer": entry["expected"].get("stated", {}), "tshark": entry["derived"]}
    checks = []
    for source, block in blocks.items():
        for family in FAMILIES:
            for name in block.get(family, []):
                found = reported(name, family, seen)
                reason = "" if found else explain(entry, family, name, seen)
                checks.append(NameCheck(entry["file"], source, family, name, found, reason))
    return checks


def _endpoint(text: str) -> tuple[str, int]:
    """'[::1]:4443' or '10.0.0.1:443' -> (compressed address, port)."""
    address, port = text.strip().rsplit(":", 1)
    return ip_address(address.strip("[]")).compressed, int(port)


def marker_checks(entry: dict[str, Any], seen: list[Seen]) -> list[MarkerCheck]:
    stated, file = entry["expected"].get("stated", {}), entry["file"]
    nameless = [s for s in seen if s.signal in CLIENT_HELLO_SIGNALS and s.host is None]
    checks = []
    if stated.get("no_sni"):
        detail = ", ".join(sorted({s.signal for s in nameless})) or "no nameless ClientHello reported"
        checks.append(MarkerCheck(file, "no SNI", bool(nameless), detail))
    if stated.get("esni_present") or stated.get("ech"):
        ech = [s for s in seen if s.signal == "ech"]
        checks.append(MarkerCheck(file, "ESNI/ECH", bool(ech), f"{len(ech)} `ech` observation(s)"))
    for flow in stated.get("flows_flagged_missing_sni", []):
        client, server = (_endpoint(side) for side in flow.split("->"))
        hits = [s for s in nameless if (s.client, s.server) == (client, server)]
        detail = f"{flow}: " + (", ".join(s.signal for s in hits) or "no nameless observation on this flow")
        checks.append(MarkerCheck(file, "missing SNI (nDPI)", bool(hits), detail))
    return checks


def evaluate(corpus: Path) -> list[FileResult]:
    manifest = json.loads((corpus / "manifest.json").read_text())
    results = []
    for entry in sorted(manifest["entries"], key=lambda e: str(e["file"])):
        seen, error = observe(corpus / entry["file"])
        results.append(FileResult(entry["file"], seen, name_checks(entry, seen), marker_checks(entry, seen), error))
    return results


def _names(checks: Iterable[NameCheck], source: str) -> tuple[int, int]:
    wanted = [c for c in checks if c.source == source]
    return len(wanted), sum(c.found for c in wanted)


def totals_table(results: list[FileResult]) -> list[str]:
    checks = [c for r in results for c in r.names]
    lines = [
        "| family | peer-stated names | ShadowScope reports | tshark names | ShadowScope reports |",
        "|---|---:|---:|---:|---:|",
    ]
    for family in [*FAMILIES, None]:
        subset = [c for c in checks if family is None or c.family == family]
        (peer, peer_found), (tshark, tshark_found) = _names(subset, "peer"), _names(subset, "tshark")
        label = f"`{family}`" if family else "**total**"
        lines.append(f"| {label} | {peer} | {peer_found} | {tshark} | {tshark_found} |")
    return lines


def misses_list(results: list[FileResult]) -> list[str]:
    missed: dict[tuple[str, str, str, str], list[str]] = {}
    for check in (c for r in results for c in r.names if not c.found):
        missed.setdefault((check.file, check.family, check.name, check.reason), []).append(SOURCES[check.source])
    if not missed:
        return ["None: ShadowScope reports every name the peers and tshark extract."]
    return [
        f"- `{file}` ({family}): **{name}**, named by {' and '.join(sources)}. Why: {reason}."
        for (file, family, name, reason), sources in missed.items()
    ]


def markers_table(results: list[FileResult]) -> list[str]:
    lines = ["| file | peer marker | ShadowScope | detail |", "|---|---|---|---|"]
    for check in (m for r in results for m in r.markers):
        lines.append(f"| `{check.file}` | {check.marker} | {'yes' if check.found else '**no**'} | {check.detail} |")
    return lines


def _cell(checks: list[NameCheck], source: str) -> str:
    wanted = [c for c in checks if c.source == source]
    if not wanted:
        return "-"
    found = sum(c.found for c in wanted)
    missing = [c.name for c in wanted if not c.found]
    return f"{found}/{len(wanted)}" + (f" (missing {', '.join(missing)})" if missing else "")


def files_table(results: list[FileResult]) -> list[str]:
    lines = ["| file | peer-stated found | tshark found | ShadowScope observations |", "|---|---|---|---|"]
    for result in results:
        seen = sorted({f"{s.signal} {s.host or '(no name)'}" for s in result.seen})
        shown = result.error or ("; ".join(seen) if seen else "none")
        lines.append(f"| `{result.file}` | {_cell(result.names, 'peer')} | {_cell(result.names, 'tshark')} | {shown} |")
    return lines


def tshark_version(corpus: Path) -> str:
    entries = json.loads((corpus / "manifest.json").read_text())["entries"]
    versions = {str(e["derived"].get("tool_version", "")).split(" (Git")[0] for e in entries}
    return ", ".join(sorted(v for v in versions if v)) or "tshark"


def introduction(results: list[FileResult], corpus: Path, command: str) -> list[str]:
    checks = [c for r in results for c in r.names]
    (peer, peer_found), (tshark, tshark_found) = _names(checks, "peer"), _names(checks, "tshark")
    markers = [m for r in results for m in r.markers]
    date = datetime.now(UTC).date().isoformat()
    return [
        "# Sensor evaluation on the peer pcap corpus",
        "",
        f"Run on {date} with `{command}` over the {len(results)} captures of `{corpus.name}/` in the shared corpus "
        "(test captures of Suricata's suricata-verify, Zeek's btest traces and nDPI, each with the peer's own "
        "expected output in `manifest.json`; none of them carries AI traffic, so this measures name extraction, "
        "not AI detection). Each capture went through the code path of `shadowscope sensor read --jsonl`.",
        "",
        "A name counts as extracted when ShadowScope reports it as the `host` of an observation of the matching "
        "family: `tls_sni`, `quic_sni` (also gQUIC), `dns` for DNS query names, `http_host`; an `ech` or `doh` "
        "observation counts for TLS and QUIC SNI. *Peer-stated* names are those the peer's own test states "
        f"(`expected.stated`); *tshark* names were derived with {tshark_version(corpus)} (`derived`). IP literals and "
        "`name:port` SNIs are compared as sent.",
        "",
        f"**Result:** {peer_found} of {peer} peer-stated names and {tshark_found} of {tshark} tshark names "
        f"extracted; {sum(m.found for m in markers)} of {len(markers)} peer markers (no SNI, ESNI/ECH) reported.",
        "",
    ]


def not_evaluated(results: list[FileResult]) -> list[str]:
    unreadable = [f"`{r.file}`: {r.error}" for r in results if r.error]
    return [
        "- Flow byte and packet counts (`flow_counters`, `zeek_conn`, the derived `flows`): the peers count in "
        "different units (frame, IP or payload bytes; see the corpus README); they are a matter for the sensor's "
        "tests, not for this name comparison.",
        "- `dns_answer_names`: the sensor does not report answer names as observations; it uses A/AAAA answers to "
        "map server addresses back to names for flows that carry no name of their own.",
        *([f"- Captures the sensor could not read: {'; '.join(unreadable)}."] if unreadable else []),
    ]


def document(results: list[FileResult], corpus: Path, command: str) -> str:
    sections = [
        introduction(results, corpus, command),
        totals_table(results),
        ["", "## Misses", ""],
        misses_list(results),
        ["", "## Peer markers", ""],
        markers_table(results),
        ["", "## Per capture", ""],
        files_table(results),
        ["", "## Not evaluated here", ""],
        not_evaluated(results),
        [
            "",
            "Regenerate with `.venv/bin/python scripts/evaluate_sensor_corpus.py` (it needs the shared corpus "
            "beside the project; exit status 2 when it is absent).",
            "",
        ],
    ]
    return "\n".join(_wrap(line) for section in sections for line in section)


def _wrap(line: str) -> str:
    if line.startswith(("|", "#")) or len(line) <= WIDTH:
        return line
    indent = "  " if line.startswith("- ") else ""
    return textwrap.fill(line, WIDTH, subsequent_indent=indent, break_on_hyphens=False, break_long_words=False)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=DEFAULT_CORPUS, help="folder with the pcaps and manifest.json")
    parser.add_argument("--output", type=Path, default=DEFAULT_OUTPUT, help="where to write the Markdown report")
    args = parser.parse_args(argv)
    if not (args.corpus / "manifest.json").is_file():
        print(
            f"corpus not found: {args.corpus} has no manifest.json (it lives in shared/corpus/pcaps, beside the "
            "project checkout; pass --corpus DIR)",
            file=sys.stderr,
        )
        return 2
    results = evaluate(args.corpus)
    command = "python scripts/evaluate_sensor_corpus.py" + " ".join(["", *(argv or sys.argv[1:])]).rstrip()
    text = document(results, args.corpus, command)
    args.output.write_text(text)
    checks = [c for r in results for c in r.names]
    for source, label in SOURCES.items():
        total, found = _names(checks, source)
        print(f"{label} names: {found} of {total} extracted")
    print("\n".join(misses_list(results)))
    print(f"report written to {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
