"""Classic pcap read in large blocks: each record header is one `unpack_from`, each frame one copy out of the block.

dpkt's reader makes two reads and a header object per record and hands back bytes that the caller then copied
again; on a tap that was most of the sensor's time (docs/benchmarks.md, "Sensor throughput"). Here the file is read
in blocks of a few hundred KiB into one buffer reused for the whole file, record headers are walked in place, and
the records come out a block at a time, so the packet loop pays one list step per frame and no call.

A record cut by the end of a block is moved to the front of the buffer and completed by the next read. Timestamps
are computed as dpkt computes them (float arithmetic for microseconds, one exact division for nanoseconds), so both
readers give the same floats and either can be checked against the other.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import Protocol

from sensor.capture.base import SourceStats

# No link layer captures more than this per packet (tcpdump's and tshark's limit); a record claiming more is corrupt,
# and trusting it would mean allocating whatever the length field says.
MAX_RECORD = 262_144
# Large enough that the per-block work (a read, moving a cut record to the front) is lost in the per-record work,
# small enough that the block and the frames copied out of it stay in a core's L2 cache until the packet loop has
# looked at them: measured on a 600 MiB tap capture, 256 KiB reads 30% faster than 4 MiB.
BLOCK_SIZE = 256 * 1024

FILE_HEADER = 24
RECORD_HEADER = 16
# magic as found at the start of the file -> (struct byte order, nanosecond timestamps)
_MAGICS = {
    b"\xd4\xc3\xb2\xa1": ("<", False),
    b"\xa1\xb2\xc3\xd4": (">", False),
    b"\x4d\x3c\xb2\xa1": ("<", True),
    b"\xa1\xb2\x3c\x4d": (">", True),
}
_NANOSECONDS = 1_000_000_000

Record = tuple[float, bytes]  # (seconds since the epoch, the frame as captured)


class Readable(Protocol):
    """What the reader needs of its stream: a buffered binary stream (files, pipes, standard input, BytesIO)."""

    def read(self, size: int, /) -> bytes: ...

    def readinto1(self, buffer: memoryview, /) -> int: ...


class PcapHeaderError(ValueError):
    """The file header is cut short or does not start with a pcap magic number."""


class PcapBlockReader:
    """Records of one pcap stream, a block's worth at a time; problems after the file header go to `stats`.

    `head` is what the caller already read from the stream to sniff its format (at most the 24-byte file header).
    """

    def __init__(
        self, stream: Readable, stats: SourceStats, *, head: bytes = b"", block_size: int = BLOCK_SIZE
    ) -> None:
        if block_size < 1:
            raise ValueError("block_size must be positive")
        header = head + stream.read(FILE_HEADER - len(head)) if len(head) < FILE_HEADER else head
        layout = _MAGICS.get(header[:4])
        if layout is None:
            raise PcapHeaderError(f"no pcap magic number (starts with {header[:4].hex() or 'nothing'})")
        if len(header) < FILE_HEADER:
            raise PcapHeaderError(f"the file ends inside its {FILE_HEADER}-byte header")
        order, self.nanoseconds = layout
        self.linktype: int = struct.unpack_from(order + "I", header, 20)[0]
        self._record = struct.Struct(order + "III4x")  # seconds, fraction, captured length (not the original's)
        self._stream = stream
        self._stats = stats
        self._block_size = block_size

    def batches(self) -> Iterator[list[Record]]:
        """Lists of (timestamp, frame), in file order; none is empty. Stops at a corrupt length, keeping what came
        before it; a record cut by the end of the file is yielded as far as it goes, and counted."""
        buffer = bytearray(self._block_size)
        view = memoryview(buffer)
        kept = 0  # bytes at the front of the buffer: the start of a record the last block cut
        try:
            while True:
                # At most one read of the stream below: a whole block from a file, but from a pipe whatever has
                # arrived, so `tcpdump -w - | sensor read -` reports as it goes instead of every few MiB.
                got = self._stream.readinto1(view[kept:])
                if not got:
                    break
                records, position, corrupt = self._walk(view, kept + got)
                if records:
                    yield records
                if corrupt:
                    self._stats.problem("pcap record longer than any link captures")
                    return
                kept = kept + got - position
                needed = self._record_length(view, position, kept)
                if needed > len(buffer):
                    # One record larger than the block (a small block_size, or jumbo frames): room for it alone.
                    rest = bytes(view[position : position + kept])
                    view.release()
                    buffer = bytearray(needed)
                    view = memoryview(buffer)
                    view[:kept] = rest
                elif kept:
                    view[:kept] = bytes(view[position : position + kept])  # a copy: the two ranges may overlap
            if kept:
                yield from self._cut_record(view, kept)
        finally:
            view.release()

    def _record_length(self, view: memoryview, position: int, kept: int) -> int:
        """Bytes the cut record at `position` needs in all, as far as its header is there to say."""
        if kept < RECORD_HEADER:
            return RECORD_HEADER
        return RECORD_HEADER + int(self._record.unpack_from(view, position)[2])

    def _walk(self, view: memoryview, limit: int) -> tuple[list[Record], int, bool]:
        """The whole records in view[:limit], where the first cut one starts, and whether a corrupt length
        stopped the walk. The hot loop of reading: locals only, one unpack and one copy per record."""
        records: list[Record] = []
        append = records.append
        unpack = self._record.unpack_from
        nanoseconds = self.nanoseconds
        position, last_header = 0, limit - RECORD_HEADER
        while position <= last_header:
            seconds, fraction, captured = unpack(view, position)
            if captured > MAX_RECORD:
                return records, position, True
            start = position + RECORD_HEADER
            end = start + captured
            if end > limit:
                break
            ts = (seconds * _NANOSECONDS + fraction) / _NANOSECONDS if nanoseconds else seconds + fraction / 1e6
            append((ts, view[start:end].tobytes()))  # the timestamp as _timestamp computes it, written out
            position = end
        return records, position, False

    def _cut_record(self, view: memoryview, kept: int) -> Iterator[list[Record]]:
        self._stats.problem("truncated pcap record")
        if kept < RECORD_HEADER:
            return  # not even its header: nothing to give
        seconds, fraction, _captured = self._record.unpack_from(view, 0)
        yield [(self._timestamp(seconds, fraction), view[RECORD_HEADER:kept].tobytes())]

    def _timestamp(self, seconds: int, fraction: int) -> float:
        # As dpkt: float arithmetic for microseconds; for nanoseconds one correctly rounded division.
        if self.nanoseconds:
            return (seconds * _NANOSECONDS + fraction) / _NANOSECONDS
        return seconds + fraction / 1e6
