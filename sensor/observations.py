"""Observations: one name-bearing signal seen on one flow. Their JSON-lines form is a stable contract.

`shadowscope sensor read --jsonl` writes one object per line with exactly these keys (docs/sensor.md):

    ts         float, seconds since the epoch, of the packet that carried the signal
    src_ip     client address (the TCP SYN sender, else the side on an ephemeral port, else the first sender)
    src_port   int
    dst_ip     server address
    dst_port   int
    transport  "tcp" | "udp"
    signal     "dns" | "tls_sni" | "quic_sni" | "http_host" | "ech" | "doh"
    host       lower-case name, or null (a ClientHello without SNI)
    tool       catalog id of the AI tool, or null when the name is no AI tool (or hidden)
    vendor     the tool's vendor, or null

New keys may be added at the end; existing keys keep their meaning.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from enum import StrEnum


class ObservedSignal(StrEnum):
    DNS = "dns"
    TLS_SNI = "tls_sni"
    QUIC_SNI = "quic_sni"
    HTTP_HOST = "http_host"
    ECH = "ech"
    DOH = "doh"


@dataclass(frozen=True, slots=True)
class Observation:
    ts: float
    src_ip: str
    src_port: int
    dst_ip: str
    dst_port: int
    transport: str
    signal: ObservedSignal
    host: str | None
    tool: str | None
    vendor: str | None

    def to_json(self) -> str:
        return json.dumps(
            {
                "ts": round(self.ts, 6),
                "src_ip": self.src_ip,
                "src_port": self.src_port,
                "dst_ip": self.dst_ip,
                "dst_port": self.dst_port,
                "transport": self.transport,
                "signal": self.signal.value,
                "host": self.host,
                "tool": self.tool,
                "vendor": self.vendor,
            },
            separators=(",", ":"),
        )
