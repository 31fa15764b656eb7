"""Cleartext HTTP/2: DATA frame bodies (DoH messages) found in either direction, hostile lengths bounded."""

from __future__ import annotations

import struct

import pytest
from scapy.layers.dns import DNS, DNSQR, DNSRR
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import Ether

from sensor.capture.base import Frame
from sensor.decode.http2 import MAX_FRAME, PREFACE, data_payloads, starts_h2c
from sensor.pipeline import Pipeline
from sensor.runner import build_resolver


def frame(kind: int, payload: bytes, flags: int = 0, stream: int = 1) -> bytes:
    return len(payload).to_bytes(3, "big") + bytes((kind, flags)) + struct.pack(">I", stream) + payload


SETTINGS, HEADERS, DATA = 0x4, 0x1, 0x0


def test_when_frames_follow_the_preface_then_only_data_bodies_come_out_and_padding_is_dropped() -> None:
    stream = PREFACE + frame(SETTINGS, b"") + frame(HEADERS, b"\x82\x86") + frame(DATA, b"one")
    stream += frame(DATA, b"\x02two\x00\x00", flags=0x8)

    payloads, offset = data_payloads(stream, len(PREFACE))

    assert payloads == [b"one", b"two"]
    assert offset == len(stream)


def test_when_a_frame_is_incomplete_then_the_walk_stops_before_it_and_resumes_later() -> None:
    whole = frame(DATA, b"message")
    payloads, offset = data_payloads(whole[:-2], 0)

    assert (payloads, offset) == ([], 0)
    assert data_payloads(whole, offset) == ([b"message"], len(whole))


def test_when_a_frame_claims_more_than_doh_can_be_then_the_stream_is_given_up() -> None:
    huge = (MAX_FRAME + 1).to_bytes(3, "big") + b"\x00\x00" + b"\x00" * 4

    assert data_payloads(huge + b"x" * 10, 0) == ([], len(huge) + 10)


@pytest.mark.parametrize(("data", "expected"), [(PREFACE, True), (PREFACE[:5], True), (b"GET / HTTP/1.1", False)])
def test_preface_recognition(data: bytes, expected: bool) -> None:
    assert starts_h2c(data) is expected


def test_when_doh_runs_over_cleartext_http2_then_the_dns_names_inside_are_observed() -> None:
    client, server = "10.9.0.5", "10.9.0.53"
    up = Ether() / IP(src=client, dst=server)
    down = Ether() / IP(src=server, dst=client)
    response = bytes(DNS(id=0, qr=1, qd=DNSQR(qname="claude.ai"), an=DNSRR(rrname="claude.ai", rdata="160.79.104.10")))
    packets = [
        up / TCP(sport=40000, dport=80, flags="S", seq=100),
        down / TCP(sport=80, dport=40000, flags="SA", seq=900, ack=101),
        up
        / TCP(sport=40000, dport=80, flags="PA", seq=101)
        / (PREFACE + frame(SETTINGS, b"") + frame(HEADERS, b"\x82")),
        down / TCP(sport=80, dport=40000, flags="PA", seq=901) / (frame(SETTINGS, b"") + frame(DATA, response)),
    ]
    pipeline = Pipeline(build_resolver(), on_flow=lambda _flow: None)

    observations = list(pipeline.run(Frame(1_793_000_000.0 + i, 1, bytes(p)) for i, p in enumerate(packets)))

    assert [(o.signal.value, o.host, o.tool, o.src_ip) for o in observations] == [
        ("dns", "claude.ai", "anthropic-claude", client)
    ]
    assert pipeline.answers.name_of(bytes([160, 79, 104, 10])) == "claude.ai", "the DoH answer maps the address"
