"""The sensor's packet loop: decode, account every packet on its flow, inspect the few that can carry a name."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address

from sensor.capture.base import Frame, FrameBatch
from sensor.decode.packet import ETHERNET, TCP, UDP, Packet, Skipped, decode
from sensor.fastpath import (
    ETHERTYPE_IPV4,
    FRAGMENTED,
    IPV4_HEADER,
    IPV4_NO_OPTIONS,
    IPV4_TCP_END,
    TCP_NO_OPTIONS,
    frame_key,
    packet_keys,
)
from sensor.flows import Flow, FlowTable
from sensor.inspect import Finding, inspect
from sensor.names import AnswerMap, NameResolver
from sensor.observations import Observation, ObservedSignal

EXPIRY_INTERVAL = 1.0  # seconds of capture time between sweeps of the flow table


@dataclass
class PipelineStats:
    packets: int = 0
    skipped: Counter[str] = field(default_factory=Counter)
    observations: Counter[str] = field(default_factory=Counter)
    tools: Counter[str] = field(default_factory=Counter)


def _address(packed: bytes) -> str:
    return str(ip_address(packed))


class Pipeline:
    """Frames in; observations out as they happen; finished flows handed to `on_flow` (the aggregator).

    `on_time`, if given, is called with a packet's timestamp, after that packet, whenever the capture's clock has
    reached the time it returned the last time (at the first packet, at once): work due by capture time, such as
    closing the aggregator's windows, without a check of its own on every packet.
    """

    def __init__(
        self,
        resolver: NameResolver,
        on_flow: Callable[[Flow], None],
        flows: FlowTable | None = None,
        answers: AnswerMap | None = None,
        on_time: Callable[[float], float] | None = None,
    ) -> None:
        self.resolver = resolver
        self.on_flow = on_flow
        self.flows = flows or FlowTable()
        self.answers = answers or AnswerMap()
        self.stats = PipelineStats()
        self._next_expiry = 0.0
        self._on_time = on_time
        self._next_time = -math.inf if on_time is not None else math.inf
        # Per transport: frame_key's key -> (flow, whether that direction is upstream), for flows that are done.
        self._fast: dict[int, dict[bytes, tuple[Flow, bool]]] = {TCP: {}, UDP: {}}

    def run(self, frames: Iterable[Frame]) -> Iterator[Observation]:
        for frame in frames:
            yield from self.process(frame)
        self.finish()

    def run_batches(self, batches: Iterable[FrameBatch]) -> Iterator[Observation]:
        for linktype, records in batches:
            yield from self.process_batch(linktype, records)
        self.finish()

    def process(self, frame: Frame) -> list[Observation]:
        return self.process_batch(frame.linktype, [(frame.ts, frame.data)])

    def process_batch(self, linktype: int, records: list[tuple[float, bytes]]) -> list[Observation]:  # noqa: PLR0912
        """Every frame of the batch in order; the observations they gave.

        The sensor's hot loop. A frame of the commonest shape (Ethernet, IPv4 without options, not a fragment, a
        whole TCP or UDP header) whose flow is done is counted here with one unpack, one dictionary lookup, a few
        additions and a move to the back of the flow table, written out inline because at a million packets a
        second a function call costs as much as the work. Other shapes go to `frame_key`, and everything it does
        not know, or whose flow is not done, to the full path.
        """
        self.stats.packets += len(records)
        observations: list[Observation] = []
        fast_tcp, fast_udp = self._fast[TCP], self._fast[UDP]
        ethernet = linktype == ETHERNET
        unpack_ipv4 = IPV4_HEADER.unpack_from
        next_expiry, next_time = self._next_expiry, self._next_time
        move_to_back = self.flows.order.move_to_end
        for ts, frame in records:
            if ethernet and (fast_tcp or fast_udp):
                hit, size = None, 0
                if len(frame) >= IPV4_TCP_END:
                    ethertype, version, size, fragment, proto, key, tcp_offset = unpack_ipv4(frame, 12)
                    if ethertype == ETHERTYPE_IPV4 and version == IPV4_NO_OPTIONS and not fragment & FRAGMENTED:
                        if proto == TCP and tcp_offset >= TCP_NO_OPTIONS:
                            hit = fast_tcp.get(key)
                        elif proto == UDP:
                            hit = fast_udp.get(key)
                    elif (located := frame_key(linktype, frame)) is not None:  # a VLAN tag, IPv6
                        hit, size = self._fast[located[0]].get(located[1]), located[2]
                if hit is not None:
                    flow, upstream = hit
                    if upstream:
                        flow.bytes_up += size
                        flow.packets_up += 1
                    else:
                        flow.bytes_down += size
                        flow.packets_down += 1
                    if ts > flow.last_seen:  # noqa: PLR1730 - cheaper than max() on the hot path
                        flow.last_seen = ts
                    move_to_back(flow.key)  # exact expiry order (see FlowTable.order)
                    if ts >= next_expiry:
                        self._expire(ts)
                        next_expiry = self._next_expiry
                    if ts >= next_time:
                        next_time = self._tick(ts)
                    continue
            self._full_path(ts, linktype, frame, observations)
            next_expiry = self._next_expiry
            if ts >= next_time:
                next_time = self._tick(ts)
        return observations

    def _tick(self, ts: float) -> float:
        assert self._on_time is not None  # _next_time stays infinite without it
        self._next_time = self._on_time(ts)
        return self._next_time

    def _full_path(self, ts: float, linktype: int, frame: bytes, observations: list[Observation]) -> None:
        packet = decode(linktype, frame)
        if isinstance(packet, Skipped):
            self.stats.skipped[packet.reason] += 1
            return
        flow, upstream = self.flows.account(packet, ts)
        if ts >= self._next_expiry:
            self._expire(ts)
        if flow.done:
            if flow.fast_keys is None:
                self._take_fast_path(flow, packet, upstream)
            return
        if not packet.payload and not packet.tcp_flags & 0x02:
            return
        for finding in inspect(flow, packet, upstream, self.answers):
            observations += self._observe(flow, finding, ts)
        if flow.done:
            self._take_fast_path(flow, packet, upstream)

    def _take_fast_path(self, flow: Flow, packet: Packet, upstream: bool) -> None:
        forward, backward = packet_keys(packet)
        flow.fast_keys = (forward, backward)
        fast = self._fast[flow.proto]
        fast[forward] = (flow, upstream)
        fast[backward] = (flow, not upstream)

    def _forget(self, flow: Flow) -> None:
        if flow.fast_keys is not None:
            fast = self._fast[flow.proto]
            for key in flow.fast_keys:
                fast.pop(key, None)

    def _classify(self, flow: Flow, finding: Finding) -> list[ObservedSignal]:
        """The signals a finding amounts to. Chromium sends a GREASE ECH extension on every ClientHello, so the
        extension alone does not hide the name: the SNI is still reported, and `ech` beside it; only an outer SNI
        of a known ECH front (or none at all) means the real name is hidden."""
        signal, name = finding.signal, finding.name
        if signal not in (ObservedSignal.TLS_SNI, ObservedSignal.QUIC_SNI):
            return [signal]
        if self.resolver.is_ech_front(name):
            return [ObservedSignal.ECH]
        if self.resolver.is_doh(name) or (name is None and flow.server in self.resolver.hidden.doh_addresses):
            return [ObservedSignal.DOH]
        if finding.ech:
            return [ObservedSignal.ECH] if name is None else [signal, ObservedSignal.ECH]
        return [signal]

    def _observe(self, flow: Flow, finding: Finding, ts: float) -> list[Observation]:
        observations = []
        for signal in self._classify(flow, finding):
            name = finding.name
            tool = self.resolver.tool(name) if signal is not ObservedSignal.ECH else None
            flow.names.setdefault(signal.value, name)
            self.stats.observations[signal.value] += 1
            if tool is not None:
                self.stats.tools[tool.tool_id] += 1
            observations.append(
                Observation(
                    ts=ts,
                    src_ip=_address(flow.client),
                    src_port=flow.client_port,
                    dst_ip=_address(flow.server),
                    dst_port=flow.server_port,
                    transport=flow.transport,
                    signal=signal,
                    host=name,
                    tool=tool.tool_id if tool else None,
                    vendor=tool.vendor if tool else None,
                )
            )
        return observations

    def _expire(self, now: float) -> None:
        self._next_expiry = now + EXPIRY_INTERVAL
        for flow in self.flows.expire(now):
            self._forget(flow)
            self.on_flow(flow)

    def finish(self) -> None:
        for flow in self.flows.drain():
            self._forget(flow)
            self.on_flow(flow)
