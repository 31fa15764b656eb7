"""tshark as a third capture backend and as an independent dissector, both for cross-checking the sensor.

`TsharkFile` has Wireshark's file library (wiretap) read the capture and hand each frame over unchanged, re-encoded
as pcapng on a pipe (`tshark -r FILE -F pcapng -w -`), which our pcapng walker then reads. tshark does not dissect
anything to do that: measured on a 37,000-frame capture, this backend delivers ~110,000 frames/s (dpkt ~490,000),
while pyshark (`FileCapture(include_raw=True, use_json=True)` and `get_raw_packet()`) has tshark dissect every frame
and print it as JSON and managed 400-900 frames/s, too slow for anything but tiny captures; so pyshark is not used.
Frames, link types and timestamps match dpkt's, except the timestamps of nanosecond-resolution pcap files: tshark
hands them on as nanosecond pcapng ticks, which the walker divides as floats, one float step (~0.24 us) off dpkt's.

`tshark_names` has tshark's own dissectors find the names the sensor looks for (DNS questions, TLS and QUIC
ClientHello SNI, gQUIC CHLO SNI, HTTP Host) within the sensor's scope: DNS on port 53 only (not mDNS or LLMNR),
HTTP and TLS over TCP, QUIC over UDP, nothing quoted inside ICMP errors.
"""

from __future__ import annotations

import json
import shutil
import subprocess
import tempfile
from collections.abc import Generator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, Any, BinaryIO, ClassVar, NamedTuple, cast

from sensor.capture.base import CaptureError, Frame, SourceStats
from sensor.capture.files import PCAP_MAGICS, PCAPNG_MAGIC
from sensor.capture.pcapng import PcapngReader
from sensor.observations import ObservedSignal

INSTALL_HINT = "install it with `apt-get install tshark` (or run `make test` as root)"
NAME_FIELDS = (
    "frame.protocols",
    "tcp.port",
    "udp.port",
    "tls.handshake.extensions_server_name",
    "gquic.tag.sni",
    "dns.qry.name",
    "http.host",
)
# Reordered segments (a ClientHello split and delivered backwards) are reassembled by the sensor; tshark needs asking.
NAME_PREFERENCES = ("tcp.reassemble_out_of_order:TRUE", "tcp.desegment_tcp_streams:TRUE")
NAME_FILTER = "tls.handshake.extensions_server_name or gquic.tag.sni or dns.qry.name or http.host"
DNS_PORT = "53"
_MAX_MESSAGE = 4096  # bytes of tshark's standard error kept for the error message

Name = tuple[ObservedSignal, str]


class TsharkNames(NamedTuple):
    names: set[Name]
    problem: str | None  # why tshark stopped before the end of the file (names up to there are kept)


class TsharkError(CaptureError):
    """tshark is missing, or could not read the capture at all."""


def tshark_path() -> str:
    found = shutil.which("tshark")
    if found is None:
        raise TsharkError(f"tshark is not on PATH: {INSTALL_HINT}")
    return found


class _Run:
    """One tshark run whose standard output is read while it runs; its standard error is kept for the message."""

    def __init__(self, path: str, process: subprocess.Popen[bytes], errors: IO[bytes]) -> None:
        self.path = path
        self.process = process
        self._errors = errors

    @property
    def stdout(self) -> BinaryIO:
        assert self.process.stdout is not None
        return cast(BinaryIO, self.process.stdout)

    def stop(self) -> None:
        # Closing the pipe ends a tshark still writing (the reader stopped early); one blocked on stdin needs killing.
        self.stdout.close()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait()

    def finish(self) -> str | None:
        """Wait for tshark; its complaint if it exited with an error (the file name taken out), else None."""
        self.stop()
        if self.process.returncode == 0:
            return None
        self._errors.seek(0)
        text = self._errors.read(_MAX_MESSAGE).decode("utf-8", "replace")
        lines = [
            line.strip().removeprefix("tshark: ")
            for line in text.splitlines()
            if line.strip() and not line.startswith("Running as user")
        ]
        message = " ".join(lines) or f"exit status {self.process.returncode}"
        return message.replace(f'"{self.path}" ', "")


@contextmanager
def _tshark(path: str, arguments: list[str]) -> Iterator[_Run]:
    # Standard error goes to a file: a pipe could fill up and stall tshark while we read its standard output.
    with tempfile.TemporaryFile() as errors:
        process = subprocess.Popen(  # noqa: S603 - a fixed command line; the path is one argument
            [tshark_path(), "-n", "-r", path, *arguments],
            stdin=None if path == "-" else subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=errors,
        )
        run = _Run(path, process, errors)
        try:
            yield run
        finally:
            run.stop()


