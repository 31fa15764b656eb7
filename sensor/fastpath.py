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
# fragment offset, protocol, past the checksum the addresses and ports, and past the sequence and acknowledgement
# numbers TCP's data offset. One unpack gives the packet loop all it needs to recognise the commonest shape and find
# its flow (sensor.pipeline inlines it); the frame must hold a whole TCP header, as the decoder requires.
IPV4_HEADER = Struct(">HBxHxxHxB2x12s8xB")
IPV4_TCP_END = 14 + 20 + 20
ETHERTYPE_IPV4 = 0x0800
IPV4_NO_OPTIONS = 0x45
FRAGMENTED = 0x3FFF  # more-fragments flag and fragment offset
TCP_NO_OPTIONS = 0x50  # data offset 5: a smaller one makes the decoder call the header corrupt
_ETHERTYPE_IPV6, _ETHERTYPE_VLAN = 0x86DD, 0x8100


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
    if len(frame) < offset + 20 or frame[offset] != IPV4_NO_OPTIONS or frame[offset + 6] & 0x3F or frame[offset + 7]:
        return None  # IP options or a fragment: the full path handles those
    proto = frame[offset + 9]
    if not _whole_transport_header(frame, offset + 20, proto):
        return None
    return proto, frame[offset + 12 : offset + 24], frame[offset + 2] << 8 | frame[offset + 3]


def _ipv6_key(frame: bytes, offset: int) -> tuple[int, bytes, int] | None:
    proto = frame[offset + 6] if len(frame) >= offset + 40 else 0
    if not _whole_transport_header(frame, offset + 40, proto):
        return None  # extension headers, another protocol, or a cut header: the full path handles those
    return proto, frame[offset + 8 : offset + 44], 40 + (frame[offset + 4] << 8 | frame[offset + 5])


def _whole_transport_header(frame: bytes, offset: int, proto: int) -> bool:
    """Whether the decoder would read this TCP or UDP header, rather than skip the frame as cut or corrupt."""
    if proto == TCP:
        return len(frame) >= offset + 20 and frame[offset + 12] >= TCP_NO_OPTIONS
    return proto == UDP and len(frame) >= offset + 8


def packet_keys(packet: Packet) -> tuple[bytes, bytes]:
    """The keys frame_key gives this packet's direction and the opposite one."""
    sport, dport = packet.sport.to_bytes(2, "big"), packet.dport.to_bytes(2, "big")
    return packet.src + packet.dst + sport + dport, packet.dst + packet.src + dport + sport
