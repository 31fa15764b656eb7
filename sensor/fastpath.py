"""The fast path: packets of flows that need no more inspection, counted straight from the frame bytes.

Once a flow has given its name (or shown it has none), every further packet only adds to its byte and packet
counts, and on a tap that is nearly all of them: a bulk upload is thousands of packets after one ClientHello.
For the common frame shapes — Ethernet, optionally one 802.1Q tag, then IPv4 without options or IPv6 without
extension headers, then TCP or UDP — addresses and ports are contiguous in the frame, so one slice is a dictionary
key (one per transport) that leads to the flow and its direction, with no decoding at all. Every other shape takes
the full path.
"""

from __future__ import annotations

from struct import Struct

from sensor.decode.packet import ETHERNET, TCP, UDP, Packet

# At offset 12 of an untagged Ethernet frame: ethertype, IP version and header length, total length, flags and
# fragment offset, protocol, then past the checksum the addresses and ports. One unpack gives the packet loop all
# it needs to recognise the commonest shape and find its flow (sensor.pipeline inlines it).
IPV4_HEADER = Struct(">HBxHxxHxB2x12s")
IPV4_END = 12 + IPV4_HEADER.size
ETHERTYPE_IPV4 = 0x0800
IPV4_NO_OPTIONS = 0x45
FRAGMENTED = 0x3FFF  # more-fragments flag and fragment offset
_ETHERTYPE_IPV6, _ETHERTYPE_VLAN = 0x86DD, 0x8100
_TRANSPORTS = (TCP, UDP)


def frame_key(linktype: int, frame: bytes) -> tuple[int, bytes, int] | None:
    """(transport, direction-specific flow key, IP length) for a frame of a common shape, else None."""
    if linktype != ETHERNET or len(frame) < 18:
        return None
    ethertype, offset = frame[12] << 8 | frame[13], 14
    if ethertype == _ETHERTYPE_VLAN:
        ethertype, offset = frame[16] << 8 | frame[17], 18
    if ethertype == ETHERTYPE_IPV4:
        return _ipv4_key(frame, offset)
    if ethertype == _ETHERTYPE_IPV6:
        return _ipv6_key(frame, offset)
    return None


def _ipv4_key(frame: bytes, offset: int) -> tuple[int, bytes, int] | None:
    if len(frame) < offset + 24 or frame[offset] != IPV4_NO_OPTIONS or frame[offset + 6] & 0x3F or frame[offset + 7]:
        return None  # IP options or a fragment: the full path handles those
    proto = frame[offset + 9]
    if proto not in _TRANSPORTS:
        return None
    return proto, frame[offset + 12 : offset + 24], frame[offset + 2] << 8 | frame[offset + 3]


def _ipv6_key(frame: bytes, offset: int) -> tuple[int, bytes, int] | None:
    proto = frame[offset + 6] if len(frame) >= offset + 44 else 0
    if proto not in _TRANSPORTS:
        return None  # extension headers (or another protocol): the full path handles those
    return proto, frame[offset + 8 : offset + 44], 40 + (frame[offset + 4] << 8 | frame[offset + 5])


def packet_keys(packet: Packet) -> tuple[bytes, bytes]:
    """The keys frame_key gives this packet's direction and the opposite one."""
    sport, dport = packet.sport.to_bytes(2, "big"), packet.dport.to_bytes(2, "big")
    return packet.src + packet.dst + sport + dport, packet.dst + packet.src + dport + sport
