"""Payload inspection: the few packets of a flow that can carry a name, turned into (signal, name) findings.

Only a flow's first client bytes matter (the ClientHello, the HTTP request line and headers, QUIC Initials), so a
flow stops being inspected as soon as it has given its name or shown it will not; everything after that is just
counted. DNS is the exception: a resolver flow keeps asking, so queries are read until a per-flow cap — and so is
DNS-over-HTTPS sent over cleartext HTTP/2, whose DNS messages are read from both directions' DATA frames.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from ipaddress import ip_address

from sensor.decode import dns, gquic, http, http2, quic, tls
from sensor.decode.packet import UDP, Packet
from sensor.decode.tcp_stream import ClientStreamAssembler
from sensor.flows import Flow
from sensor.names import AnswerMap, clean_name
from sensor.observations import ObservedSignal

DNS_PORT = 53
MAX_DNS_NAMES_PER_FLOW = 32
MAX_INSPECTED_PACKETS = 24  # a name that has not appeared by then is not coming
MAX_H2C_PACKETS = 256  # a cleartext HTTP/2 connection keeps carrying DoH queries; read its start, bounded
H2C_STREAM_BYTES = 64 * 1024


@dataclass(frozen=True, slots=True)
class Finding:
    signal: ObservedSignal
    name: str | None
    ech: bool = False  # the ClientHello carried an Encrypted ClientHello extension


@dataclass(slots=True)
class _H2c:
    """Reading position in each direction of a cleartext HTTP/2 connection."""

    up_offset: int = len(http2.PREFACE)
    down: ClientStreamAssembler = field(default_factory=lambda: ClientStreamAssembler(max_bytes=H2C_STREAM_BYTES))
    down_offset: int = 0
    packets: int = 0


@dataclass(slots=True)
class _Inspection:
    packets: int = 0
    tcp: ClientStreamAssembler | None = None
    quic: quic.CryptoAssembler | None = None
    quic_dcid: bytes | None = None
    dns_names: set[str] = field(default_factory=set)
    h2c: _H2c | None = None


def _state(flow: Flow) -> _Inspection:
    if flow.state is None:
        flow.state = _Inspection()
    state: _Inspection = flow.state
    return state


def _finish(flow: Flow) -> None:
    flow.done = True
    flow.state = None  # free the buffers


def inspect(flow: Flow, packet: Packet, upstream: bool, answers: AnswerMap) -> list[Finding]:
    if DNS_PORT in (packet.sport, packet.dport):
        if packet.proto == UDP:
            return _dns_datagram(flow, packet, upstream, answers)
        return _dns_stream(flow, packet, upstream, answers)
    if flow.state is not None and flow.state.h2c is not None:
        return _h2c(flow, flow.state, packet, upstream, answers)
    if not upstream:
        return []
    return _first_client_bytes(flow, packet)


def _first_client_bytes(flow: Flow, packet: Packet) -> list[Finding]:
    state = _state(flow)
    state.packets += 1
    if state.packets > MAX_INSPECTED_PACKETS:
        _finish(flow)
        return []
    if packet.proto == UDP:
        return _quic(flow, state, packet)
    return _tcp(flow, state, packet)


def _tcp(flow: Flow, state: _Inspection, packet: Packet) -> list[Finding]:
    syn = bool(packet.tcp_flags & 0x02)
    if state.tcp is None:
        if not syn and not packet.payload:
            return []
        state.tcp = ClientStreamAssembler()
    state.tcp.add(packet.seq, packet.payload, syn=syn)
    stream = state.tcp.contiguous()
    if not stream:
        return []
    if tls.looks_like_tls_client_hello(stream[:6]):
        return _tls(flow, stream)
    if http2.starts_h2c(stream):
        if len(stream) >= len(http2.PREFACE):
            state.h2c = _H2c()
        return []
    if http.looks_like_http_request(stream[:8]):
        return _http(flow, stream)
    _finish(flow)
    return []


def _tls(flow: Flow, stream: bytes) -> list[Finding]:
    result = tls.parse_client_hello_records(stream)
    if result is tls.TlsParse.NEED_MORE:
        return []
    _finish(flow)
    if isinstance(result, tls.ClientHello):
        return [Finding(ObservedSignal.TLS_SNI, clean_name(result.sni), ech=result.has_ech or result.has_esni)]
    return []


def _http(flow: Flow, stream: bytes) -> list[Finding]:
    host = http.http_host(stream)
    if host is None and len(stream) < 8192 and b"\r\n\r\n" not in stream:
        return []  # headers still arriving
    _finish(flow)
    return [Finding(ObservedSignal.HTTP_HOST, clean_name(host))] if host else []


def _h2c(flow: Flow, state: _Inspection, packet: Packet, upstream: bool, answers: AnswerMap) -> list[Finding]:
    h2c = state.h2c
    assert h2c is not None
    h2c.packets += 1
    if h2c.packets > MAX_H2C_PACKETS or state.tcp is None:
        _finish(flow)
        return []
    if upstream:
        state.tcp.add(packet.seq, packet.payload)
        payloads, h2c.up_offset = http2.data_payloads(state.tcp.contiguous(), h2c.up_offset)
    else:
        h2c.down.add(packet.seq, packet.payload, syn=bool(packet.tcp_flags & 0x02))
        payloads, h2c.down_offset = http2.data_payloads(h2c.down.contiguous(), h2c.down_offset)
    findings: list[Finding] = []
    for payload in payloads:
        message = dns.parse_dns(payload)
        if message is not None:
            findings += _dns_message(flow, message, answers)
    return findings


def _quic(flow: Flow, state: _Inspection, packet: Packet) -> list[Finding]:
    datagram = packet.payload
    if state.quic is None:
        if not quic.is_quic_long_header_initial(datagram):
            _finish(flow)
            name = gquic.gquic_sni(datagram)  # Google QUIC Q043/Q046 sends its CHLO in clear text
            return [Finding(ObservedSignal.QUIC_SNI, clean_name(name))] if name else []
        state.quic = quic.CryptoAssembler()
    for initial in quic.parse_client_initials(datagram, original_dcid=state.quic_dcid):
        # Keys come from the client's first Destination Connection ID, even after it switches to the server's.
        state.quic_dcid = state.quic_dcid or initial.dcid
        for offset, data in initial.crypto:
            state.quic.add(offset, data)
    hello = state.quic.client_hello()
    if hello is None:
        if state.quic.failed:
            _finish(flow)
        return []
    _finish(flow)
    return [Finding(ObservedSignal.QUIC_SNI, clean_name(hello.sni), ech=hello.has_ech)]


def _dns_datagram(flow: Flow, packet: Packet, upstream: bool, answers: AnswerMap) -> list[Finding]:
    message = dns.parse_dns(packet.payload)
    return [] if message is None else _dns_message(flow, message, answers)


def _dns_stream(flow: Flow, packet: Packet, upstream: bool, answers: AnswerMap) -> list[Finding]:
    # DNS over TCP: read the length-prefixed messages each segment carries (queries and answers fit one segment
    # in practice; a message split across segments is skipped rather than buffered per direction).
    messages, _ = dns.split_tcp_dns(packet.payload)
    findings: list[Finding] = []
    for raw in messages:
        message = dns.parse_dns(raw)
        if message is not None:
            findings += _dns_message(flow, message, answers)
    return findings


def _dns_message(flow: Flow, message: dns.DnsMessage, answers: AnswerMap) -> list[Finding]:
    for name, address in message.answers:
        try:
            answers.learn(ip_address(address).packed, name)
        except ValueError:
            continue
    state = _state(flow)
    findings = []
    for name in message.questions:
        if name not in state.dns_names and len(state.dns_names) < MAX_DNS_NAMES_PER_FLOW:
            state.dns_names.add(name)
            findings.append(Finding(ObservedSignal.DNS, clean_name(name)))
    return findings
