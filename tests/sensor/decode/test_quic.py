"""QUIC Initial decryption and CRYPTO reassembly: RFC test vectors, then Initials protected by a small encoder here.

The encoder derives keys on its own (HMAC extract, HKDF-Expand-Label) so it checks the module rather than mirrors
it; it is itself checked by reproducing the RFC packets byte for byte.
"""

from __future__ import annotations

import pytest

from sensor.decode.quic import (
    MAX_CRYPTO_BYTES,
    QUIC_V1,
    QUIC_V2,
    CryptoAssembler,
    InitialPacket,
    is_quic_long_header_initial,
    parse_client_initials,
)
from tests.sensor.quic_encoder import (
    CLIENT_HELLO,
    DCID,
    RFC9001_A2_CLIENT_INITIAL,
    RFC9369_A2_CLIENT_INITIAL,
    crypto,
    hello_from,
    initial,
    padded,
    protect,
    varint,
)

# --- RFC vectors ---------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("datagram", "version"),
    [(RFC9001_A2_CLIENT_INITIAL, QUIC_V1), (RFC9369_A2_CLIENT_INITIAL, QUIC_V2)],
    ids=["v1", "v2"],
)
def test_when_the_rfc_client_initial_arrives_then_it_decrypts_to_the_client_hello(
    datagram: bytes, version: int
) -> None:
    assert is_quic_long_header_initial(datagram)

    packets = parse_client_initials(datagram)

    assert packets == [InitialPacket(version, DCID, b"", ((0, CLIENT_HELLO),))]
    hello = hello_from(datagram).client_hello()
    assert hello is not None
    assert hello.sni == "example.com"


@pytest.mark.parametrize(
    ("datagram", "version"),
    [(RFC9001_A2_CLIENT_INITIAL, QUIC_V1), (RFC9369_A2_CLIENT_INITIAL, QUIC_V2)],
    ids=["v1", "v2"],
)
def test_when_the_test_encoder_protects_the_rfc_plaintext_then_it_reproduces_the_rfc_packet(
    datagram: bytes, version: int
) -> None:
    assert protect(padded(crypto(0, CLIENT_HELLO)), version=version) == datagram


def test_when_given_a_memoryview_then_it_decrypts_the_same() -> None:
    assert parse_client_initials(memoryview(RFC9001_A2_CLIENT_INITIAL)) == parse_client_initials(
        RFC9001_A2_CLIENT_INITIAL
    )


# --- hot-path check ------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("datagram", "expected"),
    [
        (bytes.fromhex("c0 00000001 08") + DCID, True),  # v1 Initial
        (bytes.fromhex("c3 00000001 08") + DCID, True),  # v1 Initial, packet number length bits set
        (bytes.fromhex("d0 6b3343cf 08") + DCID, True),  # v2 Initial is type 0b01
        (bytes.fromhex("d0 00000001 08") + DCID, False),  # v1 0-RTT
        (bytes.fromhex("e0 00000001 08") + DCID, False),  # v1 Handshake
        (bytes.fromhex("f0 00000001 08") + DCID, False),  # v1 Retry
        (bytes.fromhex("c0 6b3343cf 08") + DCID, False),  # v2 Retry is type 0b00
        (bytes.fromhex("80 00000001 08") + DCID, False),  # fixed bit clear
        (bytes.fromhex("40 00000001 08") + DCID, False),  # short header
        (bytes.fromhex("c0 00000000 08") + DCID, False),  # version negotiation
        (bytes.fromhex("c0 ff00001d 08") + DCID, True),  # draft-29 (still seen from old clients)
        (b"\xc3Q046\x50" + DCID, False),  # gQUIC
        (bytes.fromhex("c0 00000001"), False),  # too short to hold a DCID length
        (b"", False),
    ],
)
def test_when_the_first_bytes_are_checked_then_only_known_version_initials_pass(
    datagram: bytes, expected: bool
) -> None:
    assert is_quic_long_header_initial(datagram) is expected
    assert is_quic_long_header_initial(memoryview(datagram)) is expected


# --- ClientHello spread over packets and frames --------------------------------------------------------------------


