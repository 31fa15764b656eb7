"""Coverage-guided fuzzing of the sensor's decoders: hostile bytes in, a result or nothing out, never a crash.

One input drives every decoder the sensor runs on untrusted traffic: the first byte picks a link type, the rest is a
frame for `sensor.decode.packet.decode`, and the same bytes are fed to the TLS, QUIC, DNS, HTTP and TCP stream
decoders and to the pcapng walker. They are also read as the records of a pcap file, by the block reader with a
block size the input picks and with its default one (which must agree: records straddling block boundaries come out
whole) and by dpkt's reader (which must give the same frames); and they are cut into frames that overwrite parts of
the packets of flows already done, fed to the pipeline with and without its fast path, which must count them the
same. Any exception is a finding: libFuzzer writes the input to `crash-<sha1>`; copy it into
fuzz/sensor-regressions/ and tests/fuzz/test_sensor_regressions.py replays it on every `make test`.

    .venv/bin/python fuzz/fuzz_sensor_decoders.py -runs=200000 /tmp/sensor-corpus fuzz/sensor-corpus
    .venv/bin/python fuzz/fuzz_sensor_decoders.py -max_total_time=600 /tmp/corpus fuzz/sensor-corpus
"""

from __future__ import annotations

import io
import struct
import sys
from typing import Any

import atheris
import dpkt

with atheris.instrument_imports(include=["sensor"]):
    from sensor.capture.base import SourceStats
    from sensor.capture.pcap_blocks import MAX_RECORD, PcapBlockReader, Record
    from sensor.capture.pcapng import PcapngReader
    from sensor.decode import dns, gquic, http, quic, tls
    from sensor.decode.packet import ETHERNET, decode
    from sensor.decode.tcp_stream import ClientStreamAssembler
    from sensor.flows import Flow
    from sensor.pipeline import Pipeline

LINKTYPES = (0, 1, 9, 12, 14, 101, 104, 108, 113, 228, 229, 239, 276)
# pcap magic numbers as found at the start of a file: microseconds and nanoseconds, little- and big-endian
# Frames for the fast-path comparison come from at most this much of the input (8 bytes a frame): enough for any
# sequence of shapes, few enough that the two pipelines do not slow the other decoders' fuzzing down.
FAST_PATH_BYTES = 256
PCAP_MAGICS = (b"\xd4\xc3\xb2\xa1", b"\xa1\xb2\xc3\xd4", b"\x4d\x3c\xb2\xa1", b"\xa1\xb2\x3c\x4d")


def exercise(data: bytes) -> None:
    """Everything the sensor does with bytes it did not choose; raises only on a bug."""
    if not data:
        return
    decode(LINKTYPES[data[0] % len(LINKTYPES)], data[1:])
    payload = data[1:]
    tls.looks_like_tls_client_hello(payload[:6])
    tls.parse_client_hello_records(payload)
    tls.parse_client_hello_handshake(payload)
    http.looks_like_http_request(payload[:8])
    http.http_host(payload)
    dns.parse_dns(payload)
    dns.split_tcp_dns(payload)
    if quic.is_quic_long_header_initial(payload):
        assembler = quic.CryptoAssembler()
        for initial in quic.parse_client_initials(payload):
            for offset, chunk in initial.crypto:
                assembler.add(offset, chunk)
        assembler.client_hello()
    gquic.gquic_sni(payload)
    stream = ClientStreamAssembler(max_bytes=4096)
    for start in range(0, min(len(payload), 64), 7):
        stream.add(int.from_bytes(payload[start : start + 4].ljust(4, b"\0"), "big"), payload[start : start + 11])
    stream.contiguous()
    for _ in PcapngReader(io.BytesIO(b"\x0a\x0d\x0d\x0a" + payload), SourceStats()).frames():
        pass
    pcap_records(data)
    fast_path(data)


# --- pcap: the block reader against itself and against dpkt -------------------------------------------------------


def _block_records(content: bytes, block_size: int) -> tuple[list[Record], SourceStats]:
    stats = SourceStats()
    reader = PcapBlockReader(io.BytesIO(content), stats, block_size=block_size)
    return [record for batch in reader.batches() for record in batch], stats


def _dpkt_records(content: bytes) -> list[Record]:
    records: list[Record] = []
    try:
        for ts, frame in dpkt.pcap.Reader(io.BytesIO(content)):
            records.append((float(ts), bytes(frame)))
    except dpkt.dpkt.NeedData:
        pass  # a record header cut by the end of the file: what came before stands
    return records


