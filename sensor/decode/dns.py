"""DNS messages: the names clients look up and, in responses, the addresses those names lead to.

A response maps each question name to the A/AAAA addresses at the end of its CNAME chain, which is what lets the
sensor name a later connection to one of those addresses. Name compression is followed within bounds on pointer
hops, name length and decoding steps per message, so pointer loops and pointer-heavy messages cost little. A
response cut short keeps the answers read before the cut; a header or question section that does not parse makes
the whole message None.
"""

from __future__ import annotations

import socket
from dataclasses import dataclass
from struct import unpack_from

TYPE_A, TYPE_CNAME, TYPE_AAAA, TYPE_SVCB, TYPE_HTTPS = 1, 5, 28, 64, 65
SVC_PARAM_ECH = 5
CLASS_IN = 1

_MAX_QUESTIONS = 16  # real queries carry one
_MAX_ANSWERS = 256
_MAX_POINTER_HOPS = 16
_MAX_NAME_WIRE = 255  # RFC 1035 section 3.1
_MAX_CHAIN = 16
# Labels and pointer hops one message may cost: ~100 for a real response, while a hostile one built of pointers
# into 127-label names could otherwise cost tens of thousands.
_NAME_STEPS = 2048
_ADDRESS_FAMILIES = {(TYPE_A, 4): socket.AF_INET, (TYPE_AAAA, 16): socket.AF_INET6}
_NAME_BYTES = bytes(range(0x21, 0x7F))  # printable ASCII without space


@dataclass(frozen=True, slots=True)
class DnsMessage:
    is_response: bool
    questions: tuple[str, ...]  # lower-cased, no trailing dot; the root is ""
    answers: tuple[tuple[str, str], ...]  # (question name, address text) through CNAME chains; responses only
    rcode: int
    has_ech_config: bool = False  # an HTTPS/SVCB answer carries an `ech` SvcParam: the client may hide its SNI


@dataclass(slots=True)
class _Answers:
    addresses: dict[str, list[str]]  # owner name -> A/AAAA addresses, in record order
    cnames: dict[str, str]
    has_ech_config: bool = False


def parse_dns(payload: bytes | memoryview) -> DnsMessage | None:
    """Parse one DNS message (a UDP payload or a message of a TCP stream); None if it is no usable query or response."""
    buf = bytes(payload)
    if len(buf) < 12:
        return None
    flags, question_count, answer_count = unpack_from(">2xHHH", buf, 0)
    if (flags >> 11) & 0xF or question_count > _MAX_QUESTIONS:  # opcode other than QUERY: zones, not lookups
        return None
    is_response = bool(flags & 0x8000)
    questions: list[str] = []
    names = _Names(buf)
    pos = 12
    for _ in range(question_count):
        name, pos = names.read(pos)
        if pos < 0 or pos + 4 > len(buf):
            return None
        pos += 4  # type, class
        if name is not None:
            questions.append(name)
    unique = tuple(dict.fromkeys(questions))
    if not is_response:
        return DnsMessage(False, unique, (), flags & 0xF)
    found = _read_answers(names, pos, min(answer_count, _MAX_ANSWERS))
    return DnsMessage(True, unique, _resolve(unique, found), flags & 0xF, found.has_ech_config)


def split_tcp_dns(stream: bytes | memoryview) -> tuple[list[bytes], int]:
    """Complete messages of a DNS-over-TCP byte stream (RFC 1035 4.2.2 length prefixes) and the bytes they used."""
    view = memoryview(stream)
    messages: list[bytes] = []
    pos = 0
    while pos + 2 <= len(view):
        end = pos + 2 + unpack_from(">H", view, pos)[0]
        if end > len(view):
            break
        if end > pos + 2:
            messages.append(bytes(view[pos + 2 : end]))
        pos = end
    return messages, pos


