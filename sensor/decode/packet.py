"""Link and network layers, fast: from a captured frame to addresses, ports and transport payload.

Every packet goes through here (flow accounting needs them all), so this reads fixed header fields with
`struct.unpack_from` on the frame itself and builds no objects for layers it passes through. What it cannot
decode it names, so the sensor's summary can say what was skipped and why.
"""

from __future__ import annotations

from collections.abc import Callable
from struct import unpack_from
from typing import NamedTuple

TCP = 6
UDP = 17

# tcpdump LINKTYPE_* numbers.
ETHERNET, RAW, RAW_BSD_12, RAW_BSD_14, NULL, LOOP, PPP, C_HDLC = 1, 101, 12, 14, 0, 108, 9, 104
LINUX_SLL, LINUX_SLL2, IPV4, IPV6, NFLOG = 113, 276, 228, 229, 239

ETHERTYPE_IPV4, ETHERTYPE_IPV6 = 0x0800, 0x86DD
_VLAN_TAGS = (0x8100, 0x88A8, 0x9100, 0x9200)
_MPLS = (0x8847, 0x8848)
_IPV6_EXTENSIONS = (0, 43, 60)  # hop-by-hop, routing, destination options (fragment handled apart)


class Packet(NamedTuple):
    src: bytes  # 4 or 16 address bytes
    dst: bytes
    proto: int  # TCP or UDP
    sport: int
    dport: int
    ip_bytes: int  # length of the IP packet as sent (from its header, so snaplen does not shrink it)
    payload: memoryview  # transport payload as captured (may be cut by snaplen)
    tcp_flags: int
    seq: int


class Skipped(NamedTuple):
    reason: str


def _network_offset(linktype: int, frame: bytes) -> tuple[int, int] | str:
    """(offset of the IP header, ethertype) or the reason the frame carries no IP we can read."""
    handler = _LINK_HANDLERS.get(linktype)
    if handler is None:
        return f"unsupported link type {linktype}"
    return handler(frame)


def _fixed(offset: int) -> Callable[[bytes], tuple[int, int] | str]:
    """Link headers of fixed length with no protocol field: the IP version nibble says which IP."""

    def locate(frame: bytes) -> tuple[int, int] | str:
        return (offset, _version_ethertype(frame, offset)) if len(frame) > offset else "truncated link header"

    return locate


def _sll2(frame: bytes) -> tuple[int, int] | str:
    return (20, unpack_from(">H", frame, 0)[0]) if len(frame) >= 20 else "truncated link header"


def _version_ethertype(frame: bytes, offset: int) -> int:
    if len(frame) <= offset:
        return 0
    version = frame[offset] >> 4
    return ETHERTYPE_IPV4 if version == 4 else ETHERTYPE_IPV6 if version == 6 else 0


def _ethernet(frame: bytes, type_offset: int) -> tuple[int, int] | str:
    """Ethertype at type_offset, then any stack of VLAN tags (802.1Q, QinQ) and MPLS labels."""
    if len(frame) < type_offset + 2:
        return "truncated link header"
    ethertype = unpack_from(">H", frame, type_offset)[0]
    offset = type_offset + 2
    while ethertype in _VLAN_TAGS:
        if len(frame) < offset + 4:
            return "truncated VLAN tag"
        ethertype = unpack_from(">H", frame, offset + 2)[0]
        offset += 4
    if ethertype in _MPLS:
        while True:
            if len(frame) < offset + 4:
                return "truncated MPLS label"
            bottom = frame[offset + 2] & 1
            offset += 4
            if bottom:
                return (offset, _version_ethertype(frame, offset))
    return (offset, ethertype)


def _ppp_or_hdlc(linktype: int, frame: bytes) -> tuple[int, int] | str:
    if len(frame) < 4:
        return "truncated link header"
    if linktype == C_HDLC:
        return (4, unpack_from(">H", frame, 2)[0])
    if frame[0] == 0xFF and frame[1] == 0x03:  # address and control bytes present
        protocol, offset = unpack_from(">H", frame, 2)[0], 4
    else:
        protocol, offset = unpack_from(">H", frame, 0)[0], 2
    return (offset, {0x0021: ETHERTYPE_IPV4, 0x0057: ETHERTYPE_IPV6}.get(protocol, 0))