def pcap_records(data: bytes) -> None:
    """The input after a pcap file header (magic and link type from its first byte) as pcap records."""
    if len(data) < 2:
        return
    magic = PCAP_MAGICS[data[0] % 4]
    order = "<" if magic[0] in (0xD4, 0x4D) else ">"
    content = magic + struct.pack(order + "HHiIII", 2, 4, 0, 0, 65535, data[0]) + data[2:]
    small, small_stats = _block_records(content, 1 + data[1] * 3)
    records, stats = _block_records(content, 1 << 16)
    assert (small, small_stats) == (records, stats), "the block size changed what was read"
    theirs = _dpkt_records(content)
    if stats.problems.get("pcap record longer than any link captures"):
        # dpkt reads what there is of such a record; the block reader refuses it and stops there.
        theirs = theirs[: len(records)]
    assert records == theirs, "the block reader and dpkt read different frames"
    for _ts, frame in records:
        assert len(frame) <= MAX_RECORD


# --- the fast path: the same counts as the full path --------------------------------------------------------------


class _FullPathOnly(Pipeline):
    def _take_fast_path(self, flow: Flow, packet: Any, upstream: bool) -> None:
        pass


_TEMPLATES: list[bytes] = []
_DONE: list[Record] = []
_RESOLVER: Any = None


def _setup() -> None:
    """Flows made done by real packets (TLS over IPv4, VLAN-tagged UDP over IPv6), and their packets as templates
    for the fuzzer to overwrite. scapy and the catalog load once, when the first input needs them."""
    global _RESOLVER  # noqa: PLW0603 - built once per process
    from scapy.layers.inet import IP, TCP, UDP  # noqa: PLC0415
    from scapy.layers.inet6 import IPv6  # noqa: PLC0415
    from scapy.layers.l2 import Dot1Q, Ether  # noqa: PLC0415
    from scapy.packet import Raw  # noqa: PLC0415

    from sensor.runner import build_resolver  # noqa: PLC0415
    from sensor.sample_traffic import MACS, client_hello, tcp_session  # noqa: PLC0415

    _RESOLVER = build_resolver()
    tls_flow = [bytes(packet) for packet in tcp_session("104.18.32.47", 50001, [client_hello("claude.ai")], 600, 0.0)]
    up = Ether(**MACS) / Dot1Q(vlan=5) / IPv6(src="2001:db8::7", dst="2001:db8::1") / UDP(sport=50002, dport=4500)
    down = Ether(**MACS) / Dot1Q(vlan=5) / IPv6(src="2001:db8::1", dst="2001:db8::7") / UDP(sport=4500, dport=50002)
    udp_flow = [bytes(up / Raw(b"\x01" * 40)), bytes(down / Raw(b"\x02" * 60))]
    plain = bytes(Ether(**MACS) / IP(src="10.20.0.7", dst="104.18.32.47") / TCP(sport=50001, dport=443, flags="A"))
    _DONE.extend((0.01 * index, frame) for index, frame in enumerate(tls_flow[:4] + udp_flow[:1]))
    _TEMPLATES.extend([*tls_flow[4:], *udp_flow, plain])


def _totals(flow: Flow) -> tuple[int, int, int, int]:
    return flow.bytes_up, flow.bytes_down, flow.packets_up, flow.packets_down


def _outcome(pipeline_type: type[Pipeline], records: list[Record]) -> tuple[Any, ...]:
    flows: list[Flow] = []
    pipeline = pipeline_type(_RESOLVER, on_flow=flows.append)
    observations = pipeline.process_batch(ETHERNET, records)
    pipeline.finish()
    counted = sorted(
        (f.client, f.client_port, f.server, f.server_port, f.proto, f.first_seen, f.last_seen, *_totals(f))
        for f in flows
    )
    return counted, observations, pipeline.stats


def fast_path(data: bytes) -> None:
    """Frames of done flows with a few bytes overwritten: header fields the fast path reads, or the key itself.

    Capture time stays within the idle timeout: past it, FlowTable's lazy reordering of fast-path flows can expire a
    flow later than the full path does (test_known_bug_a_done_flow_can_outlive_its_idle_timeout in
    tests/sensor/test_fast_path.py), which is not what this compares."""
    if not _TEMPLATES:
        _setup()
    records, ts = list(_DONE), 1.0
    for start in range(0, min(len(data), FAST_PATH_BYTES) - 3, 8):
        chunk = data[start : start + 8]
        template = _TEMPLATES[chunk[0] % len(_TEMPLATES)]
        offset = chunk[1] % 64
        frame = template[:offset] + chunk[3:] + template[offset + len(chunk) - 3 :]
        ts += (chunk[2] >> 4) * 0.1  # out of order never; the expiry sweep (every second) often
        records.append((ts, frame[: max(14, len(frame) - (chunk[2] & 7) * 8)]))  # some cut, as by a snaplen
    assert _outcome(Pipeline, records) == _outcome(_FullPathOnly, records), "the fast path counted differently"


def main() -> None:
    atheris.Setup(sys.argv, lambda data: exercise(bytes(data)))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
