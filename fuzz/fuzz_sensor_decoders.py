"""Coverage-guided fuzzing of the sensor's decoders: hostile bytes in, a result or nothing out, never a crash.

One input drives every decoder the sensor runs on untrusted traffic: the first byte picks a link type, the rest is a
frame for `sensor.decode.packet.decode`, and the same bytes are fed to the TLS, QUIC, DNS, HTTP and TCP stream
decoders and to the pcapng walker. Any exception is a finding: libFuzzer writes the input to `crash-<sha1>`; copy
it into fuzz/sensor-regressions/ and tests/fuzz/test_sensor_regressions.py replays it on every `make test`.

    .venv/bin/python fuzz/fuzz_sensor_decoders.py -runs=200000 /tmp/sensor-corpus fuzz/sensor-corpus
    .venv/bin/python fuzz/fuzz_sensor_decoders.py -max_total_time=600 /tmp/corpus fuzz/sensor-corpus
"""

from __future__ import annotations

import io
import sys

import atheris

with atheris.instrument_imports(include=["sensor"]):
    from sensor.capture.base import SourceStats
    from sensor.capture.pcapng import PcapngReader
    from sensor.decode import dns, gquic, http, quic, tls
    from sensor.decode.packet import decode
    from sensor.decode.tcp_stream import ClientStreamAssembler

LINKTYPES = (0, 1, 9, 12, 14, 101, 104, 108, 113, 228, 229, 239, 276)


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


def main() -> None:
    atheris.Setup(sys.argv, lambda data: exercise(bytes(data)))
    atheris.Fuzz()


if __name__ == "__main__":
    main()