class _Names:
    """Decodes the names of one message within a budget of steps; a name that is just a pointer is decoded once."""

    __slots__ = ("_budget", "_by_target", "buf")

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self._budget = _NAME_STEPS
        self._by_target: dict[int, str | None] = {}

    def at(self, pos: int) -> str | None:
        buf = self.buf
        if pos + 1 >= len(buf) or buf[pos] < 0xC0:
            return self.read(pos)[0]
        target = ((buf[pos] & 0x3F) << 8) | buf[pos + 1]
        if target not in self._by_target:
            self._by_target[target] = self.read(target)[0]
        return self._by_target[target]

    def read(self, pos: int) -> tuple[str | None, int]:
        """(name, offset after it); the name is None if it holds bytes no host name has, the offset -1 if malformed."""
        buf, size, budget = self.buf, len(self.buf), self._budget
        labels: list[bytes] = []
        resume = -1  # where the record continues once the first pointer has been followed
        wire_length = 1
        hops = 0
        complete = False
        while pos < size and budget > 0:
            budget -= 1
            length = buf[pos]
            if length == 0:
                complete = True
                break
            if length >= 0xC0:
                if pos + 1 >= size or hops == _MAX_POINTER_HOPS:
                    break
                if resume < 0:
                    resume = pos + 2
                pos = ((length & 0x3F) << 8) | buf[pos + 1]
                hops += 1
                continue
            wire_length += 1 + length
            end = pos + 1 + length
            if length > 63 or wire_length > _MAX_NAME_WIRE or end > size:
                break  # 0x40 and 0x80 are obsolete extended label types
            labels.append(buf[pos + 1 : end])
            pos = end
        self._budget = budget
        if not complete:
            return None, -1
        return _decode(labels), resume if resume >= 0 else pos + 1


def _decode(labels: list[bytes]) -> str | None:
    name = b".".join(labels)
    # A dot inside a label would make two names look alike.
    if name.translate(None, _NAME_BYTES) or name.count(b".") > max(len(labels) - 1, 0):
        return None
    return name.decode("ascii").lower()


def _read_answers(names: _Names, pos: int, count: int) -> _Answers:
    buf = names.buf
    found = _Answers({}, {})
    for _ in range(count):
        owner_at = pos
        pos = _skip_name(buf, pos)
        if pos < 0 or pos + 10 > len(buf):
            break
        record_type, record_class, rdata_length = unpack_from(">HH4xH", buf, pos)
        start = pos + 10
        pos = start + rdata_length
        if pos > len(buf):
            break
        if record_class & 0x7FFF != CLASS_IN:  # mDNS sets the top bit (cache flush)
            continue
        if record_type == TYPE_CNAME:
            owner, target = names.at(owner_at), names.at(start)
            if owner is not None and target is not None:
                found.cnames.setdefault(owner, target)
        elif (record_type, rdata_length) in _ADDRESS_FAMILIES:
            owner = names.at(owner_at)
            if owner is not None:
                address = socket.inet_ntop(_ADDRESS_FAMILIES[record_type, rdata_length], buf[start:pos])
                found.addresses.setdefault(owner, []).append(address)
        elif record_type in (TYPE_HTTPS, TYPE_SVCB) and not found.has_ech_config:
            found.has_ech_config = _svcb_has_ech(buf, start, pos)
    return found


def _skip_name(buf: bytes, pos: int) -> int:
    """Offset after the name at pos without decoding it (pointers end a name in place), or -1."""
    size = len(buf)
    while pos < size:
        length = buf[pos]
        if length == 0:
            return pos + 1
        if length >= 0xC0:
            return pos + 2 if pos + 2 <= size else -1
        if length > 63:
            return -1
        pos += 1 + length
    return -1


def _svcb_has_ech(buf: bytes, pos: int, end: int) -> bool:
    """Whether SVCB/HTTPS RDATA (RFC 9460: priority, uncompressed target name, SvcParams) has an `ech` key."""
    pos += 2
    while pos < end and buf[pos]:  # target name labels
        pos += 1 + buf[pos]
    pos += 1
    previous_key = -1
    while pos + 4 <= end:
        key: int
        length: int
        key, length = unpack_from(">HH", buf, pos)
        # Keys are in strictly increasing order, so the walk ends by key 5 at the latest.
        if key == SVC_PARAM_ECH:
            return pos + 4 + length <= end
        if key <= previous_key or key > SVC_PARAM_ECH:
            return False
        previous_key = key
        pos += 4 + length
    return False


def _resolve(questions: tuple[str, ...], found: _Answers) -> tuple[tuple[str, str], ...]:
    """Pair each question with the addresses along its CNAME chain; with no question (mDNS), each owner with its own."""
    if not questions:
        return tuple((owner, address) for owner, addresses in found.addresses.items() for address in addresses)
    pairs: list[tuple[str, str]] = []
    for question in questions:
        name: str | None = question
        seen: set[str] = set()
        for _ in range(_MAX_CHAIN):
            if name is None or name in seen:
                break
            seen.add(name)
            pairs.extend((question, address) for address in found.addresses.get(name, ()))
            name = found.cnames.get(name)
    return tuple(pairs)
