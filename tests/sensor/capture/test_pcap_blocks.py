"""The pcap block reader: the same frames as dpkt's reader on every capture we have, and damaged files handled alike.

dpkt's `pcap.Reader` stays as `--backend dpkt`, the independent reader the block reader is checked against here:
on the captures the suite builds, on variants of them in the other byte order and in nanoseconds, on hand-made
records that straddle every block boundary, and on the shared peer corpus where it is checked out beside the repo.
"""

from __future__ import annotations

import io
import os
import struct
import sys
import threading
import tracemalloc
from pathlib import Path

import pytest
from scapy.utils import PcapWriter, rdpcap

from sensor.capture.base import CaptureError, Frame, SourceStats
from sensor.capture.files import MAX_RECORD, CaptureFile, PcapReader
from sensor.capture.pcap_blocks import PcapBlockReader
from sensor.sample_traffic import office_morning
from tests.sensor.captures import CAPTURES

READERS: list[PcapReader] = ["blocks", "dpkt"]
CORPUS = Path(__file__).resolve().parents[3].parent / "shared" / "corpus" / "pcaps"
FRAME = bytes(range(60))


def pcap(records: list[tuple[int, int, bytes]], *, order: str = "<", nano: bool = False, linktype: int = 1) -> bytes:
    """A pcap file of (seconds, fraction, frame) records, as libpcap writes it in the given byte order."""
    header = struct.pack(order + "IHHiIII", 0xA1B23C4D if nano else 0xA1B2C3D4, 2, 4, 0, 0, 65535, linktype)
    body = b"".join(struct.pack(order + "IIII", s, f, len(data), len(data)) + data for s, f, data in records)
    return header + body


def read(path: Path, reader: PcapReader = "blocks", block_size: int | None = None) -> tuple[list[Frame], SourceStats]:
    source = CaptureFile(str(path), pcap_reader=reader, **({} if block_size is None else {"block_size": block_size}))
    return list(source.frames()), source.stats


def write(tmp_path: Path, content: bytes, name: str = "test.pcap") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


def assert_same_as_dpkt(path: Path, block_size: int | None = None) -> list[Frame]:
    blocks, blocks_stats = read(path, "blocks", block_size)
    dpkt, dpkt_stats = read(path, "dpkt")
    assert [tuple(frame) for frame in blocks] == [tuple(frame) for frame in dpkt]
    assert all(type(frame.ts) is float and type(frame.data) is bytes for frame in blocks)
    assert blocks_stats == dpkt_stats
    return blocks


# --- the same frames as dpkt ---------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def office(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return office_morning(tmp_path_factory.mktemp("office") / "office.pcap")


@pytest.mark.parametrize("name", sorted(CAPTURES))
def test_when_reading_a_test_capture_then_the_frames_are_dpkts(tmp_path: Path, name: str) -> None:
    frames = assert_same_as_dpkt(CAPTURES[name](tmp_path / name))

    assert frames


@pytest.mark.parametrize(("endianness", "nano"), [(">", False), (">", True), ("<", True)], ids=["be", "be-ns", "le-ns"])
def test_when_a_capture_is_big_endian_or_in_nanoseconds_then_the_frames_are_dpkts(
    office: Path, tmp_path: Path, endianness: str, nano: bool
) -> None:
    path = tmp_path / "variant.pcap"
    with PcapWriter(str(path), linktype=1, endianness=endianness, nano=nano) as writer:
        for packet in rdpcap(str(office)):
            writer.write(packet)

    frames = assert_same_as_dpkt(path)

    assert [frame.data for frame in frames] == [frame.data for frame in read(office)[0]]


@pytest.mark.parametrize("block_size", [1, 15, 16, 17, 100, 1514, 4096])
def test_when_the_block_is_tiny_then_records_straddling_every_boundary_come_out_whole(
    office: Path, block_size: int
) -> None:
    frames = assert_same_as_dpkt(office, block_size)

    assert frames == read(office)[0]


@pytest.mark.skipif(not CORPUS.is_dir(), reason=f"the peer corpus is not checked out at {CORPUS}")
def test_when_reading_the_peer_corpus_then_every_capture_gives_dpkts_frames() -> None:
    paths = sorted(p for p in CORPUS.iterdir() if p.suffix in {".pcap", ".pcapng"})
    assert paths, f"no captures in {CORPUS}"
    for path in paths:
        assert_same_as_dpkt(path)


# --- timestamps and byte order -------------------------------------------------------------------------------------


@pytest.mark.parametrize("order", ["<", ">"])
def test_when_a_file_has_nanosecond_timestamps_then_each_is_rounded_once(tmp_path: Path, order: str) -> None:
    path = write(
        tmp_path,
        pcap([(1_793_000_000, 123_456_789, FRAME), (1_793_000_001, 999_999_999, FRAME)], order=order, nano=True),
    )

    frames = assert_same_as_dpkt(path)

    assert [frame.ts for frame in frames] == [1_793_000_000_123_456_789 / 10**9, 1_793_000_001_999_999_999 / 10**9]


