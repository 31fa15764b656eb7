"""The fast path counts exactly what the full path would: same flows, bytes, packets, times and observations.

Each case is checked against the same pipeline with the fast path switched off, so the decoder sees every packet.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from scapy.layers.inet import IP, TCP, UDP, IPOption_NOP
from scapy.layers.inet6 import IPv6
from scapy.layers.l2 import CookedLinux, Dot1Q, Ether
from scapy.packet import Packet, Raw

from sensor.decode.packet import ETHERNET, LINUX_SLL, Skipped, decode
from sensor.decode.packet import Packet as Decoded
from sensor.flows import Flow
from sensor.observations import Observation
from sensor.pipeline import Pipeline, PipelineStats
from sensor.runner import build_resolver
from sensor.sample_traffic import MACS, client_hello

Record = tuple[float, bytes]
Shape = Callable[[Packet], Packet]  # IP packet -> the frame around it
T0 = 1_793_000_000.0

SHAPES: dict[str, tuple[int, Shape]] = {
    "ipv4": (ETHERNET, lambda ip: Ether(**MACS) / ip),
    "vlan": (ETHERNET, lambda ip: Ether(**MACS) / Dot1Q(vlan=7) / ip),
    "qinq": (ETHERNET, lambda ip: Ether(**MACS) / Dot1Q(vlan=7) / Dot1Q(vlan=8) / ip),
    "cooked": (LINUX_SLL, lambda ip: CookedLinux(proto=0x0800 if ip.version == 4 else 0x86DD) / ip),
}
FAST_SHAPES = {("ipv4", 4), ("ipv4", 6), ("vlan", 4), ("vlan", 6)}


class FullPathOnly(Pipeline):
    """The reference: a pipeline whose flows never take the fast path."""

    def _take_fast_path(self, flow: Flow, packet: Any, upstream: bool) -> None:
        pass


def addresses(version: int) -> tuple[str, str]:
    return ("10.20.0.7", "104.18.32.47") if version == 4 else ("2001:db8::7", "2001:db8:1::47")


def ip(version: int, src: str, dst: str, **fields: Any) -> Packet:
    return IP(src=src, dst=dst, **fields) if version == 4 else IPv6(src=src, dst=dst)


def tls_session(
    version: int, sport: int, t: float, data_packets: int = 12, **ip_fields: Any
) -> list[tuple[float, Packet]]:
    """Handshake, a ClientHello (after which the flow is done), data both ways, FIN: (time, IP packet)."""
    client, server = addresses(version)
    up, down = ip(version, client, server, **ip_fields), ip(version, server, client, **ip_fields)
    hello = client_hello("chatgpt.com")
    packets: list[Packet] = [
        up / TCP(sport=sport, dport=443, flags="S", seq=1000),
        down / TCP(sport=443, dport=sport, flags="SA", seq=5000, ack=1001),
        up / TCP(sport=sport, dport=443, flags="A", seq=1001, ack=5001),
        up / TCP(sport=sport, dport=443, flags="PA", seq=1001, ack=5001) / Raw(hello),
    ]
    seq = 1001 + len(hello)
    for index in range(data_packets):
        if index % 3:
            packets.append(down / TCP(sport=443, dport=sport, flags="A", seq=5001 + index * 1000) / Raw(bytes(1000)))
        else:
            packets.append(up / TCP(sport=sport, dport=443, flags="PA", seq=seq) / Raw(bytes(300 + index)))
            seq += 300 + index
    packets.append(up / TCP(sport=sport, dport=443, flags="FA", seq=seq))
    return [(t + index * 0.01, packet) for index, packet in enumerate(packets)]


def udp_exchange(version: int, sport: int, dport: int, t: float, count: int = 8) -> list[tuple[float, Packet]]:
    """Datagrams that are not QUIC: the flow is done after the first, the rest only counted."""
    client, server = addresses(version)
    up, down = ip(version, client, server), ip(version, server, client)
    packets = [
        (up if index % 2 == 0 else down)
        / UDP(sport=sport if index % 2 == 0 else dport, dport=dport if index % 2 == 0 else sport)
        / Raw(b"\x01" * (50 + index))
        for index in range(count)
    ]
    return [(t + index * 0.02, packet) for index, packet in enumerate(packets)]


def frames(shape: str, packets: list[tuple[float, Packet]]) -> list[Record]:
    wrap = SHAPES[shape][1]
    return [(ts, bytes(wrap(packet))) for ts, packet in packets]


def counts(flow: Flow) -> tuple[Any, ...]:
    """What a flow hands the aggregator: its ends, times, bytes and packets each way, and names."""
    ends = (flow.client, flow.client_port, flow.server, flow.server_port, flow.proto)
    totals = (flow.bytes_up, flow.bytes_down, flow.packets_up, flow.packets_down)
    return (*ends, flow.first_seen, flow.last_seen, *totals, sorted(flow.names.items(), key=str))


def outcome(
    pipeline_type: type[Pipeline], linktype: int, records: list[Record], batch: int = 1
) -> tuple[list[tuple[Any, ...]], list[Observation], PipelineStats]:
    """Flows as handed to the aggregator, each with the position in the capture where it was handed over (so
    expiry is compared too), the observations, and the counts of what was skipped."""
    handed: list[tuple[Any, ...]] = []
    position = 0
    pipeline = pipeline_type(build_resolver(), on_flow=lambda flow: handed.append((position, *counts(flow))))
    observations: list[Observation] = []
    for position in range(0, len(records), batch):
        observations += pipeline.process_batch(linktype, records[position : position + batch])
    position = len(records)
    pipeline.finish()
    return sorted(handed), observations, pipeline.stats


def decoded(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Counts the frames that reach the decoder (the full path)."""
    calls = [0]

    def counting(linktype: int, frame: bytes) -> Decoded | Skipped:
        calls[0] += 1
        return decode(linktype, frame)

    monkeypatch.setattr("sensor.pipeline.decode", counting)
    return calls


