"""Google QUIC (gQUIC): the SNI tag of its client hello (CHLO), the tag-value message gQUIC uses instead of TLS.

Versions Q039, Q043 and Q046 send the CHLO in clear text inside the first packet; Q050 protects its Initials the
IETF way (sensor.decode.quic decrypts them) and its CHLO is read with the same tag parser. T05x carries TLS and is
not read.
"""

from __future__ import annotations

from struct import unpack_from

_GQUIC_PLAIN_VERSIONS = frozenset((b"Q039", b"Q043", b"Q046"))
_MAX_CHLO_TAGS = 64


def gquic_sni(datagram: bytes | memoryview) -> str | None:
    """SNI tag of a plaintext gQUIC CHLO (Q039/Q043/Q046); None for anything else (Q050 goes through the Initial
    decryption like IETF QUIC; T05x is not read)."""
    data = bytes(datagram)
    if len(data) < 13:
        return None
    flags = data[0]
    if flags & 0x80:  # Q046 uses the IETF invariant long header: version right after the first byte
        version = data[1:5]
    elif flags & 0x01:  # older public header: version flag, after an 8-byte connection ID when flag 0x08 is set
        version = data[9:13] if flags & 0x08 else data[1:5]
    else:
        return None
    if version not in _GQUIC_PLAIN_VERSIONS:
        return None
    chlo = data.find(b"CHLO")
    return None if chlo < 0 else chlo_tag(data, chlo, b"SNI\x00")


def chlo_tag(data: bytes, chlo: int, wanted: bytes) -> str | None:
    """Value of one tag of a gQUIC handshake message: tag count, then (tag, end offset) pairs, then the values."""
    if chlo + 8 > len(data):
        return None
    count = unpack_from("<H", data, chlo + 4)[0]
    values = chlo + 8 + 8 * count
    if count > _MAX_CHLO_TAGS or values > len(data):
        return None
    start = 0
    for entry in range(chlo + 8, values, 8):
        end = unpack_from("<I", data, entry + 4)[0]
        if end < start or values + end > len(data):
            return None
        if data[entry : entry + 4] == wanted:
            try:
                return data[values + start : values + end].decode("ascii")
            except UnicodeDecodeError:
                return None
        start = end
    return None
