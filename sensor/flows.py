"""The flow table: per-connection accounting in both directions, and the per-flow state the decoders need.

A flow is keyed by its 5-tuple in a direction-free form, and oriented once: the TCP SYN sender is the client;
without a SYN (a capture that starts mid-connection), the side on an ephemeral port is, else the first sender.
The table is bounded: idle flows are expired in timestamp order and handed to the aggregator.
"""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sensor.decode.packet import TCP, Packet

FlowKey = tuple[
    bytes, int, bytes, int, int
]  # (address a, port a, address b, port b, proto) with (a, port a) <= (b, port b)

# Ports a server listens on; a flow seen first from one of these is a reply, so the other side is the client.
_SERVER_PORTS = frozenset({53, 80, 443, 853, 8080, 8443})
SYN, ACK = 0x02, 0x10


@dataclass(slots=True)
class Flow:
    client: bytes
    client_port: int
    server: bytes
    server_port: int
    proto: int
    first_seen: float
    last_seen: float
    key: FlowKey  # its key in the table, so the fast path can move it to the back
    bytes_up: int = 0
    bytes_down: int = 0
    packets_up: int = 0
    packets_down: int = 0
    names: dict[str, str | None] = field(default_factory=dict)  # signal -> name (first seen wins)
    # Decoder state (a TCP stream assembler, a QUIC crypto assembler); dropped once the name is known.
    state: Any = None
    done: bool = False  # no more payload inspection needed
    fast_keys: tuple[bytes, bytes] | None = None

    @property
    def transport(self) -> str:
        return "tcp" if self.proto == TCP else "udp"


def flow_key(packet: Packet) -> FlowKey:
    a, b = (packet.src, packet.sport), (packet.dst, packet.dport)
    return (*a, *b, packet.proto) if a <= b else (*b, *a, packet.proto)


def _orient(packet: Packet) -> tuple[bytes, int, bytes, int]:
    """(client, client port, server, server port) for a flow's first packet."""
    if packet.proto == TCP and packet.tcp_flags & (SYN | ACK) == SYN:
        return packet.src, packet.sport, packet.dst, packet.dport
    if packet.tcp_flags & (SYN | ACK) == SYN | ACK:
        return packet.dst, packet.dport, packet.src, packet.sport
    if packet.sport in _SERVER_PORTS and packet.dport not in _SERVER_PORTS:
        return packet.dst, packet.dport, packet.src, packet.sport
    return packet.src, packet.sport, packet.dst, packet.dport


class FlowTable:
    def __init__(self, idle_timeout: float = 120.0, max_flows: int = 200_000) -> None:
        self.idle_timeout = idle_timeout
        self.max_flows = max_flows
        # Ordered by last activity: the oldest flows are at the front, so expiry pops from there.
        self._flows: OrderedDict[FlowKey, Flow] = OrderedDict()
        self.evicted_for_space = 0

    def __len__(self) -> int:
        return len(self._flows)

    @property
    def order(self) -> OrderedDict[FlowKey, Flow]:
        """The flows, least recently active first, so expiry can stop at the first recent one.

        The pipeline's fast path counts a packet inline and moves its flow to the back itself (`move_to_end`), on
        every packet: ordering lazily at expiry sweeps let a fast-path flow land behind flows more recent than it
        and outlive its idle timeout (a reused port pair then continued the old flow and its new name went
        unreported). One C-level move per packet is the price of exact expiry.
        """
        return self._flows

    def account(self, packet: Packet, ts: float) -> tuple[Flow, bool]:
        """Count the packet on its flow (creating it); return the flow and whether the packet went client->server."""
        key = flow_key(packet)
        flow = self._flows.get(key)
        if flow is None:
            client, client_port, server, server_port = _orient(packet)
            flow = Flow(client, client_port, server, server_port, packet.proto, ts, ts, key)
            self._flows[key] = flow
        else:
            self._flows.move_to_end(key)
            flow.last_seen = max(flow.last_seen, ts)
        upstream = packet.src == flow.client and packet.sport == flow.client_port
        if upstream:
            flow.bytes_up += packet.ip_bytes
            flow.packets_up += 1
        else:
            flow.bytes_down += packet.ip_bytes
            flow.packets_down += 1
        return flow, upstream

    def expire(self, now: float) -> Iterator[Flow]:
        """Flows idle for longer than the timeout, and the oldest ones while the table is over its size."""
        while self._flows:
            key, flow = next(iter(self._flows.items()))
            recent = flow.last_seen + self.idle_timeout >= now
            if recent and len(self._flows) <= self.max_flows:
                return
            if recent:
                self.evicted_for_space += 1
            del self._flows[key]
            yield flow

    def drain(self) -> Iterator[Flow]:
        while self._flows:
            yield self._flows.popitem(last=False)[1]
