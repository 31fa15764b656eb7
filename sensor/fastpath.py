"""The fast path: packets of flows that need no more inspection, counted straight from the frame bytes.

Once a flow has given its name (or shown it has none), every further packet only adds to its byte and packet
counts, and on a tap that is nearly all of them: a bulk upload is thousands of packets after one ClientHello.
For the common frame shapes — Ethernet, optionally one 802.1Q tag, then IPv4 without options or IPv6 without
extension headers, then TCP or UDP — the 5-tuple is contiguous in the frame, so one slice is a dictionary key
that leads to the flow and its direction, with no decoding at all. Every other shape takes the full path.
"""

from __future__ import annotations

from struct import pack

from sensor.decode.packet import ETHERNET, TCP, UDP, Packet

_IPV4, _IPV6, _VLAN = b"\x08\x00", b"\x86\xdd", b"\x81\x00"
_TRANSPORTS = (TCP, UDP)


def frame_key(linktype: int, frame: bytes) -> tuple[bytes, int] | None:
    """(direction-specific flow key, IP length) for a frame of a common shape, else None."""
    if linktype != ETHERNET:
        return None
    ethertype, offset = frame[12:14], 14
    if ethertype == _VLAN:
        ethertype, offset = frame[16:18], 18
    if ethertype == _IPV4:
        return _ipv4_key(frame, offset)
    if ethertype == _IPV6:
        return _ipv6_key(frame, offset)
    return None


def _ipv4_key(frame: bytes, offset: int) -> tuple[bytes, int] | None:
    if len(frame) < offset + 24 or frame[offset] != 0x45 or frame[offset + 6] & 0x3F or frame[offset + 7]:
        return None  # IP options or a fragment: the full path handles those
    if frame[offset + 9] not in _TRANSPORTS:
        return None
    # protocol, source, destination, ports: contiguous once the protocol byte is put in front
    return frame[offset + 9 : offset + 10] + frame[offset + 12 : offset + 24], frame[offset + 2] << 8 | frame[
        offset + 3
    ]


def _ipv6_key(frame: bytes, offset: int) -> tuple[bytes, int] | None:
    if len(frame) < offset + 44 or frame[offset + 6] not in _TRANSPORTS:
        return None  # extension headers (or another protocol): the full path handles those
    return frame[offset + 6 : offset + 7] + frame[offset + 8 : offset + 44], 40 + (
        frame[offset + 4] << 8 | frame[offset + 5]
    )


def packet_keys(packet: Packet) -> tuple[bytes, bytes]:
    """The keys frame_key gives this packet's direction and the opposite one."""
    proto = bytes((packet.proto,))
    forward = proto + packet.src + packet.dst + pack(">HH", packet.sport, packet.dport)
    backward = proto + packet.dst + packet.src + pack(">HH", packet.dport, packet.sport)
    return forward, backward
