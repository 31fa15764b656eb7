"""Captures the sensor tests build (from real protocol bytes) with the names each must yield, and the tshark marker."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pytest
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import CookedLinux, Ether
from scapy.packet import Packet, Raw
from scapy.utils import PcapNgWriter

from sensor.capture.tshark import TsharkFile
from sensor.sample_traffic import CLIENT, MACS, T0, client_hello, dns_exchange, office_morning, tcp_session, write
from tests.sensor.quic_encoder import crypto, padded, protect

needs_tshark = pytest.mark.skipif(
    not TsharkFile.available(),
    reason="tshark is not installed: `apt-get install tshark`, or run `make test` as root",
)


def two_interfaces(path: Path) -> Path:
    """A pcapng from two interfaces of different link types: Ethernet, and Linux cooked capture (`-i any`)."""
    ethernet = dns_exchange("chatgpt.com", "104.18.32.47", 40001, T0)
    ethernet += tcp_session("104.18.32.47", 50001, [client_hello("chatgpt.com")], 2_000, T0 + 0.1)
    cooked = []
    for packet in tcp_session("160.79.104.10", 50002, [client_hello("claude.ai")], 900, T0 + 0.05):
        frame = CookedLinux(proto=0x0800) / packet[IP]
        frame.time, frame.sniffed_on = packet.time, "any"
        cooked.append(frame)
    for packet in ethernet:
        packet.sniffed_on = "eth0"
    writer = PcapNgWriter(str(path))
    for packet in sorted(ethernet + cooked, key=lambda p: float(p.time)):
        writer.write(packet)
    writer.close()
    return path


def quic_initials(path: Path) -> Path:
    """A QUIC v1 connection whose ClientHello spans two Initials, the second sent first, then a server reply."""
    hello = client_hello("gemini.google.com")[5:]  # the handshake message, without its TLS record header
    half = len(hello) // 2
    first, second = (protect(padded(crypto(0, hello[:half])), pn=0), protect(padded(crypto(half, hello[half:])), pn=1))
    server = "142.250.74.110"
    up = Ether(**MACS) / IP(src=CLIENT, dst=server) / UDP(sport=51000, dport=443)
    down = Ether(**MACS) / IP(src=server, dst=CLIENT) / UDP(sport=443, dport=51000)
    packets: list[Packet] = [up / Raw(second), up / Raw(first), down / Raw(b"\x40" + bytes(300))]
    for index, packet in enumerate(packets):
        packet.time = T0 + index * 0.01
    return write(path, packets)


CAPTURES: dict[str, Callable[[Path], Path]] = {
    "office-morning.pcap": office_morning,
    "two-interfaces.pcapng": two_interfaces,
    "quic-initials.pcap": quic_initials,
}
EXPECTED_NAMES = {
    "office-morning.pcap": {
        ("dns", "chatgpt.com"),
        ("tls_sni", "chatgpt.com"),
        ("tls_sni", "claude.ai"),
        ("http_host", "www.perplexity.ai"),
        ("dns", "gemini.google.com"),
        ("tls_sni", "www.bbc.co.uk"),
    },
    "two-interfaces.pcapng": {("dns", "chatgpt.com"), ("tls_sni", "chatgpt.com"), ("tls_sni", "claude.ai")},
    "quic-initials.pcap": {("quic_sni", "gemini.google.com")},
}