def test_when_the_client_hello_spans_three_initials_delivered_2_0_1_then_it_is_found_after_the_last() -> None:
    pieces = [(0, CLIENT_HELLO[:80]), (80, CLIENT_HELLO[80:160]), (160, CLIENT_HELLO[160:])]
    datagrams = [initial(crypto(offset, data), pn=pn) for pn, (offset, data) in enumerate(pieces)]
    assembler = CryptoAssembler()
    seen = []

    for index in (2, 0, 1):
        for packet in parse_client_initials(datagrams[index]):
            for offset, data in packet.crypto:
                assembler.add(offset, data)
        seen.append(assembler.client_hello())

    assert seen[:2] == [None, None]
    assert seen[2] is not None
    assert seen[2].sni == "example.com"


def test_when_frames_are_reordered_duplicated_and_overlapping_in_one_initial_then_the_hello_is_rebuilt() -> None:
    # Chromium's layout: CRYPTO frames shuffled, PING and PADDING between them.
    frames = (
        crypto(200, CLIENT_HELLO[200:])
        + b"\x01"
        + bytes(7)
        + crypto(20, CLIENT_HELLO[20:120])
        + crypto(0, CLIENT_HELLO[:30])
        + crypto(20, CLIENT_HELLO[20:120])
        + b"\x01\x01"
        + crypto(100, CLIENT_HELLO[100:210])
    )

    [packet] = parse_client_initials(initial(frames))

    assert [offset for offset, _ in packet.crypto] == [200, 20, 0, 20, 100]
    hello = hello_from(initial(frames)).client_hello()
    assert hello is not None
    assert hello.sni == "example.com"


def test_when_the_client_hello_is_cut_into_many_chunks_delivered_backwards_then_it_is_rebuilt() -> None:
    assembler = CryptoAssembler()
    for offset in reversed(range(0, len(CLIENT_HELLO), 6)):
        assert assembler.client_hello() is None
        assembler.add(offset, CLIENT_HELLO[offset : offset + 6])

    hello = assembler.client_hello()
    assert hello is not None
    assert hello.sni == "example.com"


@pytest.mark.parametrize(
    "segments",
    [
        [(0, CLIENT_HELLO[:100]), (50, CLIENT_HELLO[50:200]), (150, CLIENT_HELLO[150:])],  # overlaps
        [(100, CLIENT_HELLO[100:]), (100, CLIENT_HELLO[100:]), (0, CLIENT_HELLO[:100]), (0, CLIENT_HELLO[:100])],
        [(120, CLIENT_HELLO[120:130]), (120, CLIENT_HELLO[120:]), (0, CLIENT_HELLO[:120])],  # longer retransmission
        [(0, CLIENT_HELLO[:100]), (50, b"X" * 50 + CLIENT_HELLO[100:])],  # held bytes win over a conflicting copy
        [(0, CLIENT_HELLO + b"trailing bytes after the message")],
    ],
    ids=["overlap", "duplicates", "grown", "conflict", "trailing"],
)
def test_when_segments_overlap_or_repeat_then_the_hello_is_still_parsed(segments: list[tuple[int, bytes]]) -> None:
    assembler = CryptoAssembler()
    for offset, data in segments:
        assembler.add(offset, data)

    hello = assembler.client_hello()
    assert hello is not None
    assert hello.sni == "example.com"


@pytest.mark.parametrize(
    "segments",
    [
        [],
        [(0, CLIENT_HELLO[:-1])],  # last byte missing
        [(0, CLIENT_HELLO[:100]), (101, CLIENT_HELLO[101:])],  # one-byte gap
        [(1, CLIENT_HELLO[1:])],  # message header never seen
        [(0, CLIENT_HELLO[:3])],  # length not complete
    ],
    ids=["empty", "short", "gap", "no-start", "partial-length"],
)
def test_when_the_prefix_is_incomplete_then_no_hello_yet(segments: list[tuple[int, bytes]]) -> None:
    assembler = CryptoAssembler()
    for offset, data in segments:
        assembler.add(offset, data)

    assert assembler.client_hello() is None
    assert not assembler.failed


@pytest.mark.parametrize(
    "first_bytes",
    [b"\x02\x00\x00\x10", b"\x01\xff\xff\xff", b"\x01" + (MAX_CRYPTO_BYTES).to_bytes(3, "big")],
    ids=["server-hello", "16-mib", "over-cap"],
)
def test_when_the_stream_cannot_hold_a_client_hello_then_the_assembler_says_it_failed(first_bytes: bytes) -> None:
    assembler = CryptoAssembler()
    assembler.add(0, first_bytes + bytes(100))

    assert assembler.failed
    assert assembler.client_hello() is None