def _nflog(frame: bytes) -> tuple[int, int] | str:
    """Linux NFLOG: a 4-byte header, then TLVs (host byte order, little-endian here); type 9 is the packet."""
    offset = 4
    while offset + 4 <= len(frame):
        length, tlv_type = unpack_from("<HH", frame, offset)
        if length < 4:
            return "corrupt NFLOG TLV"
        if tlv_type == 9:
            return (offset + 4, _version_ethertype(frame, offset + 4))
        offset += (length + 3) & ~3
    return "NFLOG without a packet"


_LINK_HANDLERS: dict[int, Callable[[bytes], tuple[int, int] | str]] = {
    ETHERNET: lambda frame: _ethernet(frame, 12),
    LINUX_SLL: lambda frame: _ethernet(frame, 14),
    LINUX_SLL2: _sll2,
    PPP: lambda frame: _ppp_or_hdlc(PPP, frame),
    C_HDLC: lambda frame: _ppp_or_hdlc(C_HDLC, frame),
    NFLOG: _nflog,
    **{raw: _fixed(0) for raw in (RAW, RAW_BSD_12, RAW_BSD_14, IPV4, IPV6)},
    **{loop: _fixed(4) for loop in (NULL, LOOP)},
}


def decode(linktype: int, frame: bytes) -> Packet | Skipped:
    located = _network_offset(linktype, frame)
    if isinstance(located, str):
        return Skipped(located)
    offset, ethertype = located
    if ethertype == ETHERTYPE_IPV4:
        return _ipv4(frame, offset)
    if ethertype == ETHERTYPE_IPV6:
        return _ipv6(frame, offset)
    return Skipped("not IP")


def _ipv4(frame: bytes, offset: int) -> Packet | Skipped:
    if len(frame) < offset + 20:
        return Skipped("truncated IPv4 header")
    first = frame[offset]
    header = (first & 0x0F) * 4
    if first >> 4 != 4 or header < 20:
        return Skipped("corrupt IPv4 header")
    total, fragment, proto = unpack_from(">H2xHxB", frame, offset + 2)
    if fragment & 0x1FFF:
        return Skipped("IP fragment after the first")
    src, dst = frame[offset + 12 : offset + 16], frame[offset + 16 : offset + 20]
    return _transport(frame, offset + header, src=src, dst=dst, proto=proto, ip_bytes=total, ip_end=offset + total)


def _ipv6(frame: bytes, offset: int) -> Packet | Skipped:
    if len(frame) < offset + 40:
        return Skipped("truncated IPv6 header")
    payload_length, next_header = unpack_from(">HB", frame, offset + 4)
    src, dst = frame[offset + 8 : offset + 24], frame[offset + 24 : offset + 40]
    end = offset + 40 + payload_length
    position = offset + 40
    for _ in range(8):  # a bounded walk: a chain of extension headers longer than this is an attack
        if next_header in _IPV6_EXTENSIONS:
            if len(frame) < position + 2:
                return Skipped("truncated IPv6 extension header")
            next_header, length = frame[position], (frame[position + 1] + 1) * 8
            position += length
        elif next_header == 44:  # fragment header: only the first fragment has the transport header
            if len(frame) < position + 8:
                return Skipped("truncated IPv6 fragment header")
            if unpack_from(">H", frame, position + 2)[0] & 0xFFF8:
                return Skipped("IP fragment after the first")
            next_header = frame[position]
            position += 8
        else:
            break
    return _transport(frame, position, src=src, dst=dst, proto=next_header, ip_bytes=40 + payload_length, ip_end=end)


def _transport(
    frame: bytes, offset: int, *, src: bytes, dst: bytes, proto: int, ip_bytes: int, ip_end: int
) -> Packet | Skipped:
    # The payload ends where the IP packet says (Ethernet pads short frames), or where the capture was cut.
    end = min(ip_end, len(frame))
    if proto == TCP:
        if len(frame) < offset + 20:
            return Skipped("truncated TCP header")
        sport, dport, seq, data_offset, flags = unpack_from(">HHI4xBB", frame, offset)
        start = offset + (data_offset >> 4) * 4
        if start < offset + 20:
            return Skipped("corrupt TCP header")
        return Packet(src, dst, TCP, sport, dport, ip_bytes, memoryview(frame)[start : max(start, end)], flags, seq)
    if proto == UDP:
        if len(frame) < offset + 8:
            return Skipped("truncated UDP header")
        sport, dport = unpack_from(">HH", frame, offset)
        return Packet(src, dst, UDP, sport, dport, ip_bytes, memoryview(frame)[offset + 8 : max(offset + 8, end)], 0, 0)
    return Skipped("not TCP or UDP")
