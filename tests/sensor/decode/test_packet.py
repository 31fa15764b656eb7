"""Link and network layers: every link type a tap or `tcpdump -i any` produces, and damaged frames named."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.inet6 import IPv6, IPv6ExtHdrFragment, IPv6ExtHdrHopByHop
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether
from scapy.packet import Raw

from sensor.decode.packet import Packet, Skipped, decode

PAYLOAD = b"GET / HTTP/1.1\r\nHost: chatgpt.com\r\n\r\n"
ETHER = {"dst": "00:00:00:00:00:01", "src": "00:00:00:00:00:02"}
TCP_V4 = IP(src="10.0.0.5", dst="104.18.32.47") / TCP(sport=51000, dport=80, flags="PA", seq=1000) / Raw(PAYLOAD)
TCP_V6 = IPv6(src="2001:db8::5", dst="2001:db8::1") / TCP(sport=51000, dport=80, flags="PA", seq=1000) / Raw(PAYLOAD)


def sll2(inner: bytes, ethertype: int) -> bytes:
    return struct.pack(">HHIHBB8s", ethertype, 0, 2, 1, 0, 6, b"\0" * 8) + inner


def null_loopback(inner: bytes, family: int) -> bytes:
    return struct.pack("<I", family) + inner


@pytest.mark.parametrize(
    ("linktype", "frame"),
    [
        (1, bytes(Ether(**ETHER) / TCP_V4)),
        (1, bytes(Ether(**ETHER) / Dot1Q(vlan=10) / TCP_V4)),
        (1, bytes(Ether(**ETHER, type=0x88A8) / Dot1Q(vlan=100) / Dot1Q(vlan=10) / TCP_V4)),  # QinQ
        (1, bytes(Ether(**ETHER) / Dot1Q(vlan=0) / TCP_V6)),
        (113, bytes(CookedLinux(proto=0x0800) / TCP_V4)),
        (276, sll2(bytes(TCP_V4), 0x0800)),
        (101, bytes(TCP_V4)),
        (101, bytes(TCP_V6)),
        (228, bytes(TCP_V4)),
        (229, bytes(TCP_V6)),
        (0, null_loopback(bytes(TCP_V4), 2)),
        (9, b"\x00\x21" + bytes(TCP_V4)),  # PPP
        (104, b"\x0f\x00\x08\x00" + bytes(TCP_V4)),  # Cisco HDLC
        (1, bytes(Ether(dst="00:00:00:00:00:01", type=0x8847)) + b"\x00\x01\x41\x40" + bytes(TCP_V4)),  # MPLS
    ],
    ids=[
        "ether",
        "vlan",
        "qinq",
        "vlan0-v6",
        "sll",
        "sll2",
        "raw4",
        "raw6",
        "ipv4",
        "ipv6",
        "null",
        "ppp",
        "chdlc",
        "mpls",
    ],
)
def test_when_a_frame_carries_tcp_then_addresses_ports_and_payload_are_found(linktype: int, frame: bytes) -> None:
    packet = decode(linktype, frame)

    assert isinstance(packet, Packet)
    assert (packet.proto, packet.sport, packet.dport, packet.seq) == (6, 51000, 80, 1000)
    assert bytes(packet.payload) == PAYLOAD
    assert packet.ip_bytes == (len(bytes(TCP_V4)) if len(packet.src) == 4 else len(bytes(TCP_V6)))


def test_when_ethernet_pads_a_short_frame_then_the_padding_is_not_payload() -> None:
    small = IP(src="10.0.0.5", dst="10.0.0.1") / UDP(sport=5353, dport=53) / Raw(b"x")
    frame = bytes(Ether(**ETHER) / small) + b"\0" * 20

    packet = decode(1, frame)

    assert isinstance(packet, Packet)
    assert bytes(packet.payload) == b"x"


def test_when_ipv6_has_extension_headers_then_the_transport_is_found_behind_them() -> None:
    frame = bytes(
        IPv6(src="2001:db8::5", dst="2001:db8::1")
        / IPv6ExtHdrHopByHop()
        / IPv6ExtHdrFragment(offset=0, m=1)
        / UDP(sport=40000, dport=53)
        / Raw(b"q")
    )

    packet = decode(101, frame)

    assert isinstance(packet, Packet)
    assert (packet.proto, packet.dport, bytes(packet.payload)) == (17, 53, b"q")


def test_when_a_frame_is_cut_by_snaplen_then_the_ip_length_still_counts_the_whole_packet() -> None:
    frame = bytes(Ether(**ETHER) / TCP_V4)

    packet = decode(1, frame[:60])

    assert isinstance(packet, Packet)
    assert packet.ip_bytes == len(bytes(TCP_V4))
    assert len(packet.payload) < len(PAYLOAD)


@pytest.mark.parametrize(
    ("linktype", "frame", "reason"),
    [
        (1, b"\x00" * 10, "truncated link header"),
        (1, bytes(Ether(**ETHER, type=0x0806)) + b"\0" * 28, "not IP"),
        (1, bytes(Ether(**ETHER) / IP(src="10.0.0.1", dst="10.0.0.2", proto=1)) + b"\0" * 8, "not TCP or UDP"),
        (1, bytes(Ether(**ETHER, type=0x0800))[:14] + b"\x45\x00", "truncated IPv4 header"),
        (1, bytes(Ether(**ETHER) / IP(frag=100) / UDP()), "IP fragment after the first"),
        (1, bytes(Ether(**ETHER) / IP(proto=6))[:34] + b"\x00" * 10, "truncated TCP header"),
        (147, b"\x00" * 64, "unsupported link type 147"),
        (1, bytes(Ether(**ETHER) / Dot1Q())[:16], "truncated VLAN tag"),
    ],
)
def test_when_a_frame_cannot_be_decoded_then_the_reason_is_named(linktype: int, frame: bytes, reason: str) -> None:
    assert decode(linktype, frame) == Skipped(reason)


def test_garbage_never_raises() -> None:
    import random

    rng = random.Random(1)
    for _ in range(20_000):
        frame = rng.randbytes(rng.randrange(0, 120))
        decode(rng.choice([0, 1, 9, 101, 104, 113, 228, 229, 239, 276]), frame)
