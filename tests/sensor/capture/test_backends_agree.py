"""The capture-file backends (our block reader, dpkt, scapy, tshark) give the same frames, observations and usage
events.

tshark runs only where it is installed; elsewhere its cases skip and say how to enable them.
"""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
from collections.abc import Callable
from functools import partial
from pathlib import Path

import pytest
from scapy.config import conf
from scapy.layers.inet import IP, UDP
from scapy.layers.l2 import Ether

from sensor.capture.base import CaptureError, PacketSource
from sensor.capture.files import CaptureFile
from sensor.capture.scapy_file import ScapyFile
from sensor.capture.tshark import TsharkFile
from sensor.runner import aggregate_usage, write_observations
from sensor.sample_traffic import CLIENT, MACS
from tests.sensor.captures import CAPTURES, EXPECTED_NAMES, needs_tshark, two_interfaces

OTHER_BACKENDS = [
    pytest.param(partial(CaptureFile, pcap_reader="dpkt"), id="dpkt"),
    pytest.param(ScapyFile, id="scapy"),
    pytest.param(TsharkFile, id="tshark", marks=needs_tshark),
]
ALL_BACKENDS = [pytest.param(CaptureFile, id="blocks"), *OTHER_BACKENDS]
Backend = Callable[[str], PacketSource]


@pytest.fixture(scope="module", params=sorted(CAPTURES))
def capture(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Path:
    name: str = request.param
    return CAPTURES[name](tmp_path_factory.mktemp("captures") / name)


def observation_lines(source: PacketSource) -> list[str]:
    out = io.StringIO()
    write_observations([source], out)
    return out.getvalue().splitlines()


def usage_events(source: PacketSource) -> list[str]:
    events: list[str] = []
    aggregate_usage([source], "tap-test-01", lambda event: events.append(event.model_dump_json()), run_id="agree")
    return events


def test_when_the_default_reader_reads_the_test_captures_then_it_finds_their_names(capture: Path) -> None:
    lines = [json.loads(line) for line in observation_lines(CaptureFile(str(capture)))]

    assert {(line["signal"], line["host"]) for line in lines} == EXPECTED_NAMES[capture.name]


def test_when_the_two_interface_pcapng_is_read_then_frames_keep_each_interfaces_link_type(tmp_path: Path) -> None:
    path = two_interfaces(tmp_path / "two.pcapng")

    assert {frame.linktype for frame in CaptureFile(str(path)).frames()} == {1, 113}


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_when_another_backend_reads_a_capture_then_the_frames_are_the_same(capture: Path, backend: Backend) -> None:
    expected = list(CaptureFile(str(capture)).frames())

    frames = list(backend(str(capture)).frames())

    assert frames == expected


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_when_another_backend_reads_a_capture_then_the_observation_lines_are_identical(
    capture: Path, backend: Backend
) -> None:
    expected = observation_lines(CaptureFile(str(capture)))

    assert observation_lines(backend(str(capture))) == expected


@pytest.mark.parametrize("backend", OTHER_BACKENDS)
def test_when_another_backend_reads_a_capture_then_the_usage_events_are_identical(
    capture: Path, backend: Backend
) -> None:
    expected = usage_events(CaptureFile(str(capture)))

    assert expected, "the capture holds AI usage"
    assert usage_events(backend(str(capture))) == expected


# --- bad input: every backend refuses it the same way -----------------------------------------------------------


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize(
    ("content", "message"),
    [
        (b"", r"not a pcap or pcapng file \(starts with empty\)"),
        (b"GIF89a not a capture", r"not a pcap or pcapng file \(starts with 47494638\)"),
    ],
    ids=["empty", "gif"],
)
def test_when_the_file_is_no_capture_then_every_backend_says_so(
    tmp_path: Path, backend: Backend, content: bytes, message: str
) -> None:
    path = tmp_path / "junk.pcap"
    path.write_bytes(content)

    with pytest.raises(CaptureError, match=message):
        list(backend(str(path)).frames())


@pytest.mark.parametrize("backend", ALL_BACKENDS)
def test_when_the_file_is_missing_then_every_backend_says_so(tmp_path: Path, backend: Backend) -> None:
    with pytest.raises(CaptureError, match="No such file"):
        list(backend(str(tmp_path / "absent.pcap")).frames())


def _block(block_type: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    return struct.pack("<II", block_type, 12 + len(body)) + body + struct.pack("<I", 12 + len(body))


def _pcapng(*blocks: bytes) -> bytes:
    interface = _block(1, struct.pack("<HHI", 1, 0, 65535))
    return _block(0x0A0D0D0A, struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)) + interface + b"".join(blocks)


def _packet(ticks: int, data: bytes) -> bytes:
    return _block(6, struct.pack("<IIIII", 0, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data)


FRAME = bytes(Ether(**MACS) / IP(src=CLIENT, dst="10.0.0.1") / UDP(sport=1, dport=2))


@pytest.mark.parametrize("backend", ALL_BACKENDS)
@pytest.mark.parametrize(
    "tail",
    [
        struct.pack("<II", 6, 0xFFFFFFF0) + b"\0" * 64,  # a block claiming 4 GiB
        _packet(2, FRAME)[:-10],  # cut inside the last block
    ],
    ids=["absurd-length", "cut"],
)
def test_when_a_pcapng_goes_bad_after_a_frame_then_the_frame_is_kept_and_the_problem_counted(
    tmp_path: Path, backend: Backend, tail: bytes
) -> None:
    path = tmp_path / "bad.pcapng"
    path.write_bytes(_pcapng(_packet(1_793_000_000_000_000, FRAME)) + tail)
    source = backend(str(path))

    tracemalloc.start()
    try:
        frames = list(source.frames())
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert [(frame.ts, frame.linktype, frame.data) for frame in frames] == [(1_793_000_000.0, 1, FRAME)]
    assert sum(source.stats.problems.values()) == 1
    assert peak < 16 * 1024 * 1024, "nothing was allocated for the length the block claims"


def test_when_scapy_reads_a_decryption_secrets_block_then_its_global_tls_settings_stay_untouched(
    tmp_path: Path,
) -> None:
    keylog = b"CLIENT_RANDOM " + b"00" * 32 + b" " + b"11" * 48 + b"\n"
    secrets = _block(10, struct.pack("<II", 0x544C534B, len(keylog)) + keylog)
    path = tmp_path / "secrets.pcapng"
    path.write_bytes(_pcapng(secrets, _packet(1, FRAME)))
    before = getattr(conf, "tls_session_enable", None)

    frames = list(ScapyFile(str(path)).frames())

    assert [frame.data for frame in frames] == [FRAME]
    assert getattr(conf, "tls_session_enable", None) == before


@needs_tshark
def test_when_the_reader_stops_early_then_tshark_is_stopped_and_nothing_is_left_running(capture: Path) -> None:
    frames = TsharkFile(str(capture)).frames()

    first = next(frames)
    frames.close()

    assert first == next(CaptureFile(str(capture)).frames())
