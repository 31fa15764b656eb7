"""DNS: question names, question-to-address pairs through CNAME chains, ECH hints, and hostile compression."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.decode.dns import DnsMessage, parse_dns, split_tcp_dns

QUESTION_AT = 12  # the first question name follows the fixed header
A, CNAME, AAAA, HTTPS = 1, 5, 28, 65


def name(text: str) -> bytes:
    return b"".join(bytes([len(label)]) + label.encode() for label in text.split(".") if label) + b"\x00"


def pointer(offset: int, prefix: str = "") -> bytes:
    return name(prefix)[:-1] + struct.pack(">H", 0xC000 | offset)


def header(flags: int = 0x8180, questions: int = 1, answers: int = 0) -> bytes:
    return struct.pack(">HHHHHH", 0x1234, flags, questions, answers, 0, 0)


def question(wire_name: bytes, qtype: int = A) -> bytes:
    return wire_name + struct.pack(">HH", qtype, 1)


def record(owner: bytes, rtype: int, rdata: bytes, rclass: int = 1) -> bytes:
    return owner + struct.pack(">HHIH", rtype, rclass, 300, len(rdata)) + rdata


def svc_params(*params: tuple[int, bytes]) -> bytes:
    return b"".join(struct.pack(">HH", key, len(value)) + value for key, value in params)


IPV4 = bytes([104, 18, 32, 47])
IPV6 = bytes.fromhex("26064700000000000000000068122f2f")

# chatgpt.com CNAME cdn.example.net (partly compressed) CNAME edge.example.net; edge has A and AAAA.
CDN_AT = QUESTION_AT + len(name("chatgpt.com")) + 4 + 2 + 10  # rdata of the first CNAME
CHAIN = (
    header(answers=4)
    + question(name("ChatGPT.com"))
    + record(pointer(QUESTION_AT), CNAME, name("cdn.example.net"))
    + record(pointer(CDN_AT), CNAME, pointer(CDN_AT + 4, "edge"))
    + record(pointer(CDN_AT + 4, "edge"), A, IPV4)
    + record(name("edge.example.net"), AAAA, IPV6)
)


def test_when_a_query_is_parsed_then_its_names_are_lower_case_without_dot() -> None:
    query = header(flags=0x0100, questions=2) + question(name("WWW.Example.COM.")) + question(name("claude.ai"), AAAA)

    assert parse_dns(query) == DnsMessage(False, ("www.example.com", "claude.ai"), (), 0)


def test_when_a_response_has_addresses_then_the_question_maps_to_them() -> None:
    response = header(answers=2) + question(name("claude.ai")) + record(pointer(12), A, IPV4)
    response += record(pointer(12), AAAA, IPV6)

    message = parse_dns(memoryview(response))

    assert message == DnsMessage(
        True, ("claude.ai",), (("claude.ai", "104.18.32.47"), ("claude.ai", "2606:4700::6812:2f2f")), 0
    )


def test_when_a_cname_chain_leads_to_addresses_then_the_question_name_is_paired_with_them() -> None:
    message = parse_dns(CHAIN)

    assert message is not None
    assert message.questions == ("chatgpt.com",)
    assert message.answers == (("chatgpt.com", "104.18.32.47"), ("chatgpt.com", "2606:4700::6812:2f2f"))


def test_when_cnames_form_a_loop_then_the_walk_ends() -> None:
    response = header(answers=3) + question(name("a.example"))
    response += record(name("a.example"), CNAME, name("b.example"))
    response += record(name("b.example"), CNAME, name("a.example"))
    response += record(name("b.example"), A, IPV4)

    message = parse_dns(response)

    assert message is not None
    assert message.answers == (("a.example", "104.18.32.47"),)


def test_when_no_question_is_asked_then_owners_are_paired_with_their_addresses() -> None:
    announcement = header(flags=0x8400, questions=0, answers=1) + record(name("printer.local"), A, IPV4, rclass=0x8001)

    message = parse_dns(announcement)

    assert message is not None
    assert message.answers == (("printer.local", "104.18.32.47"),)


@pytest.mark.parametrize(
    ("answers", "expected"),
    [
        (record(pointer(12), A, IPV4 + b"\x00"), ()),  # wrong address length
        (record(pointer(12), A, IPV4, rclass=3), ()),  # CHAOS class
        (record(pointer(12), 16, b"\x04text") + record(pointer(12), A, IPV4), (("x.example", "104.18.32.47"),)),
        (record(name("other.example"), A, IPV4), ()),  # not reachable from the question
    ],
    ids=["bad-length", "chaos", "after-txt", "unrelated"],
)
def test_when_answers_are_unusable_or_mixed_then_only_usable_addresses_are_kept(
    answers: bytes, expected: tuple[tuple[str, str], ...]
) -> None:
    count = answers.count(struct.pack(">I", 300))
    message = parse_dns(header(answers=count) + question(name("x.example")) + answers)

    assert message is not None
    assert message.answers == expected


def test_when_a_query_carries_known_answers_then_they_are_not_used() -> None:
    query = header(flags=0x0000, answers=1) + question(name("x.example")) + record(pointer(12), A, IPV4)

    assert parse_dns(query) == DnsMessage(False, ("x.example",), (), 0)


def test_when_the_name_does_not_exist_then_the_rcode_says_so() -> None:
    assert parse_dns(header(flags=0x8183) + question(name("nope.example"))) == DnsMessage(
        True, ("nope.example",), (), 3
    )


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        (svc_params((1, b"\x02h2"), (4, IPV4), (5, b"\x00\x04ECH!"), (6, IPV6)), True),
        (svc_params((1, b"\x02h2"), (4, IPV4), (6, IPV6)), False),
        (svc_params((6, IPV6), (5, b"\x00")), False),  # keys out of order: malformed
        (svc_params((5, b"\x00\x04ECH!"))[:-2], False),  # the ech value runs past the record
        (b"", False),  # AliasMode
    ],
)
def test_when_an_https_record_is_read_then_an_ech_config_is_noticed(params: bytes, expected: bool) -> None:
    rdata = b"\x00\x01" + b"\x00" + params  # priority 1, target "."
    response = header(answers=1) + question(name("cloudflare-ech.com"), HTTPS) + record(pointer(12), HTTPS, rdata)

    message = parse_dns(response)

    assert message is not None
    assert message.has_ech_config is expected


@pytest.mark.parametrize(
    ("wire_name", "expected"),
    [
        (b"\x07dot.com\x00", ()),  # a dot inside a label
        (b"\x08two word\x00", ()),
        (b"\x05caf\xc3\xa9\x00", ()),
        (b"\x00", ("",)),  # the root
        (name("_sip._udp.example.com"), ("_sip._udp.example.com",)),
    ],
)
def test_when_a_name_holds_odd_bytes_then_it_is_left_out(wire_name: bytes, expected: tuple[str, ...]) -> None:
    message = parse_dns(header(flags=0x0100) + question(wire_name))

    assert message is not None
    assert message.questions == expected


@pytest.mark.parametrize(
    "packet",
    [
        b"",
        header()[:11],
        header(flags=0x2800) + question(name("zone.example")),  # UPDATE
        header(questions=17) + question(name("x.example")) * 17,
        header() + question(pointer(12)),  # a pointer to itself
        header() + b"\xc0\x0e\xc0\x0c" + b"\x00\x01\x00\x01",  # two pointers to each other
        header() + question(name("a" * 63 + "." + "b" * 63 + "." + "c" * 63 + "." + "d" * 63)),  # 257 bytes
        header() + b"\x40abc\x00\x00\x01\x00\x01",  # extended label type
        header() + question(name("x.example"))[:-1],
        header() + b"\xc0",
    ],
    ids=["empty", "short-header", "update", "many-questions", "self-pointer", "pointer-loop", "long-name",
         "label-type", "cut-question", "cut-pointer"],
)  # fmt: skip
def test_when_the_header_or_questions_are_malformed_then_none_is_returned(packet: bytes) -> None:
    assert parse_dns(packet) is None


def test_when_a_response_is_cut_anywhere_then_the_answers_read_are_a_prefix_of_the_full_ones() -> None:
    full = parse_dns(CHAIN)
    assert full is not None
    question_end = QUESTION_AT + len(name("chatgpt.com")) + 4

    for end in range(len(CHAIN)):
        message = parse_dns(CHAIN[:end])
        if end < question_end:
            assert message is None
        else:
            assert message is not None
            assert message.questions == full.questions
            assert full.answers[: len(message.answers)] == message.answers


def test_when_tcp_carries_length_prefixed_messages_then_complete_ones_are_split_off() -> None:
    first, second = header(flags=0x0100) + question(name("a.example")), CHAIN
    stream = struct.pack(">H", len(first)) + first + b"\x00\x00" + struct.pack(">H", len(second)) + second
    stream += struct.pack(">H", 40) + b"partial"

    messages, used = split_tcp_dns(memoryview(stream))

    assert messages == [first, second]
    assert used == len(stream) - 2 - len(b"partial")


@pytest.mark.parametrize("stream", [b"", b"\x00", b"\x00\x05abc"])
def test_when_no_tcp_message_is_complete_then_nothing_is_consumed(stream: bytes) -> None:
    assert split_tcp_dns(stream) == ([], 0)


@settings(derandomize=True, database=None, max_examples=300)
@given(st.binary(max_size=300), st.integers(min_value=0, max_value=len(CHAIN)))
def test_when_bytes_are_garbage_or_damaged_then_the_parser_returns_without_raising(noise: bytes, cut: int) -> None:
    for candidate in (noise, header() + noise, CHAIN[:cut] + noise):
        message = parse_dns(candidate)
        assert message is None or isinstance(message, DnsMessage)
    split_tcp_dns(noise)


@pytest.mark.parametrize(("decoys", "kept"), [(5, True), (20, False)])
def test_when_names_cost_too_many_steps_then_the_remaining_answers_are_dropped(decoys: int, kept: bool) -> None:
    long_name = name(".".join(["a"] * 127))  # 255 bytes on the wire, the longest a name may be
    response = header(answers=decoys + 1) + question(long_name)
    for index in range(1, decoys + 1):  # each owner is a different suffix of the long name, decoded label by label
        response += record(pointer(QUESTION_AT + 2 * index), CNAME, pointer(QUESTION_AT))
    response += record(long_name, A, IPV4)  # written out, so it must be decoded again

    message = parse_dns(response)

    assert message is not None
    assert bool(message.answers) is kept
