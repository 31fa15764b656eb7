"""Capture files read by scapy: a second, independent file reader, to cross-check dpkt and our pcapng walker.

Frames come from scapy's raw readers (`RawPcapReader`, which hands pcapng files on to `RawPcapNgReader`), not from
`PcapReader`/`PcapNgReader`: those dissect every frame into scapy objects, which costs about a hundred times more
and would have to be serialised again to give the bytes back, not necessarily the ones captured. The raw readers give
each frame's captured bytes and, for pcapng, the link type of the interface it was captured on, so files that mix
interfaces of different link types are read right.

Timestamps are computed the way `CaptureFile` computes them, so both backends give the same floats. Where scapy
differs from our pcapng walker: it ignores an interface's if_tsoffset (rare outside some hardware capture cards), cuts
a Simple Packet Block to the interface's snaplen (which may be 0, meaning "no limit"), and skips packets of an
undeclared interface without saying so, so those are not counted in `stats`. scapy also logs its own warnings about
damaged files (to its `scapy.runtime` logger).
"""

from __future__ import annotations

import io
import sys
from collections.abc import Iterator
from decimal import Decimal
from typing import Any, BinaryIO, ClassVar

from scapy.error import Scapy_Exception
from scapy.utils import RawPcapNgReader, RawPcapReader

from sensor.capture.base import CaptureError, Frame, SourceStats
from sensor.capture.files import PCAP_MAGICS, PCAPNG_MAGIC, open_capture
from sensor.capture.pcapng import MAX_BLOCK

MAX_FRAME = 1 << 18  # scapy's pcap reader reads at most this much of one record (4 x its MTU); pcapng needs a cap too
_DECRYPTION_SECRETS = 10
_NANO = Decimal("1E9")


class _GuardedStream(io.RawIOBase):
    """The file as scapy reads it: the sniffed magic put back in front, and no read larger than a block can be.

    scapy's pcapng reader reads a block's whole declared length in one call; a hostile length would make it allocate
    up to 4 GiB. A larger request is answered as end of file, which scapy takes as a cut block and stops.
    """

    def __init__(self, prefix: bytes, rest: BinaryIO, stats: SourceStats) -> None:
        self._prefix = prefix
        self._rest = rest
        self._stats = stats
        self._refused = False
        self.cut = False  # a read found fewer bytes than the record said were there

    def readable(self) -> bool:
        return True

    def read(self, size: int | None = -1) -> bytes:
        if self._refused:
            return b""
        if size is None or size < 0 or size > MAX_BLOCK:
            self._refused = True
            self._stats.problem("corrupt block length")
            return b""
        head, self._prefix = self._prefix[:size], self._prefix[size:]
        data = head + self._rest.read(size - len(head)) if size > len(head) else head
        self.cut = self.cut or 0 < len(data) < size
        return data


class ScapyFile:
    """A pcap or pcapng file (or `-` for standard input) read by scapy. The format is read from the magic."""

    name: ClassVar[str] = "scapy"

    def __init__(self, path: str) -> None:
        self.path = path
        self.stats = SourceStats()

    @classmethod
    def available(cls) -> bool:
        return True  # scapy is a dependency of the sensor

    def frames(self) -> Iterator[Frame]:
        raw = open_capture(self.path)
        try:
            magic = raw.read(4)
            if magic not in PCAP_MAGICS and magic != PCAPNG_MAGIC:
                shown = magic.hex() or "empty"
                raise CaptureError(f"{self.path}: not a pcap or pcapng file (starts with {shown})")
            stream = _GuardedStream(magic, raw, self.stats)
            try:
                reader = RawPcapReader(stream)
            except (Scapy_Exception, EOFError) as error:
                raise CaptureError(f"{self.path}: unreadable capture header: {error}") from error
            blocktypes = getattr(reader, "blocktypes", None)
            if blocktypes is not None:
                # A Decryption Secrets Block would make scapy switch on TLS decryption in its global configuration.
                blocktypes.pop(_DECRYPTION_SECRETS, None)
            yield from self._read(reader, stream)
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()

    def _read(self, reader: Any, stream: _GuardedStream) -> Iterator[Frame]:
        pcapng = isinstance(reader, RawPcapNgReader)
        nano = bool(getattr(reader, "nano", False))
        pcap_linktype = int(getattr(reader, "linktype", 1))
        while True:
            try:
                # `_read_packet` is the raw readers' documented entry point (their `read_packet` says to use it).
                data, meta = reader._read_packet(size=MAX_FRAME)
            except EOFError:
                if stream.cut:
                    self.stats.problem("truncated block at end of file" if pcapng else "truncated pcap record")
                return
            except (Scapy_Exception, ValueError, OverflowError) as error:
                self.stats.problem(f"unreadable record ({type(error).__name__})")
                return
            self.stats.frames += 1
            if pcapng:
                yield self._pcapng_frame(data, meta)
                continue
            if len(data) < meta.caplen:
                stream.cut = False  # counted here, not again at the end of the file
                self.stats.problem("truncated pcap record")
            # As dpkt computes them: exact decimal for nanoseconds, float arithmetic for microseconds.
            ts = float(meta.sec + Decimal(meta.usec) / _NANO) if nano else meta.sec + meta.usec / 1e6
            yield Frame(ts, pcap_linktype, bytes(data))

    @staticmethod
    def _pcapng_frame(data: bytes, meta: Any) -> Frame:
        if meta.tshigh is None:  # Simple Packet Block: no timestamp
            return Frame(0.0, int(meta.linktype), bytes(data))
        # As our walker computes them: the interface's tick count over its resolution, in floats.
        ts = ((meta.tshigh << 32) | meta.tslow) / int(meta.tsresol)
        return Frame(ts, int(meta.linktype), bytes(data))
