"""The one small interface every packet source implements."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import NamedTuple, Protocol


class Frame(NamedTuple):
    ts: float  # seconds since the epoch
    linktype: int  # a LINKTYPE_* number (tcpdump.org/linktypes.html)
    data: bytes


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