def test_when_data_lies_beyond_the_cap_then_it_is_not_kept() -> None:
    assembler = CryptoAssembler()
    assembler.add(MAX_CRYPTO_BYTES, b"x" * 10)
    assembler.add(-5, CLIENT_HELLO)
    assembler.add(MAX_CRYPTO_BYTES - 4, b"y" * 1000)
    for offset in range(1000, 30_000, 10):  # more out-of-order segments than are worth keeping
        assembler.add(offset, b"z")

    assembler.add(0, CLIENT_HELLO)

    hello = assembler.client_hello()
    assert hello is not None
    assert hello.sni == "example.com"


# --- frames --------------------------------------------------------------------------------------------------------

HELLO_HEAD = CLIENT_HELLO[:40]


@pytest.mark.parametrize(
    ("frames", "expected"),
    [
        (b"\x01" + crypto(0, HELLO_HEAD), [(0, HELLO_HEAD)]),  # PING
        (bytes.fromhex("02 05 00 02 01 09 0a 0b 0c") + crypto(0, HELLO_HEAD), [(0, HELLO_HEAD)]),  # ACK, 2 ranges
        (bytes.fromhex("03 05 00 00 01 05 06 07") + crypto(0, HELLO_HEAD), [(0, HELLO_HEAD)]),  # ACK_ECN counts
        (bytes.fromhex("03 4005 00 00 00 80000005 06 c000000000000007") + crypto(0, HELLO_HEAD), [(0, HELLO_HEAD)]),
        (bytes.fromhex("1c 0a 06 03") + b"bye" + crypto(0, HELLO_HEAD), [(0, HELLO_HEAD)]),  # CONNECTION_CLOSE
        (bytes.fromhex("1d 0a 02") + b"ok" + crypto(0, HELLO_HEAD), [(0, HELLO_HEAD)]),  # application close
        (crypto(0, b"ab") + bytes(300) + crypto(2, b"cd"), [(0, b"ab"), (2, b"cd")]),  # padding between
        (crypto(0, b"") + crypto(7, b"x"), [(0, b""), (7, b"x")]),
        (crypto(0, b"ab") + b"\x08\x00\x01z" + crypto(2, b"cd"), [(0, b"ab")]),  # STREAM: not in an Initial
        (crypto(0, b"ab") + bytes.fromhex("02 05 00 bfff 00") + crypto(2, b"cd"), [(0, b"ab")]),  # range count too big
        (crypto(0, b"ab") + bytes.fromhex("1c 0a 06 50ff") + b"bye", [(0, b"ab")]),  # reason runs past the payload
        (b"\x06\x00" + varint(5000) + b"abc", []),  # CRYPTO longer than the packet
        (b"\x06" + varint((1 << 62) - 2) + b"\x05hello", []),  # offset + length over 2^62 - 1
        (b"\x40\x06\x00\x02ab", []),  # frame type in a two-byte encoding
        (b"", []),
    ],
    ids=[
        "ping",
        "ack",
        "ack-ecn",
        "ack-ecn-wide-varints",
        "close",
        "close-app",
        "padding",
        "empty-crypto",
        "stream",
        "bad-ack",
        "bad-close",
        "long-crypto",
        "offset-overflow",
        "wide-type",
        "only-padding",
    ],
)
def test_when_an_initial_carries_frames_then_crypto_frames_are_collected_up_to_the_first_unknown_one(
    frames: bytes, expected: list[tuple[int, bytes]]
) -> None:
    [packet] = parse_client_initials(initial(frames))

    assert list(packet.crypto) == expected


# --- packets and datagrams -----------------------------------------------------------------------------------------


def test_when_the_packet_has_a_token_scid_and_one_byte_packet_number_then_it_decrypts() -> None:
    datagram = initial(crypto(0, CLIENT_HELLO), scid=b"\xaa" * 20, token=b"retry token" * 10, pn=7, pn_length=1)

    assert parse_client_initials(datagram) == [InitialPacket(QUIC_V1, DCID, b"\xaa" * 20, ((0, CLIENT_HELLO),))]


