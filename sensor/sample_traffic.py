"""A small synthetic capture of AI-tool use, built from real protocol bytes with scapy: for the demo and the tests."""

from __future__ import annotations

from pathlib import Path

from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP, UDP
from scapy.layers.l2 import Ether
from scapy.layers.tls.extensions import ServerName, TLS_Ext_ServerName
from scapy.layers.tls.handshake import TLSClientHello
from scapy.layers.tls.record import TLS
from scapy.packet import Packet, Raw
from scapy.utils import wrpcap

MACS = {"src": "02:00:00:00:00:01", "dst": "02:00:00:00:00:02"}
CLIENT = "10.20.0.7"
T0 = 1_793_000_000.0  # 2026-10-25, inside the event contract's accepted range


def client_hello(sni: str) -> bytes:
    extensions = [TLS_Ext_ServerName(servernames=[ServerName(servername=sni.encode())])]
    # Fixed random and time fields keep the capture byte-for-byte reproducible.
    hello = TLSClientHello(ciphers=[0x1301, 0x1302], ext=extensions, gmt_unix_time=0, random_bytes=bytes(28))
    return bytes(TLS(msg=[hello]))


def tcp_session(
    server: str,
    sport: int,
    client_payload: list[bytes],
    reply_bytes: int,
    t: float,
    *,
    dport: int = 443,
    reorder: bool = False,
) -> list[Packet]:
    """A TCP connection: handshake, the client's segments (optionally out of order), a reply, FIN."""
    up = Ether(**MACS) / IP(src=CLIENT, dst=server)
    down = Ether(**MACS) / IP(src=server, dst=CLIENT)
    isn, server_isn = 1000, 5000
    packets: list[Packet] = [
        up / TCP(sport=sport, dport=dport, flags="S", seq=isn),
        down / TCP(sport=dport, dport=sport, flags="SA", seq=server_isn, ack=isn + 1),
        up / TCP(sport=sport, dport=dport, flags="A", seq=isn + 1, ack=server_isn + 1),
    ]
    segments, seq = [], isn + 1
    for payload in client_payload:
        segments.append(up / TCP(sport=sport, dport=dport, flags="PA", seq=seq, ack=server_isn + 1) / Raw(payload))
        seq += len(payload)
    packets += list(reversed(segments)) if reorder else segments
    packets.append(
        down / TCP(sport=dport, dport=sport, flags="PA", seq=server_isn + 1, ack=seq) / Raw(b"x" * reply_bytes)
    )
    packets.append(up / TCP(sport=sport, dport=dport, flags="FA", seq=seq, ack=server_isn + 1 + reply_bytes))
    for index, packet in enumerate(packets):
        packet.time = t + index * 0.01
    return packets


def dns_exchange(name: str, address: str, sport: int, t: float, resolver: str = "10.20.0.1") -> list[Packet]:
    query = (
        Ether(**MACS)
        / IP(src=CLIENT, dst=resolver)
        / UDP(sport=sport, dport=53)
        / DNS(id=7, rd=1, qd=DNSQR(qname=name))
    )
    answer = (
        Ether(**MACS)
        / IP(src=resolver, dst=CLIENT)
        / UDP(sport=53, dport=sport)
        / DNS(id=7, qr=1, qd=DNSQR(qname=name), an=DNSRR(rrname=name, type="A", rdata=address, ttl=60))
    )
    query.time, answer.time = t, t + 0.005
    return [query, answer]


def write(path: Path, packets: list[Packet]) -> Path:
    wrpcap(str(path), sorted(packets, key=lambda p: float(p.time)))
    return path


def office_morning(path: Path) -> Path:
    """A client using ChatGPT (DNS then TLS with an upload), Claude (ClientHello split and reordered), an HTTP
    request to an AI host, a TLS connection without SNI to an address DNS named, and ordinary non-AI traffic."""
    packets: list[Packet] = []
    packets += dns_exchange("chatgpt.com", "104.18.32.47", 40001, T0)
    packets += tcp_session("104.18.32.47", 50001, [client_hello("chatgpt.com"), b"u" * 30_000], 2_000, T0 + 0.1)
    hello = client_hello("claude.ai")
    packets += tcp_session("160.79.104.10", 50002, [hello[:40], hello[40:90], hello[90:]], 900, T0 + 1, reorder=True)
    packets += tcp_session(
        "93.184.216.34", 50003, [b"GET /v1 HTTP/1.1\r\nHost: www.perplexity.ai\r\n\r\n"], 500, T0 + 2, dport=80
    )
    packets += dns_exchange("gemini.google.com", "142.250.74.110", 40002, T0 + 3)
    packets += tcp_session("142.250.74.110", 50004, [b"\x16\x03\x01\x00\x05\x01\x00\x00\x01\x00"], 100, T0 + 3.1)
    packets += tcp_session("151.101.1.140", 50005, [client_hello("www.bbc.co.uk")], 5_000, T0 + 4)
    return write(path, packets)
