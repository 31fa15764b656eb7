"""A pcapng block walker with what capture files from real sensors need and dpkt's reader lacks.

dpkt's pcapng reader takes the link type and timestamp resolution of the first interface only, and so misreads
files that mix interfaces (`tcpdump -i any` on some systems, multi-port taps). This walker keeps a table of
Interface Description Blocks per section, honours each one's link type and if_tsresol, skips blocks it does not
need (Decryption Secrets, statistics, name resolution) by their length, and stops cleanly on truncation.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator
from typing import BinaryIO

from sensor.capture.base import CaptureError, Frame, SourceStats

SECTION_HEADER = 0x0A0D0D0A
INTERFACE_DESCRIPTION = 0x00000001
SIMPLE_PACKET = 0x00000003
OBSOLETE_PACKET = 0x00000002
ENHANCED_PACKET = 0x00000006
BYTE_ORDER_MAGIC = 0x1A2B3C4D
IF_TSRESOL = 9
MAX_BLOCK = 64 * 1024 * 1024  # a larger block length is corruption, not a packet


class _Interface:
    __slots__ = ("divisor", "linktype", "offset", "snaplen")

    def __init__(self, linktype: int, snaplen: int, divisor: int, offset: int) -> None:
        self.linktype = linktype
        self.snaplen = snaplen
        self.divisor = divisor
        self.offset = offset


def _tsresol(value: int) -> int:
    # An int, so that ticks / divisor is one correctly rounded division (a float divisor loses up to ~128 ns).
    exponent = value & 0x7F
    return int(2**exponent) if value & 0x80 else int(10**exponent)


def _parse_interface(body: bytes, endian: str) -> _Interface:
    linktype, _reserved, snaplen = struct.unpack_from(endian + "HHI", body, 0)
    divisor, offset, position = 10**6, 0, 8
    while position + 4 <= len(body):
        code, length = struct.unpack_from(endian + "HH", body, position)
        value = body[position + 4 : position + 4 + length]
        if code == 0 or len(value) < length:  # end of options, or an option running past its block
            break
        if code == IF_TSRESOL and length >= 1:
            divisor = _tsresol(value[0])
        elif code == 14 and length == 8:  # if_tsoffset
            offset = struct.unpack(endian + "q", value)[0]
        position += 4 + ((length + 3) & ~3)
    return _Interface(linktype, snaplen, divisor, offset)


class PcapngReader:
    def __init__(self, stream: BinaryIO, stats: SourceStats) -> None:
        self._stream = stream
        self.stats = stats
        self._endian = "<"
        self._interfaces: list[_Interface] = []

    def _read_block(self) -> tuple[int, bytes] | None:
        head = self._stream.read(8)
        if len(head) < 8:
            if head:
                self.stats.problem("truncated block header at end of file")
            return None
        block_type = struct.unpack_from("<I", head)[0]
        if block_type == SECTION_HEADER:
            # The section header says its own byte order; read its length after learning it.
            magic = self._stream.read(4)
            if len(magic) < 4:
                self.stats.problem("truncated section header")
                return None
            self._endian = "<" if struct.unpack("<I", magic)[0] == BYTE_ORDER_MAGIC else ">"
            length = struct.unpack_from(self._endian + "I", head, 4)[0]
            consumed = 12
        else:
            length = struct.unpack_from(self._endian + "I", head, 4)[0]
            consumed = 8
        if length < 12 or length % 4 or length > MAX_BLOCK:
            self.stats.problem("corrupt block length")
            return None
        rest = self._stream.read(length - consumed)
        if len(rest) < length - consumed:
            self.stats.problem("truncated block at end of file")
            return None
        return block_type, rest[: len(rest) - 4]  # without the trailing copy of the length

    def frames(self) -> Iterator[Frame]:
        while (block := self._read_block()) is not None:
            block_type, body = block
            if block_type == SECTION_HEADER:
                self._interfaces = []  # interface ids restart in every section
            elif block_type == INTERFACE_DESCRIPTION and len(body) >= 8:
                self._interfaces.append(_parse_interface(body, self._endian))
            elif block_type in (ENHANCED_PACKET, OBSOLETE_PACKET):
                frame = self._packet(block_type, body)
                if frame is not None:
                    yield frame
            elif block_type == SIMPLE_PACKET and self._interfaces and len(body) >= 4:
                # Simple packets carry no timestamp or interface: interface 0, time unknown.
                original = struct.unpack_from(self._endian + "I", body, 0)[0]
                yield Frame(0.0, self._interfaces[0].linktype, body[4 : 4 + min(original, len(body) - 4)])

    def _packet(self, block_type: int, body: bytes) -> Frame | None:
        if len(body) < 20:
            self.stats.problem("short packet block")
            return None
        if block_type == ENHANCED_PACKET:
            interface_id, high, low, captured = struct.unpack_from(self._endian + "IIII", body, 0)
        else:
            interface_id, _drops, high, low, captured = struct.unpack_from(self._endian + "HHIII", body, 0)
        if interface_id >= len(self._interfaces):
            self.stats.problem("packet for an undeclared interface")
            return None
        if captured > len(body) - 20:
            self.stats.problem("captured length beyond its block")
            return None
        interface = self._interfaces[interface_id]
        ts = interface.offset + ((high << 32) | low) / interface.divisor
        return Frame(ts, interface.linktype, body[20 : 20 + captured])


def check_magic(first4: bytes) -> None:
    if first4 != struct.pack("<I", SECTION_HEADER):
        raise CaptureError("not a pcapng file")
