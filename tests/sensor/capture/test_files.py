"""Capture files: pcap and pcapng (several interfaces, odd blocks, byte orders), and bad input named clearly."""

from __future__ import annotations

import struct
from pathlib import Path

import pytest
from scapy.layers.inet import IP, TCP
from scapy.layers.l2 import CookedLinux, Ether
from scapy.utils import PcapNgWriter, PcapWriter, wrpcap

from sensor.capture.base import CaptureError
from sensor.capture.files import CaptureFile


def frames_of(path: Path) -> list[tuple[int, bytes]]:
    return [(frame.linktype, frame.data) for frame in CaptureFile(str(path)).frames()]


def test_when_reading_a_pcap_then_frames_carry_its_link_type(tmp_path: Path) -> None:
    path = tmp_path / "a.pcap"
    wrpcap(str(path), [Ether() / IP(dst="10.0.0.1") / TCP(dport=443)] * 3)

    frames = frames_of(path)

    assert [linktype for linktype, _ in frames] == [1, 1, 1]


def test_when_a_pcap_is_named_pcapng_or_the_reverse_then_the_magic_decides(tmp_path: Path) -> None:
    path = tmp_path / "really-pcapng.pcap"
    writer = PcapNgWriter(str(path))
    writer.write(Ether() / IP() / TCP())
    writer.close()

    assert frames_of(path)[0][0] == 1


def _block(block_type: int, body: bytes) -> bytes:
    body += b"\0" * (-len(body) % 4)
    length = 12 + len(body)
    return struct.pack("<II", block_type, length) + body + struct.pack("<I", length)


def _pcapng(*blocks: bytes) -> bytes:
    section = struct.pack("<IHHq", 0x1A2B3C4D, 1, 0, -1)
    return _block(0x0A0D0D0A, section) + b"".join(blocks)


def _interface(linktype: int, tsresol: int | None = None) -> bytes:
    body = struct.pack("<HHI", linktype, 0, 65535)
    if tsresol is not None:
        body += struct.pack("<HHB3x", 9, 1, tsresol) + struct.pack("<HH", 0, 0)
    return _block(1, body)


def _packet(interface: int, ticks: int, data: bytes) -> bytes:
    return _block(6, struct.pack("<IIIII", interface, ticks >> 32, ticks & 0xFFFFFFFF, len(data), len(data)) + data)


def test_when_a_pcapng_mixes_interfaces_then_each_frame_keeps_its_own_link_type_and_clock(tmp_path: Path) -> None:
    ether = bytes(Ether() / IP() / TCP())
    cooked = bytes(CookedLinux() / IP() / TCP())
    path = tmp_path / "multi.pcapng"
    path.write_bytes(
        _pcapng(
            _block(0x0A, b"secrets block before any interface"),  # Decryption Secrets Block
            _interface(1),
            _interface(113, tsresol=9),
            _packet(0, 1_700_000_000_000_000, ether),
            _packet(1, 1_700_000_000_000_000_000, cooked),
        )
    )

    frames = list(CaptureFile(str(path)).frames())

    assert [(f.linktype, f.data) for f in frames] == [(1, ether), (113, cooked)]
    assert frames[0].ts == pytest.approx(1_700_000_000.0)
    assert frames[1].ts == pytest.approx(1_700_000_000.0)


def test_when_a_pcapng_is_truncated_then_the_frames_before_are_kept_and_the_cut_counted(tmp_path: Path) -> None:
    data = bytes(Ether() / IP() / TCP())
    path = tmp_path / "cut.pcapng"
    path.write_bytes(_pcapng(_interface(1), _packet(0, 1, data), _packet(0, 2, data))[:-10])
    source = CaptureFile(str(path))

    frames = list(source.frames())

    assert len(frames) == 1
    assert source.stats.problems == {"truncated block at end of file": 1}


def test_when_a_block_length_is_absurd_then_reading_stops_without_allocating_it(tmp_path: Path) -> None:
    path = tmp_path / "evil.pcapng"
    path.write_bytes(_pcapng(_interface(1)) + struct.pack("<II", 6, 0xFFFFFFF0) + b"\0" * 64)
    source = CaptureFile(str(path))

    assert list(source.frames()) == []
    assert source.stats.problems == {"corrupt block length": 1}


def test_when_a_pcap_record_is_cut_then_earlier_records_survive_and_the_cut_one_is_short(tmp_path: Path) -> None:
    path = tmp_path / "cut.pcap"
    writer = PcapWriter(str(path))
    for _ in range(3):
        writer.write(Ether() / IP() / TCP())
    writer.close()
    path.write_bytes(path.read_bytes()[:-5])

    frames = frames_of(path)

    assert len(frames[0][1]) == len(frames[1][1]) == len(frames[2][1]) + 5


@pytest.mark.parametrize("content", [b"", b"GIF89a not a capture", b"\xd4\xc3"])
def test_when_the_file_is_no_capture_then_a_clear_error(tmp_path: Path, content: bytes) -> None:
    path = tmp_path / "junk.bin"
    path.write_bytes(content)

    with pytest.raises(CaptureError, match=r"junk\.bin: not a pcap or pcapng file"):
        list(CaptureFile(str(path)).frames())


def test_when_the_file_is_missing_then_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(CaptureError, match="No such file"):
        list(CaptureFile(str(tmp_path / "absent.pcap")).frames())


def test_when_a_pcap_record_claims_gigabytes_then_reading_stops_without_allocating_them(tmp_path: Path) -> None:
    header = struct.pack("<IHHiIII", 0xA1B2C3D4, 2, 4, 0, 0, 65535, 1)
    good = struct.pack("<IIII", 1, 0, 60, 60) + b"\0" * 60
    evil = struct.pack("<IIII", 2, 0, 0xFFFFFFF0, 60) + b"\0" * 60
    path = tmp_path / "evil.pcap"
    path.write_bytes(header + good + evil)
    source = CaptureFile(str(path))

    assert len(list(source.frames())) == 1
    assert source.stats.problems == {"pcap record longer than any link captures": 1}


def test_when_timestamps_have_nanosecond_resolution_then_they_are_rounded_once(tmp_path: Path) -> None:
    ticks = 1_793_000_000_123_456_789
    path = tmp_path / "ns.pcapng"
    path.write_bytes(_pcapng(_interface(1, tsresol=9), _packet(0, ticks, bytes(Ether() / IP() / TCP()))))

    frame = next(iter(CaptureFile(str(path)).frames()))

    assert frame.ts == ticks / 10**9
