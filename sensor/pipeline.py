"""The sensor's packet loop: decode, account every packet on its flow, inspect the few that can carry a name."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from ipaddress import ip_address

from sensor.capture.base import Frame
from sensor.decode.packet import Packet, Skipped, decode
from sensor.fastpath import frame_key, packet_keys
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
    """Frames in; observations out as they happen; finished flows handed to `on_flow` (the aggregator)."""

    def __init__(
        self,
        resolver: NameResolver,
        on_flow: Callable[[Flow], None],
        flows: FlowTable | None = None,
        answers: AnswerMap | None = None,
    ) -> None:
        self.resolver = resolver
        self.on_flow = on_flow
        self.flows = flows or FlowTable()
        self.answers = answers or AnswerMap()
        self.stats = PipelineStats()
        self._next_expiry = 0.0
        self._fast: dict[bytes, tuple[Flow, bool]] = {}

    def run(self, frames: Iterable[Frame]) -> Iterator[Observation]:
        for frame in frames:
            yield from self.process(frame)
        self.finish()

    def process(self, frame: Frame) -> list[Observation]:
        self.stats.packets += 1
        if self._fast:
            located = frame_key(frame.linktype, frame.data)
            if located is not None:
                hit = self._fast.get(located[0])
                if hit is not None:
                    FlowTable.touch(hit[0], hit[1], located[1], frame.ts)
                    if frame.ts >= self._next_expiry:
                        self._expire(frame.ts)
                    return []
        packet = decode(frame.linktype, frame.data)
        if isinstance(packet, Skipped):
            self.stats.skipped[packet.reason] += 1
            return []
        flow, upstream = self.flows.account(packet, frame.ts)
        if frame.ts >= self._next_expiry:
            self._expire(frame.ts)
        if flow.done:
            if flow.fast_keys is None:
                self._take_fast_path(flow, packet, upstream)
            return []
        if not packet.payload and not packet.tcp_flags & 0x02:
            return []
        observations: list[Observation] = []
        for finding in inspect(flow, packet, upstream, self.answers):
            observations += self._observe(flow, finding, frame.ts)
        if flow.done:
            self._take_fast_path(flow, packet, upstream)
        return observations

    def _take_fast_path(self, flow: Flow, packet: Packet, upstream: bool) -> None:
        forward, backward = packet_keys(packet)
        flow.fast_keys = (forward, backward)
        self._fast[forward] = (flow, upstream)
        self._fast[backward] = (flow, not upstream)

    def _forget(self, flow: Flow) -> None:
        if flow.fast_keys is not None:
            for key in flow.fast_keys:
                self._fast.pop(key, None)

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
