"""Google QUIC client hellos: the plaintext CHLO of Q043/Q046, and Q050's inside IETF-style protected Initials."""

from __future__ import annotations

import struct

import pytest

from sensor.decode.gquic import gquic_sni
from tests.sensor.quic_encoder import DCID, RFC9001_A2_CLIENT_INITIAL, hello_from, initial, varint


def chlo(tags: list[tuple[bytes, bytes]]) -> bytes:
    table, values, end = b"", b"", 0
    for tag, value in tags:
        end += len(value)
        table += tag + struct.pack("<I", end)
        values += value
    return b"CHLO" + struct.pack("<HH", len(tags), 0) + table + values


CHLO_TAGS = [(b"PAD\x00", b"-" * 40), (b"SNI\x00", b"www.example.org"), (b"VER\x00", b"Q046")]
MESSAGE_HASH = bytes(range(12))


def q046(message: bytes, version: bytes = b"Q046") -> bytes:
    return b"\xc3" + version + b"\x50" + DCID + b"\x00\x00\x00\x01" + MESSAGE_HASH + b"\xa0\x01\x04\x00" + message


def q043(message: bytes) -> bytes:
    return b"\x09" + DCID + b"Q043" + b"\x01" + MESSAGE_HASH + b"\xa0\x01\x04\x00" + message


@pytest.mark.parametrize(
    ("datagram", "expected"),
    [
        (q046(chlo(CHLO_TAGS)), "www.example.org"),
        (q043(chlo(CHLO_TAGS)), "www.example.org"),
        (q046(chlo(CHLO_TAGS), b"Q050"), None),  # CHLO encrypted in Q050 and later: not parsed
        (q046(chlo(CHLO_TAGS), b"T051"), None),
        (q046(chlo([(b"PAD\x00", b"-" * 40), (b"VER\x00", b"Q046")])), None),  # no SNI tag
        (q046(chlo(CHLO_TAGS))[:-30], None),  # values cut off
        (q046(chlo([(b"SNI\x00", b"caf\xc3\xa9.example")])), None),  # not ASCII
        (q046(b"CHLO\xff\xff\x00\x00" + bytes(64)), None),  # tag count beyond the bytes present
        (q046(b"CHLO\x0a\x00\x00\x00SNI\x00\x04"), None),  # tag table cut short
        (q046(b"CHLO\x02\x00\x00\x00PAD\x00\x10\x00\x00\x00SNI\x00\x08\x00\x00\x00" + bytes(16)), None),
        (q046(b"no handshake message here"), None),
        (RFC9001_A2_CLIENT_INITIAL, None),
        (b"\x09" + DCID, None),
    ],
    ids=[
        "q046",
        "q043",
        "q050",
        "t051",
        "no-sni",
        "cut",
        "non-ascii",
        "tag-count",
        "table-cut",
        "offsets-backwards",
        "no-chlo",
        "ietf-quic",
        "short",
    ],
)
def test_when_a_gquic_chlo_is_read_then_the_plaintext_sni_tag_is_returned(
    datagram: bytes, expected: str | None
) -> None:
    assert gquic_sni(datagram) == expected


def test_when_gquic_q050_sends_its_chlo_in_protected_initials_then_the_sni_is_found_across_packets() -> None:
    message = chlo(CHLO_TAGS)
    first, second = message[:20], message[20:]
    # Q050 frames its handshake message in type 0x08 frames shaped like CRYPTO frames, over two Initials.
    packets = [
        initial(b"\x08" + varint(20) + varint(len(second)) + second, version=0x51303530),
        initial(b"\x08" + varint(0) + varint(len(first)) + first, version=0x51303530),
    ]

    assembler = hello_from(*packets)

    hello = assembler.client_hello()
    assert hello is not None
    assert hello.sni == "www.example.org"