def _check_magic(path: str) -> None:
    """Refuse what the other backends refuse: tshark would also read dozens of other formats, some of them text."""
    if path == "-":
        return
    try:
        with Path(path).open("rb") as file:
            magic = file.read(4)
    except OSError as error:
        raise CaptureError(f"{path}: {error.strerror or error}") from error
    if magic not in PCAP_MAGICS and magic != PCAPNG_MAGIC:
        raise CaptureError(f"{path}: not a pcap or pcapng file (starts with {magic.hex() or 'empty'})")


class TsharkFile:
    """A pcap or pcapng file (or `-` for standard input) read by tshark's file library."""

    name: ClassVar[str] = "tshark"

    def __init__(self, path: str) -> None:
        self.path = path
        self.stats = SourceStats()

    @classmethod
    def available(cls) -> bool:
        return shutil.which("tshark") is not None

    def frames(self) -> Generator[Frame, None, None]:
        """The frames in file order; closing the generator before the end stops tshark."""
        _check_magic(self.path)
        with _tshark(self.path, ["-F", "pcapng", "-w", "-"]) as run:
            for frame in PcapngReader(run.stdout, self.stats).frames():
                self.stats.frames += 1
                yield frame
            message = run.finish()
        if message is not None:
            if not self.stats.frames:
                raise TsharkError(f"{self.path}: tshark cannot read it: {message}")
            self.stats.problem(f"tshark: {message}")


def _values(layers: dict[str, Any], field: str) -> list[str]:
    found = layers.get(field.replace(".", "_"), [])
    return [str(value) for value in found] if isinstance(found, list) else [str(found)]


def _host(raw: str, *, strip_port: bool = False) -> str | None:
    host = raw.strip()
    if strip_port:
        # An HTTP authority: `host:port`, or an IPv6 literal in brackets with or without a port.
        if host.startswith("["):
            host = host[1:].partition("]")[0]
        elif host.count(":") == 1:
            host = host.partition(":")[0]
    host = host.lower().rstrip(".")
    return host or None


def names_in_packet(layers: dict[str, Any]) -> set[Name]:
    """The names one packet's fields (as `tshark -T ek -e ...` prints them) carry, within the sensor's scope."""
    protocols = set(":".join(_values(layers, "frame.protocols")).split(":"))
    if protocols & {"icmp", "icmpv6"}:
        return set()  # a packet quoted in an ICMP error is no traffic of its own
    found: list[tuple[ObservedSignal, str | None]] = []
    quic = bool(protocols & {"quic", "gquic"})
    for sni in _values(layers, "tls.handshake.extensions_server_name"):
        if quic and "udp" in protocols:
            found.append((ObservedSignal.QUIC_SNI, _host(sni)))
        elif not quic and "tcp" in protocols:
            found.append((ObservedSignal.TLS_SNI, _host(sni)))
    found += [(ObservedSignal.QUIC_SNI, _host(sni)) for sni in _values(layers, "gquic.tag.sni")]
    if DNS_PORT in _values(layers, "udp.port") + _values(layers, "tcp.port"):
        found += [(ObservedSignal.DNS, _host(q)) for q in _values(layers, "dns.qry.name") if q != "<Root>"]
    if "tcp" in protocols:
        found += [(ObservedSignal.HTTP_HOST, _host(h, strip_port=True)) for h in _values(layers, "http.host")]
    return {(signal, host) for signal, host in found if host is not None}


def tshark_names(path: str) -> TsharkNames:
    """Every (signal, host) tshark's dissectors find in a capture file."""
    _check_magic(path)
    arguments = ["-Y", NAME_FILTER, "-T", "ek"]
    for preference in NAME_PREFERENCES:
        arguments += ["-o", preference]
    for field in NAME_FIELDS:
        arguments += ["-e", field]
    names: set[Name] = set()
    with _tshark(path, arguments) as run:
        for line in run.stdout:
            if not line.startswith(b'{"timestamp"'):
                continue  # the index lines between documents
            try:
                layers = json.loads(line).get("layers", {})
            except (ValueError, AttributeError):
                continue
            if isinstance(layers, dict):
                names |= names_in_packet(layers)
        return TsharkNames(names, run.finish())
