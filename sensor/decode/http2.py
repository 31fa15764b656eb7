"""Cleartext HTTP/2 (h2c): enough to find DNS-over-HTTPS messages sent without TLS.

A client that speaks HTTP/2 in the clear starts with the connection preface; after it, both directions are a
sequence of frames (9-byte header: 24-bit length, type, flags, stream id). DoH carries DNS messages as the bodies
of DATA frames (POST requests, and every response), so the DNS decoder can read them as they are. Header blocks
are HPACK-compressed and not needed for that, so they are skipped.
"""

from __future__ import annotations

PREFACE = b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n"
_DATA = 0x0
_PADDED = 0x8
MAX_FRAME = 1 << 16  # a DNS message fits in 64 KiB; a larger frame is not DoH (or not HTTP/2)


def starts_h2c(first_bytes: bytes | memoryview) -> bool:
    """The client's first bytes are (a prefix of) the HTTP/2 connection preface."""
    head = bytes(first_bytes[: len(PREFACE)])
    return len(head) >= 3 and PREFACE.startswith(head)


def data_payloads(stream: bytes | memoryview, offset: int) -> tuple[list[bytes], int]:
    """Bodies of the complete DATA frames in stream[offset:], padding removed, and the offset after the last
    complete frame (where to continue once more bytes have arrived). A frame too large to be DoH ends the walk."""
    payloads: list[bytes] = []
    position, size = offset, len(stream)
    while position + 9 <= size:
        length = int.from_bytes(stream[position : position + 3], "big")
        if length > MAX_FRAME:
            return payloads, size  # give up on this stream: skip everything
        end = position + 9 + length
        if end > size:
            break
        if stream[position + 3] == _DATA:
            body = bytes(stream[position + 9 : end])
            if stream[position + 4] & _PADDED and body:
                pad = body[0]
                body = body[1 : len(body) - pad] if pad < len(body) else b""
            if body:
                payloads.append(body)
        position = end
    return payloads, position
