"""The one small interface every packet source implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol, runtime_checkable


class Frame(NamedTuple):
    ts: float  # seconds since the epoch
    linktype: int  # a LINKTYPE_* number (tcpdump.org/linktypes.html)
    data: bytes


class FrameBatch(NamedTuple):
    """Consecutive frames of one link type as (timestamp, frame) pairs: what the packet loop takes in, so that a
    frame costs it one step of a list rather than a generator's resumption and a Frame of its own."""

    linktype: int
    records: list[tuple[float, bytes]]


@dataclass
class SourceStats:
    """What a source could not read, by reason, so the summary can say what was skipped and why."""

    frames: int = 0
    problems: dict[str, int] = field(default_factory=dict)

    def problem(self, reason: str) -> None:
        self.problems[reason] = self.problems.get(reason, 0) + 1


class CaptureError(Exception):
    """The source cannot be read at all (not a capture file, no such interface, no permission)."""


class PacketSource(Protocol):
    stats: SourceStats

    def frames(self) -> Iterator[Frame]: ...


@runtime_checkable
class BatchSource(PacketSource, Protocol):
    """A source that can hand its frames over in batches (files: a block at a time)."""

    def batches(self) -> Iterator[FrameBatch]: ...


def frame_batches(source: PacketSource) -> Iterator[FrameBatch]:
    """The source's own batches, else its frames one to a batch: a live source must not hold frames back."""
    if isinstance(source, BatchSource):
        return source.batches()
    return (FrameBatch(frame.linktype, [(frame.ts, frame.data)]) for frame in source.frames())


def grouped(frames: Iterator[Frame], size: int) -> Iterator[FrameBatch]:
    """Frames gathered into batches of up to `size`, a new batch wherever the link type changes."""
    linktype, records = -1, list[tuple[float, bytes]]()
    for ts, frame_linktype, data in frames:
        if frame_linktype != linktype or len(records) >= size:
            if records:
                yield FrameBatch(linktype, records)
            linktype, records = frame_linktype, []
        records.append((ts, data))
    if records:
        yield FrameBatch(linktype, records)