@pytest.mark.parametrize("order", ["<", ">"])
def test_when_a_file_is_in_either_byte_order_then_link_type_and_times_are_read_in_it(
    tmp_path: Path, order: str
) -> None:
    path = write(tmp_path, pcap([(1_793_000_000, 250_000, FRAME)], order=order, linktype=113))

    frames = assert_same_as_dpkt(path)

    assert frames == [Frame(1_793_000_000.25, 113, FRAME)]


# --- damaged files -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("cut", [1, 15, 16, 17, 16 + len(FRAME) - 1], ids=lambda n: f"{n}-bytes-of-the-last")
def test_when_the_file_ends_inside_a_record_then_the_frames_before_are_kept_and_the_cut_counted(
    tmp_path: Path, reader: PcapReader, cut: int
) -> None:
    whole = pcap([(1, 0, FRAME), (2, 0, FRAME)])
    path = write(tmp_path, whole[: len(whole) - (16 + len(FRAME)) + cut])

    frames, stats = read(path, reader)

    # A record whose header is there gives what there is of its frame, as a snaplen would have cut it.
    expected = [FRAME] + ([FRAME[: cut - 16]] if cut >= 16 else [])
    assert [frame.data for frame in frames] == expected
    assert stats.problems == {"truncated pcap record": 1}


@pytest.mark.parametrize("reader", READERS)
def test_when_a_file_ends_after_a_whole_record_then_nothing_is_counted(tmp_path: Path, reader: PcapReader) -> None:
    frames, stats = read(write(tmp_path, pcap([(1, 0, FRAME), (2, 0, b"")])), reader)

    assert [frame.data for frame in frames] == [FRAME, b""]
    assert stats.problems == {}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("block_size", [None, 64])
def test_when_a_record_claims_more_than_any_link_captures_then_reading_stops_there_without_allocating_it(
    tmp_path: Path, reader: PcapReader, block_size: int | None
) -> None:
    evil = struct.pack("<IIII", 3, 0, 0xFFFFFFF0, 60) + FRAME * 4
    path = write(tmp_path, pcap([(1, 0, FRAME), (2, 0, FRAME)]) + evil + pcap([(4, 0, FRAME)])[24:])

    tracemalloc.start()
    try:
        frames, stats = read(path, reader, block_size)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()

    assert [frame.ts for frame in frames] == [1.0, 2.0]
    assert stats.problems == {"pcap record longer than any link captures": 1}
    assert peak < 16 * 1024 * 1024, "nothing was allocated for the length the record claims"


@pytest.mark.parametrize("reader", READERS)
def test_when_a_record_is_as_long_as_any_link_captures_then_it_is_read(tmp_path: Path, reader: PcapReader) -> None:
    longest = bytes(MAX_RECORD)

    frames, stats = read(write(tmp_path, pcap([(1, 0, longest), (2, 0, FRAME)])), reader, 4096)

    assert [frame.data for frame in frames] == [longest, FRAME]
    assert stats.problems == {}


@pytest.mark.parametrize("reader", READERS)
@pytest.mark.parametrize("length", [4, 10, 23])
def test_when_the_file_header_is_cut_then_the_file_is_refused_as_unreadable(
    tmp_path: Path, reader: PcapReader, length: int
) -> None:
    path = write(tmp_path, pcap([])[:length], name="cut.pcap")

    with pytest.raises(CaptureError, match=r"cut\.pcap: unreadable pcap header"):
        read(path, reader)


@pytest.mark.parametrize("reader", READERS)
def test_when_a_file_has_only_its_header_then_there_are_no_frames_and_no_problems(
    tmp_path: Path, reader: PcapReader
) -> None:
    assert read(write(tmp_path, pcap([])), reader) == ([], SourceStats())


# --- standard input and pipes --------------------------------------------------------------------------------------


def test_when_reading_standard_input_then_the_frames_are_the_files(
    office: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(office.read_bytes())))

    frames = list(CaptureFile("-").frames())

    assert frames == read(office)[0]


def test_when_a_pipe_delivers_the_file_in_small_pieces_then_the_frames_are_the_files(office: Path) -> None:
    content = office.read_bytes()
    read_end, write_end = os.pipe()

    def feed() -> None:
        with open(write_end, "wb", buffering=0) as pipe:
            for start in range(0, len(content), 333):
                pipe.write(content[start : start + 333])

    feeder = threading.Thread(target=feed)
    feeder.start()
    try:
        with open(read_end, "rb") as pipe:
            reader = PcapBlockReader(pipe, SourceStats())
            records = [record for batch in reader.batches() for record in batch]
    finally:
        feeder.join()

    assert [Frame(ts, reader.linktype, data) for ts, data in records] == read(office)[0]
