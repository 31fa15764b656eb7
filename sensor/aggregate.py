"""Finished flows -> usage events: one per client x AI tool x time window, with bytes, packets and signals.

Only AI usage leaves the sensor: a flow is attributed to a tool by a name it carried itself (TLS/QUIC SNI, HTTP
Host, a DNS question), else by the name a DNS answer gave its server address. Flows whose name is hidden (ECH,
DoH) are reported with no tool. Everything else is dropped here.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from ipaddress import ip_address

from pydantic import ValidationError

from events.models import NetworkUsageEvent, Signal, Transport
from sensor.decode.packet import TCP
from sensor.flows import Flow
from sensor.names import AnswerMap, NameResolver
from sensor.observations import ObservedSignal

_EVENT_NAMESPACE = uuid.UUID("5d1c6c6e-7a44-4f0e-9b1e-3c53a3f4d6b2")
# Own names first: they say where this very connection went.
_OWN_NAME_SIGNALS = (ObservedSignal.TLS_SNI, ObservedSignal.QUIC_SNI, ObservedSignal.HTTP_HOST, ObservedSignal.DNS)
_CONTRACT_SIGNALS = frozenset(s.value for s in Signal)
_HIDDEN = {ObservedSignal.ECH: Signal.ECH, ObservedSignal.DOH: Signal.DOH}


@dataclass(slots=True)
class _Bucket:
    client: bytes
    tool_id: str | None
    server: bytes
    server_port: int
    proto: int
    server_name: str | None
    first_seen: float
    last_seen: float
    window: int
    signals: set[Signal] = field(default_factory=set)
    bytes_up: int = 0
    bytes_down: int = 0
    packets_up: int = 0
    packets_down: int = 0
    flows: int = 0
    dns_only: bool = True


@dataclass(frozen=True, slots=True)
class _Attribution:
    tool_id: str | None
    name: str | None
    signals: frozenset[Signal]


class UsageAggregator:
    def __init__(
        self,
        sensor_id: str,
        resolver: NameResolver,
        answers: AnswerMap,
        emit: Callable[[NetworkUsageEvent], None],
        *,
        window_seconds: int = 300,
        run_id: str = "",
    ) -> None:
        self.sensor_id = sensor_id
        self.resolver = resolver
        self.answers = answers
        self.emit = emit
        self.window_seconds = window_seconds
        self.run_id = run_id
        self._buckets: dict[tuple[bytes, str, int], _Bucket] = {}
        self.dropped_out_of_range = 0
        self.emitted = 0

    def _attribute(self, flow: Flow) -> _Attribution | None:
        for signal in _OWN_NAME_SIGNALS:
            name = flow.names.get(signal.value)
            tool = self.resolver.tool(name)
            if tool is not None:
                seen = frozenset(Signal(s) for s in flow.names if s in _CONTRACT_SIGNALS)
                return _Attribution(tool.tool_id, name, seen)
        name = self.answers.name_of(flow.server)
        tool = self.resolver.tool(name)
        if tool is not None:
            seen = frozenset(Signal(s) for s in flow.names if s in _CONTRACT_SIGNALS)
            return _Attribution(tool.tool_id, name, seen | {Signal.DNS_ANSWER_IP})
        for signal, contract_signal in _HIDDEN.items():
            # A hidden name is usage of *some* tool we cannot name: reported, never dropped. A GREASE ECH
            # extension next to a plain non-AI SNI hides nothing, so it does not count.
            if signal.value in flow.names and not (signal is ObservedSignal.ECH and _has_plain_name(flow)):
                return _Attribution(None, flow.names[signal.value], frozenset({contract_signal}))
        return None

    def add(self, flow: Flow) -> None:
        attribution = self._attribute(flow)
        if attribution is None:
            return
        window = int(flow.first_seen // self.window_seconds)
        tool_key = attribution.tool_id or next(iter(attribution.signals)).value
        key = (flow.client, tool_key, window)
        bucket = self._buckets.get(key)
        is_dns = 53 in (flow.server_port, flow.client_port)
        if bucket is None:
            bucket = _Bucket(
                flow.client,
                attribution.tool_id,
                flow.server,
                flow.server_port,
                flow.proto,
                attribution.name,
                flow.first_seen,
                flow.last_seen,
                window,
            )
            self._buckets[key] = bucket
        elif bucket.dns_only and not is_dns:
            # The tool's own server says more than the resolver that named it.
            bucket.server, bucket.server_port, bucket.proto = flow.server, flow.server_port, flow.proto
            bucket.server_name = attribution.name
        bucket.dns_only = bucket.dns_only and is_dns
        bucket.signals |= attribution.signals
        bucket.first_seen = min(bucket.first_seen, flow.first_seen)
        bucket.last_seen = max(bucket.last_seen, flow.last_seen)
        bucket.bytes_up += flow.bytes_up
        bucket.bytes_down += flow.bytes_down
        bucket.packets_up += flow.packets_up
        bucket.packets_down += flow.packets_down
        bucket.flows += 1

    def flush(self, now: float | None = None) -> None:
        """Emit windows that closed before `now` (all of them when now is None)."""
        for key in [k for k, b in self._buckets.items() if now is None or (b.window + 1) * self.window_seconds < now]:
            self._emit(key, self._buckets.pop(key))

    def _emit(self, key: tuple[bytes, str, int], bucket: _Bucket) -> None:
        client = str(ip_address(bucket.client))
        identity = f"{self.run_id}|{self.sensor_id}|{client}|{key[1]}|{bucket.window}"
        try:
            event = NetworkUsageEvent(
                event_id=uuid.uuid5(_EVENT_NAMESPACE, identity),
                sensor_id=self.sensor_id,
                client_ip=client,
                server_ip=str(ip_address(bucket.server)),
                server_port=bucket.server_port,
                transport=Transport.TCP if bucket.proto == TCP else Transport.UDP,
                tool_id=bucket.tool_id,
                server_name=bucket.server_name if _is_host(bucket.server_name) else None,
                signals=tuple(sorted(bucket.signals)),
                bytes_up=bucket.bytes_up,
                bytes_down=bucket.bytes_down,
                packets_up=bucket.packets_up,
                packets_down=bucket.packets_down,
                first_seen=datetime.fromtimestamp(bucket.first_seen, UTC),
                last_seen=datetime.fromtimestamp(bucket.last_seen, UTC),
                flow_count=bucket.flows,
            )
        except ValidationError:
            # Capture clocks before 2020 or in the future: the contract refuses them, so they are counted, not sent.
            self.dropped_out_of_range += 1
            return
        self.emitted += 1
        self.emit(event)


def _has_plain_name(flow: Flow) -> bool:
    return any(flow.names.get(s.value) for s in (ObservedSignal.TLS_SNI, ObservedSignal.QUIC_SNI))


def _is_host(name: str | None) -> bool:
    if name is None:
        return False
    try:
        ip_address(name)
    except ValueError:
        return ":" not in name
    return False