def test_when_packets_are_coalesced_then_every_client_initial_is_returned_and_others_skipped() -> None:
    first = protect(crypto(0, CLIENT_HELLO[:100]), pn=0)
    second = protect(crypto(100, CLIENT_HELLO[100:]), pn=1, version=QUIC_V1)
    handshake = bytes.fromhex("e0 00000001 08") + DCID + b"\x00" + varint(40, 2) + bytes(40)
    zero_rtt = bytes.fromhex("d0 00000001 08") + DCID + b"\x00" + varint(30, 2) + bytes(30)

    packets = parse_client_initials(first + handshake + second + zero_rtt + bytes(200))

    assert [packet.crypto[0][0] for packet in packets] == [0, 100]
    hello = hello_from(first + handshake + second).client_hello()
    assert hello is not None
    assert hello.sni == "example.com"


def test_when_a_retry_or_short_header_follows_then_the_walk_stops_there() -> None:
    retry = bytes.fromhex("f0 00000001 08") + DCID + b"\x00" + bytes(40)
    short = b"\x40" + DCID + bytes(40)
    trailing = initial(crypto(0, b"late"), pn=3)

    assert len(parse_client_initials(initial(crypto(0, b"a")) + retry + trailing)) == 1
    assert len(parse_client_initials(initial(crypto(0, b"a")) + short + trailing)) == 1


def test_when_a_server_initial_arrives_then_it_fails_authentication_and_yields_nothing() -> None:
    server = protect(
        padded(crypto(0, b"\x02\x00\x00\x04abcd"), 200), b"", scid=b"\xf0" * 8, keys_dcid=DCID, side=b"server in"
    )

    assert is_quic_long_header_initial(server)
    assert parse_client_initials(server) == []
    assert parse_client_initials(server, original_dcid=DCID) == []


def test_when_the_client_addresses_the_servers_id_then_the_original_dcid_opens_it() -> None:
    server_chosen = b"\x5e" * 8
    datagram = initial(crypto(0, CLIENT_HELLO), dcid=server_chosen, keys_dcid=DCID, pn=3)

    assert parse_client_initials(datagram) == []
    assert parse_client_initials(datagram, original_dcid=DCID) == [
        InitialPacket(QUIC_V1, server_chosen, b"", ((0, CLIENT_HELLO),))
    ]


def test_when_the_dcid_is_longer_than_20_bytes_then_the_packet_is_refused_even_if_it_would_decrypt() -> None:
    assert parse_client_initials(initial(crypto(0, CLIENT_HELLO), dcid=b"\x01" * 21)) == []
    assert len(parse_client_initials(initial(crypto(0, CLIENT_HELLO), dcid=b"\x01" * 20))) == 1


def _flipped(data: bytes, index: int) -> bytes:
    return data[:index] + bytes((data[index] ^ 0x01,)) + data[index + 1 :]


V1_PACKET = RFC9001_A2_CLIENT_INITIAL


@pytest.mark.parametrize(
    "datagram",
    [
        b"",
        b"\xc0",
        V1_PACKET[:7],
        V1_PACKET[:18],  # header ends before the packet number
        V1_PACKET[:40],  # too short for the header protection sample
        V1_PACKET[:-1],  # Length says more than is present
        _flipped(V1_PACKET, 30),  # ciphertext changed
        _flipped(V1_PACKET, 1199),  # tag changed
        _flipped(V1_PACKET, 19),  # protected packet number changed
        _flipped(V1_PACKET, 5),  # DCID changed: other keys
        V1_PACKET[:5] + b"\x15" + bytes(21) + V1_PACKET[14:],  # 21-byte DCID
        V1_PACKET[:15] + b"\xff" * 8 + V1_PACKET[23:],  # token length of 2^62 - 1
        V1_PACKET[:16] + b"\x7f\xff" + V1_PACKET[18:],  # Length 16383
        bytes.fromhex("c0 00000001 08") + DCID + b"\x00\x00\x40\x14" + bytes(20),  # zeros that do not authenticate
        bytes.fromhex("c0 ff00001d 08") + V1_PACKET[6:],  # v1 bytes labelled draft-29: other salt, no auth
    ],
    ids=[
        "empty",
        "one-byte",
        "7-bytes",
        "header-only",
        "no-sample",
        "cut",
        "ciphertext",
        "tag",
        "packet-number",
        "dcid",
        "long-dcid",
        "huge-token",
        "long-length",
        "zeros",
        "draft-29",
    ],
)
def test_when_a_datagram_is_damaged_or_foreign_then_no_initial_is_returned(datagram: bytes) -> None:
    assert parse_client_initials(datagram) == []