@pytest.mark.parametrize("version", [4, 6])
@pytest.mark.parametrize("shape", sorted(SHAPES))
def test_when_a_flow_is_done_then_its_packets_are_counted_as_the_full_path_counts_them(
    monkeypatch: pytest.MonkeyPatch, shape: str, version: int
) -> None:
    linktype = SHAPES[shape][0]
    records = frames(shape, tls_session(version, 50001, T0) + udp_exchange(version, 50002, 4500, T0 + 0.001))
    expected = outcome(FullPathOnly, linktype, records)
    calls = decoded(monkeypatch)

    got = outcome(Pipeline, linktype, records)

    assert got == expected
    assert [observation.host for observation in got[1]] == ["chatgpt.com"]
    if (shape, version) in FAST_SHAPES:
        assert calls[0] == 5, "the handshake, the ClientHello and the first datagram only"
    else:
        assert calls[0] == len(records)


def test_when_frames_are_cut_by_a_snaplen_then_the_fast_path_counts_the_ip_length_from_the_header(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    records = [
        (ts, frame if index < 4 else frame[:54])
        for index, (ts, frame) in enumerate(frames("ipv4", tls_session(4, 50001, T0)))
    ]
    expected = outcome(FullPathOnly, ETHERNET, records)
    calls = decoded(monkeypatch)

    assert outcome(Pipeline, ETHERNET, records) == expected
    assert calls[0] == 4
    assert expected[0][0][8] > 54 * 5, "bytes up are the packets' own, not the frames' cut ones"


@pytest.mark.parametrize("cut", [38, 42, 53], ids=lambda n: f"cut-at-{n}")
def test_when_a_frame_is_cut_inside_its_tcp_header_then_it_is_skipped_as_the_full_path_skips_it(cut: int) -> None:
    session = frames("ipv4", tls_session(4, 50001, T0))
    records = [(ts, frame if index != 6 else frame[:cut]) for index, (ts, frame) in enumerate(session)]

    got = outcome(Pipeline, ETHERNET, records)

    assert got == outcome(FullPathOnly, ETHERNET, records)
    assert got[2].skipped == {"truncated TCP header": 1}


def test_when_a_tcp_header_is_shorter_than_its_minimum_then_it_is_skipped_as_the_full_path_skips_it() -> None:
    session = frames("ipv4", tls_session(4, 50001, T0))
    corrupt = bytearray(session[6][1])
    corrupt[14 + 20 + 12] = 0x40  # data offset 4: 16 bytes, less than any TCP header
    records = [*session[:6], (session[6][0], bytes(corrupt)), *session[7:]]

    got = outcome(Pipeline, ETHERNET, records)

    assert got == outcome(FullPathOnly, ETHERNET, records)
    assert got[2].skipped == {"corrupt TCP header": 1}


def test_when_some_packets_of_a_done_flow_have_ip_options_or_are_fragments_then_the_full_path_counts_those(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    plain = tls_session(4, 50001, T0)
    with_options = tls_session(4, 50001, T0, options=[IPOption_NOP()] * 4)
    fragment = tls_session(4, 50001, T0, flags="MF")
    later = tls_session(4, 50001, T0, frag=100)
    packets = [
        [plain, with_options, fragment, later][index % 4][index] if index >= 5 else plain[index]
        for index in range(len(plain))
    ]
    records = frames("ipv4", packets)
    expected = outcome(FullPathOnly, ETHERNET, records)
    calls = decoded(monkeypatch)

    got = outcome(Pipeline, ETHERNET, records)

    assert got == expected
    assert expected[2].skipped == {"IP fragment after the first": 3}
    assert 5 < calls[0] < len(records)


def test_when_a_tcp_and_a_udp_flow_share_addresses_and_ports_then_each_counts_its_own() -> None:
    tcp = tls_session(4, 50001, T0)
    udp = udp_exchange(4, 50001, 443, T0 + 0.005, count=12)
    records = frames("ipv4", sorted(tcp + udp, key=lambda item: item[0]))

    got = outcome(Pipeline, ETHERNET, records)

    assert got == outcome(FullPathOnly, ETHERNET, records)
    assert len(got[0]) == 2


def test_when_a_done_flow_expires_and_its_ports_are_reused_then_the_new_flow_starts_afresh(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    first = tls_session(4, 50001, T0)
    other = udp_exchange(4, 40000, 4500, T0 + 200)  # moves the clock past the idle timeout
    again = tls_session(4, 50001, T0 + 201)
    records = frames("ipv4", first + other + again)
    expected = outcome(FullPathOnly, ETHERNET, records)
    calls = decoded(monkeypatch)

    got = outcome(Pipeline, ETHERNET, records)

    assert got == expected
    assert len(got[0]) == 3
    assert [flow[0] for flow in got[0]] == [len(first), len(records), len(records)], "the first expired at 200 s"
    assert [observation.ts for observation in got[1]] == [T0 + 0.03, T0 + 201.03]
    assert calls[0] == 4 + 1 + 4


def test_when_a_flow_goes_idle_behind_a_busy_done_flow_then_it_expires_when_the_full_path_would_expire_it() -> None:
    busy = tls_session(4, 50001, T0)
    later = [(T0 + seconds, busy[5][1]) for seconds in (60, 110, 150, 200)]  # data the fast path counts
    idle = udp_exchange(4, 50002, 4500, T0 + 1)
    records = frames("ipv4", sorted(busy + idle + later, key=lambda item: item[0]))
    expected = outcome(FullPathOnly, ETHERNET, records)

    got = outcome(Pipeline, ETHERNET, records)

    assert got == expected
    assert [flow[0] for flow in got[0]] == [len(records) - 2, len(records)], "idle at 150 s, the busy one at the end"


@pytest.mark.parametrize("batch", [1, 2, 7])
def test_when_the_same_frames_come_in_other_batches_then_the_outcome_is_the_same(batch: int) -> None:
    packets = tls_session(4, 50001, T0) + tls_session(6, 50002, T0 + 0.002) + udp_exchange(4, 50003, 4500, T0 + 0.004)
    records = frames("vlan", sorted(packets, key=lambda item: item[0]))

    flows, observations, stats = outcome(Pipeline, ETHERNET, records, batch)

    assert (flows, observations, stats) == outcome(Pipeline, ETHERNET, records)
    assert all(flow[0] == len(records) for flow in flows)


def test_when_given_on_time_then_it_is_called_at_the_first_packet_and_whenever_the_clock_reaches_its_answer() -> None:
    records = frames("ipv4", tls_session(4, 50001, T0, data_packets=40))
    not_ip = bytes(Ether(**MACS, type=0x0806) / Raw(bytes(28)))
    records = [(T0 - 1, not_ip), *records, (T0 + 10, not_ip)]
    called: list[float] = []

    def on_time(ts: float) -> float:
        called.append(ts)
        return ts + 0.1

    pipeline = Pipeline(build_resolver(), on_flow=lambda _flow: None, on_time=on_time)
    pipeline.process_batch(ETHERNET, records)

    expected: list[float] = []
    for ts, _frame in records:
        if not expected or ts >= expected[-1] + 0.1:
            expected.append(ts)
    assert called == expected
    assert len(called) > 3


def test_when_a_done_flow_goes_idle_behind_busier_flows_then_it_expires_on_time_and_a_reused_port_is_a_new_flow() -> (
    None
):
    # Once a bug: the fast path left the table's order to expiry sweeps, which put this flow behind flows more
    # recent than its last packet, so it outlived its idle timeout and the new connection continued it.
    session = tls_session(4, 50001, T0)
    done, data = session[:4], session[5][1]  # done at its ClientHello; then data the fast path counts
    client, server = addresses(4)
    up = ip(4, client, server)
    packets = [
        *done,
        (T0 + 5, up / TCP(sport=50002, dport=443, flags="S")),  # a second flow, never done: always the full path
        (T0 + 19.5, data),  # the first flow, counted fast; the sweep at this packet puts it at the end
        (T0 + 19.8, up / TCP(sport=50002, dport=443, flags="A")),  # the second flow's last packet
        (T0 + 20.0, data),  # the first flow's last packet, before the next sweep
        (T0 + 21, up / UDP(sport=50003, dport=4500) / Raw(b"x")),  # a third flow; the sweep moves the first behind it
        (T0 + 140.5, up / UDP(sport=50004, dport=4500) / Raw(b"x")),  # the first flow is idle, the third is not
        *tls_session(4, 50001, T0 + 140.6),  # the first flow's ports again: a new connection
    ]
    records = frames("ipv4", packets)

    assert outcome(Pipeline, ETHERNET, records) == outcome(FullPathOnly, ETHERNET, records)
