"""Capture files: pcap (through dpkt, the fast path) and pcapng (our block walker), told apart by magic number."""

from __future__ import annotations

import io
import struct
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import BinaryIO

import dpkt

from sensor.capture.base import CaptureError, Frame, SourceStats
from sensor.capture.pcapng import PcapngReader

PCAP_MAGICS = {
    b"\xd4\xc3\xb2\xa1",
    b"\xa1\xb2\xc3\xd4",  # microseconds, either byte order
    b"\x4d\x3c\xb2\xa1",
    b"\xa1\xb2\x3c\x4d",  # nanoseconds
}
PCAPNG_MAGIC = b"\x0a\x0d\x0d\x0a"


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


# No link layer captures more than this per packet (tcpdump's and tshark's limit); a record claiming more is corrupt,
# and reading it would make dpkt allocate whatever the length field says.
MAX_RECORD = 262_144


class _CorruptRecord(Exception):
    pass


class _BoundedReads(io.RawIOBase):
    """Refuses a single read larger than a record can be, so a corrupt length cannot exhaust memory."""

    def __init__(self, stream: BinaryIO, limit: int) -> None:
        self._stream = stream
        self._limit = limit

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if size < 0 or size > self._limit:
            raise _CorruptRecord
        return self._stream.read(size)


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

    def __init__(self, path: str) -> None:
        self.path = path
        self.stats = SourceStats()

    def frames(self) -> Iterator[Frame]:
        raw = open_capture(self.path)
        try:
            magic = raw.read(4)
            stream = io.BufferedReader(_Prefixed(magic, raw), buffer_size=1 << 20)
            if magic in PCAP_MAGICS:
                yield from self._pcap_frames(stream)
            elif magic == PCAPNG_MAGIC:
                yield from self._counted(PcapngReader(stream, self.stats).frames())
            else:
                shown = magic.hex() or "empty"
                raise CaptureError(f"{self.path}: not a pcap or pcapng file (starts with {shown})")
        finally:
            if raw is not sys.stdin.buffer:
                raw.close()

    def _counted(self, frames: Iterator[Frame]) -> Iterator[Frame]:
        for frame in frames:
            self.stats.frames += 1
            yield frame

    def _pcap_frames(self, stream: BinaryIO) -> Iterator[Frame]:
        try:
            reader = dpkt.pcap.Reader(_BoundedReads(stream, MAX_RECORD + 16))
        except (ValueError, struct.error, dpkt.dpkt.NeedData) as error:
            raise CaptureError(f"{self.path}: unreadable pcap header: {error}") from error
        linktype = reader.datalink()
        try:
            for ts, data in reader:
                self.stats.frames += 1
                yield Frame(float(ts), linktype, bytes(data))
        except (ValueError, struct.error, dpkt.dpkt.NeedData):
            self.stats.problem("corrupt pcap record")
        except _CorruptRecord:
            self.stats.problem("pcap record longer than any link captures")
