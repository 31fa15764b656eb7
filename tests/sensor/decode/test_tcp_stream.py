"""Client stream reassembly: segments out of order, repeated, overlapping, across sequence wrap-around, bounded."""

from __future__ import annotations

import itertools
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.decode.tcp_stream import ClientStreamAssembler

DATA = bytes(range(256)) * 4
ISN = 1_000_000


def segments(data: bytes, first_seq: int, *sizes: int) -> list[tuple[int, bytes]]:
    """(seq, payload) pieces of the given sizes, the rest in a last piece, with 32-bit sequence numbers."""
    out, position = [], 0
    for size in (*sizes, len(data)):
        piece = data[position : position + size]
        if piece:
            out.append(((first_seq + position) & 0xFFFFFFFF, piece))
        position += size
    return out


def test_when_one_segment_carries_everything_then_it_is_the_stream() -> None:
    assembler = ClientStreamAssembler()

    assembler.add(ISN, memoryview(DATA[:300]))

    assert assembler.contiguous() == DATA[:300]


@pytest.mark.parametrize("order", list(itertools.permutations(range(4))))
def test_when_segments_arrive_in_any_order_after_the_syn_then_the_stream_is_whole(order: tuple[int, ...]) -> None:
    pieces = segments(DATA, ISN + 1, 100, 250, 7)
    assembler = ClientStreamAssembler()
    assembler.add(ISN, b"", syn=True)

    for index in order:
        assembler.add(*pieces[index])

    assert assembler.contiguous() == DATA


@pytest.mark.parametrize("order", list(itertools.permutations(range(3))))
def test_when_no_syn_was_seen_and_segments_are_reordered_then_the_earliest_starts_the_stream(
    order: tuple[int, ...],
) -> None:
    pieces = segments(DATA, ISN, 300, 300)
    assembler = ClientStreamAssembler()

    for index in order:
        assembler.add(*pieces[index])

    assert assembler.contiguous() == DATA


def test_when_the_syn_arrives_after_data_then_the_stream_starts_at_the_syn() -> None:
    pieces = segments(DATA, ISN + 1, 100)
    assembler = ClientStreamAssembler()

    assembler.add(*pieces[1])
    assembler.add(ISN, b"", syn=True)
    assembler.add(*pieces[0])

    assert assembler.contiguous() == DATA


def test_when_data_from_an_earlier_connection_precedes_the_syn_then_it_is_dropped() -> None:
    assembler = ClientStreamAssembler()
    assembler.add(ISN + 500_000, b"old connection")

    assembler.add(ISN, b"", syn=True)
    assembler.add(ISN + 1, b"new")

    assert assembler.contiguous() == b"new"


def test_when_segments_are_retransmitted_and_overlap_then_the_first_copy_placed_wins() -> None:
    assembler = ClientStreamAssembler()
    assembler.add(ISN, b"", syn=True)

    assembler.add(ISN + 1, b"hello ")
    assembler.add(ISN + 1, b"hello ")  # retransmission
    assembler.add(ISN + 4, b"XXXworld")  # overlaps the assembled bytes with other content
    assembler.add(ISN + 1, b"h")  # an older, shorter copy

    assert assembler.contiguous() == b"hello world"


def test_when_a_held_piece_overlaps_the_one_that_fills_the_gap_then_bytes_are_not_doubled() -> None:
    assembler = ClientStreamAssembler()
    assembler.add(ISN, b"", syn=True)

    assembler.add(ISN + 7, b"world!")
    assembler.add(ISN + 9, b"rld! and more")
    assembler.add(ISN + 1, b"hello wo")

    assert assembler.contiguous() == b"hello world! and more"


@pytest.mark.parametrize("isn", [0xFFFFFFFF, 0xFFFFFFF0, 0xFFFFFF00])
def test_when_sequence_numbers_wrap_around_then_order_is_kept(isn: int) -> None:
    pieces = segments(DATA, (isn + 1) & 0xFFFFFFFF, 10, 300)
    assembler = ClientStreamAssembler()
    assembler.add(isn, b"", syn=True)

    for piece in reversed(pieces):
        assembler.add(*piece)

    assert assembler.contiguous() == DATA


def test_when_the_syn_carries_data_then_it_is_the_start_of_the_stream() -> None:
    assembler = ClientStreamAssembler()

    assembler.add(ISN, b"fast open ", syn=True)
    assembler.add(ISN + 11, b"data")

    assert assembler.contiguous() == b"fast open data"


def test_when_the_cap_is_reached_then_the_stream_stops_there() -> None:
    assembler = ClientStreamAssembler(max_bytes=500)
    assembler.add(ISN - 1, b"", syn=True)

    for seq, piece in reversed(segments(DATA, ISN, 200, 200)):
        assembler.add(seq, piece)
    assembler.add(ISN + 1024, b"more")

    assert assembler.full
    assert assembler.contiguous() == DATA[:500]


def test_when_too_many_gaps_are_open_then_extra_pieces_are_not_held() -> None:
    assembler = ClientStreamAssembler(max_pending=2)
    assembler.add(ISN, b"", syn=True)

    for offset in (11, 21, 31):  # three pieces after a gap; only two are kept
        assembler.add(ISN + offset, b"0123456789")
    assembler.add(ISN + 1, b"0123456789")

    assert assembler.contiguous() == b"0123456789" * 3


def test_when_held_pieces_would_exceed_the_cap_then_they_are_not_held() -> None:
    assembler = ClientStreamAssembler(max_bytes=100)
    assembler.add(ISN, b"", syn=True)

    assembler.add(ISN + 11, b"x" * 60)  # held after a 10-byte gap
    assembler.add(ISN + 41, b"y" * 60)  # 60 more held bytes would pass the cap of 100
    assembler.add(ISN + 1, b"z" * 10)

    assert assembler.contiguous() == b"z" * 10 + b"x" * 60
    assert not assembler.full


def test_when_data_lies_past_the_cap_then_it_is_ignored() -> None:
    assembler = ClientStreamAssembler(max_bytes=100)
    assembler.add(ISN, b"", syn=True)

    assembler.add(ISN + 1 + 5000, b"far away")
    assembler.add(ISN + 1 - 5000, b"long before")

    assert assembler.contiguous() == b""
    assert not assembler.full


def test_when_nothing_was_added_then_the_stream_is_empty() -> None:
    assembler = ClientStreamAssembler()

    assembler.add(ISN, b"")

    assert assembler.contiguous() == b""


@settings(derandomize=True, database=None, max_examples=200)
@given(
    st.lists(st.integers(min_value=1, max_value=120), max_size=20),
    st.randoms(use_true_random=False),
    st.integers(min_value=0, max_value=0xFFFFFFFF),
)
def test_when_pieces_come_shuffled_and_repeated_then_the_stream_is_always_whole(
    cuts: list[int], shuffler: random.Random, isn: int
) -> None:
    pieces = segments(DATA, (isn + 1) & 0xFFFFFFFF, *cuts)
    arrivals = pieces + shuffler.sample(pieces, len(pieces) // 2)  # some retransmitted
    shuffler.shuffle(arrivals)
    assembler = ClientStreamAssembler()
    assembler.add(isn, b"", syn=True)

    for seq, piece in arrivals:
        assembler.add(seq, piece)

    assert assembler.contiguous() == DATA
