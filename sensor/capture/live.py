"""Live capture through scapy: a kernel packet socket with a BPF filter, yielding frames as they arrive."""

from __future__ import annotations

from collections.abc import Iterator

import scapy.arch  # noqa: F401 - registers the platform's packet sockets on conf (conf.L2listen)
from scapy.config import conf
from scapy.error import Scapy_Exception

from sensor.capture.base import CaptureError, Frame, SourceStats

# The kernel drops everything that cannot be web or DNS traffic before it reaches Python; AI tools are reached on
# these ports, and every packet of those flows is still seen, so byte counts stay whole. `vlan` repeats the filter
# inside 802.1Q tags, which BPF otherwise does not look into.
_WEB_AND_DNS = "tcp port 80 or tcp port 443 or udp port 443 or port 53 or tcp port 8080 or tcp port 8443"
DEFAULT_BPF = f"({_WEB_AND_DNS}) or (vlan and ({_WEB_AND_DNS}))"


class LiveCapture:
    name = "scapy-live"

    def __init__(self, interface: str, bpf: str = DEFAULT_BPF, promiscuous: bool = True) -> None:
        self.interface = interface
        self.bpf = bpf
        self.promiscuous = promiscuous
        self.stats = SourceStats()

    def frames(self) -> Iterator[Frame]:
        try:
            sock = conf.L2listen(iface=self.interface, filter=self.bpf or None, promisc=self.promiscuous)
        except PermissionError as error:
            raise CaptureError(
                f"{self.interface}: permission denied; needs CAP_NET_RAW (see docs/sensor.md)"
            ) from error
        except (OSError, Scapy_Exception) as error:
            raise CaptureError(f"{self.interface}: {error}") from error
        try:
            while True:
                received = sock.recv_raw()
                layer, data, ts = received[0], received[1], received[2]
                if data is None:
                    continue
                linktype = conf.l2types.layer2num.get(layer, 1) if layer is not None else 1
                self.stats.frames += 1
                yield Frame(float(ts) if ts is not None else 0.0, int(linktype), bytes(data))
        finally:
            sock.close()
