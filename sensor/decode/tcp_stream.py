"""The first bytes a TCP client sends, put back in order: enough to read a ClientHello or request line that spans
segments which arrive out of order, twice, or overlapping.

Only the start of one direction matters to the sensor, so everything is bounded by `max_bytes`: data past the cap
is dropped, and pieces waiting for a gap to fill are limited in number and in total size. Where copies of the same
bytes disagree (an overlap attack on a DPI box), the first copy placed in order wins.
"""

from __future__ import annotations

_MASK = 0xFFFFFFFF
_HALF = 1 << 31  # sequence offsets at or past this are "before", by RFC 1982 serial-number arithmetic


class ClientStreamAssembler:
    """Reassemble one direction of one TCP connection from its first byte, up to `max_bytes`."""

    __slots__ = ("_base", "_data", "_known_start", "_max_bytes", "_max_pending", "_pending", "_pending_bytes")

    def __init__(self, max_bytes: int = 16 * 1024, max_pending: int = 32) -> None:
        self._max_bytes = max_bytes
        self._max_pending = max_pending
        self._base: int | None = None  # sequence number of the first payload byte
        self._known_start = False  # the base came from a SYN, so no data can precede it
        self._data = b""
        self._pending: dict[int, bytes] = {}  # offset from the base -> bytes that follow a gap
        self._pending_bytes = 0

    @property
    def full(self) -> bool:
        """The cap is reached: further segments are ignored."""
        return len(self._data) >= self._max_bytes

    def contiguous(self) -> bytes:
        """The in-order bytes from the start of the stream assembled so far (no copy)."""
        return self._data

    def add(self, seq: int, payload: bytes | memoryview, syn: bool = False) -> None:
        """Place a segment; `syn` says it is the SYN, whose sequence number precedes the first data byte."""
        if self.full:
            return
        if syn:
            seq = (seq + 1) & _MASK
            self._start_at(seq)
        if not payload:
            return
        if self._base is None:
            self._base = seq
        offset = (seq - self._base) & _MASK
        if offset >= _HALF:
            offset -= 1 << 32
            if not self._known_start and -offset <= self._max_bytes:
                # Without a SYN the first segment seen is only a guess at the start; an earlier one corrects it.
                self._rebase(seq, -offset)
                offset = 0
            else:
                payload = payload[-offset:]
                offset = 0
        self._insert(offset, payload)

    def _insert(self, offset: int, payload: bytes | memoryview) -> None:
        end = min(offset + len(payload), self._max_bytes)
        have = len(self._data)
        if end <= have or end <= offset:
            return
        if offset <= have:
            self._data += payload[have - offset : end - offset]
            if self._pending:
                self._drain()
        else:
            self._hold(offset, bytes(payload[: end - offset]))

    def _hold(self, offset: int, piece: bytes) -> None:
        held = self._pending.get(offset)
        if held is not None:
            if len(held) >= len(piece):
                return
            self._pending_bytes -= len(held)
        elif len(self._pending) >= self._max_pending:
            return
        if self._pending_bytes + len(piece) > self._max_bytes:
            if held is not None:
                self._pending_bytes += len(held)
            return
        self._pending[offset] = piece
        self._pending_bytes += len(piece)

    def _drain(self) -> None:
        """Move the pieces that now touch the in-order prefix onto it."""
        for offset in sorted(self._pending):
            if offset > len(self._data):
                break
            piece = self._pending.pop(offset)
            self._pending_bytes -= len(piece)
            tail = piece[len(self._data) - offset :]
            if tail:
                self._data += tail
        if self.full:
            self._pending.clear()
            self._pending_bytes = 0

    def _start_at(self, first_data_seq: int) -> None:
        """A SYN fixes where the stream starts."""
        if self._known_start:
            return  # a retransmitted SYN; a different one would be a new connection, which is the flow table's call
        base = self._base
        self._known_start = True
        if base is None or base == first_data_seq:
            self._base = first_data_seq
            return
        shift = (base - first_data_seq) & _MASK
        if shift <= self._max_bytes:
            self._rebase(first_data_seq, shift)
        else:  # the data seen before this SYN belonged to an earlier connection on the same ports
            self._base = first_data_seq
            self._data = b""
            self._pending.clear()
            self._pending_bytes = 0

    def _rebase(self, new_base: int, shift: int) -> None:
        """Move the start `shift` bytes earlier: everything held so far now follows a gap."""
        pieces = [(offset + shift, piece) for offset, piece in self._pending.items()]
        if self._data:
            pieces.append((shift, self._data))
        self._base = new_base
        self._data = b""
        self._pending = {}
        self._pending_bytes = 0
        for offset, piece in sorted(pieces):
            if offset < self._max_bytes:
                self._hold(offset, piece[: self._max_bytes - offset])
