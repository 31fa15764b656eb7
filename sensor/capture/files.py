"""Capture files: pcap (our block reader, or dpkt's) and pcapng (our block walker), told apart by magic number."""

from __future__ import annotations

import io
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO, Literal

from sensor.capture.base import CaptureError, Frame, FrameBatch, SourceStats, grouped
from sensor.capture.pcap_blocks import BLOCK_SIZE, MAX_RECORD, PcapBlockReader, PcapHeaderError
from sensor.capture.pcapng import PcapngReader

__all__ = ["MAX_RECORD", "PCAPNG_MAGIC", "PCAP_MAGICS", "CaptureFile", "PcapReader", "open_capture"]

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",  # microseconds, either byte order
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",  # nanoseconds
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"
# Frames per batch from the record-at-a-time readers: enough to make the batch's own cost vanish, few enough that a
# pipe's frames are not held back long.
_BATCH = 256

# "blocks": our block reader, the default. "dpkt": dpkt's pcap.Reader, kept as a second, independent reader to check
# the first against (tests/sensor/capture/test_pcap_blocks.py compares the two on every capture the suite has).
PcapReader = Literal["blocks", "dpkt"]


class _Prefixed(io.RawIOBase):
    """A stream with the bytes already read to sniff its format put back in front (stdin cannot seek)."""

    def __init__(self, prefix: bytes, rest: BinaryIO) -> None:
        self._prefix = prefix
        self._rest = rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        if self._prefix:
            count = min(len(buffer), len(self._prefix))
            buffer[:count] = self._prefix[:count]
            self._prefix = self._prefix[count:]
            return count
        data = self._rest.read(len(buffer))
        buffer[: len(data)] = data
        return len(data)


class _CorruptRecord(Exception):
    pass


class _BoundedReads(io.RawIOBase):
    """Refuses a single read larger than a record can be, so a corrupt length cannot exhaust memory; and notes a file
    that ends inside a record, which dpkt passes over in silence (it returns the short frame, or stops).

    dpkt reads the file header, then each record's header and its data, in that order: every second read after the
    first starts a record, and only there may the file end cleanly.
    """

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit
        self._reads = 0
        self.cut = False

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._limit:
            raise _CorruptRecord
        data = self._stream.read(size)
        self._reads += 1
        at_record_start = self._reads % 2 == 0
        if len(data) < size and (data or not at_record_start):
            self.cut = True
        return data


def open_capture(path: str) -> BinaryIO:
    """The capture file, or standard input for `-`, as a binary stream; a clear error when it cannot be opened."""
    if path == "-":
        return sys.stdin.buffer
    try:
        return Path(path).open("rb")
    except OSError as error:
        raise CaptureError(f"{path}: {error.strerror or error}") from error


class CaptureFile:
    """A pcap or pcapng file, or `-` for standard input. The format is read from the magic, not the name."""

    name = "file"

    def __init__(self, path: str, *, pcap_reader: PcapReader = "blocks", block_size: int = BLOCK_SIZE) -> None:
        self.path = path
        self.pcap_reader = pcap_reader
        self.block_size = block_size
        self.stats = SourceStats()

    def frames(self) -> Iterator[Frame]:
        for linktype, records in self.batches():
            for ts, data in records:
                yield Frame(ts, linktype, data)

    def batches(self) -> Iterator[FrameBatch]:
        raw = open_capture(self.path)
        try:
            magic = raw.read(4)
            if magic in PCAP_MAGICS and self.pcap_reader == "blocks":
                yield from self._pcap_blocks(magic, raw)
            elif magic in PCAP_MAGICS:
                yield from self._counted(self._dpkt_frames(self._sniffed(magic, raw)))
            elif magic == PCAPNG_MAGIC:
                yield from self._counted(PcapngReader(self._sniffed(magic, raw), self.stats).frames())
            else:
                shown = magic.hex() or "empty"
                raise CaptureError(f"{self.path}: not a pcap or pcapng file (starts with {shown})")
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()

    @staticmethod
    def _sniffed(magic: bytes, raw: BinaryIO) -> BinaryIO:
        return io.BufferedReader(_Prefixed(magic, raw), buffer_size=1 << 20)

    def _counted(self, frames: Iterator[Frame]) -> Iterator[FrameBatch]:
        for batch in grouped(frames, _BATCH):
            self.stats.frames += len(batch.records)
            yield batch

    def _pcap_blocks(self, magic: bytes, raw: BinaryIO) -> Iterator[FrameBatch]:
        stream = raw if isinstance(raw, io.BufferedIOBase) else io.BufferedReader(_Prefixed(b"", raw))
        try:
            reader = PcapBlockReader(stream, self.stats, head=magic, block_size=self.block_size)
        except PcapHeaderError as error:
            raise CaptureError(f"{self.path}: unreadable pcap header: {error}") from error
        linktype = reader.linktype
        for records in reader.batches():
            self.stats.frames += len(records)
            yield FrameBatch(linktype, records)

    def _dpkt_frames(self, stream: BinaryIO) -> Iterator[Frame]:
        import dpkt  # noqa: PLC0415 - 19 ms of every start-up, for the reader only --backend dpkt uses

        bounded = _BoundedReads(stream, MAX_RECORD)
        try:
            reader = dpkt.pcap.Reader(bounded)
        except (ValueError, struct.error, dpkt.dpkt.NeedData) as error:
            raise CaptureError(f"{self.path}: unreadable pcap header: {error}") from error
        linktype = reader.datalink()
        try:
            for ts, data in reader:
                yield Frame(float(ts), linktype, bytes(data))
        except (ValueError, struct.error, dpkt.dpkt.NeedData):
            self.stats.problem("truncated pcap record" if bounded.cut else "corrupt pcap record")
            return
        except _CorruptRecord:
            self.stats.problem("pcap record longer than any link captures")
            return
        if bounded.cut:
            self.stats.problem("truncated pcap record")
