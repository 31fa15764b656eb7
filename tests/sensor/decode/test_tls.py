"""TLS ClientHello: names, ALPN and ECH markers from one handshake message or from records split anywhere."""

from __future__ import annotations

import struct

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.decode.tls import (
    ClientHello,
    TlsParse,
    looks_like_tls_client_hello,
    parse_client_hello_handshake,
    parse_client_hello_records,
)

# RFC 9001 Appendix A.2: the ClientHello inside the client Initial's CRYPTO frame (SNI example.com, ALPN "alpn").
RFC9001_CLIENT_HELLO = bytes.fromhex(
    "010000ed0303ebf8fa56f12939b9584a3896472ec40bb863cfd3e868"
    "04fe3a47f06a2b69484c00000413011302010000c000000010000e00000b6578"
    "616d706c652e636f6dff01000100000a00080006001d00170018001000070005"
    "04616c706e000500050100000000003300260024001d00209370b2c9caa47fba"
    "baf4559fedba753de171fa71f50f1ce15d43e994ec74d748002b000302030400"
    "0d0010000e0403050306030203080408050806002d00020101001c0002400100"
    "3900320408ffffffffffffffff05048000ffff07048000ffff08011001048000"
    "75300901100f088394c8f03e51570806048000ffff"
)


def extension(extension_type: int, body: bytes) -> bytes:
    return struct.pack(">HH", extension_type, len(body)) + body


def server_name(*names: bytes, name_type: int = 0) -> bytes:
    entries = b"".join(struct.pack(">BH", name_type, len(name)) + name for name in names)
    return extension(0x0000, struct.pack(">H", len(entries)) + entries)


def alpn(*protocols: bytes) -> bytes:
    entries = b"".join(bytes([len(protocol)]) + protocol for protocol in protocols)
    return extension(0x0010, struct.pack(">H", len(entries)) + entries)


def client_hello(*extensions: bytes, version: int = 0x0303, session_id: bytes = b"\x11" * 32) -> bytes:
    """A ClientHello handshake message (type, 3-byte length, body)."""
    body = struct.pack(">H", version) + b"\x42" * 32 + bytes([len(session_id)]) + session_id
    body += b"\x00\x04\x13\x01\x13\x02" + b"\x01\x00"  # two cipher suites, null compression
    if extensions:
        joined = b"".join(extensions)
        body += struct.pack(">H", len(joined)) + joined
    return b"\x01" + len(body).to_bytes(3, "big") + body


def records(message: bytes, *sizes: int, version: int = 0x0301) -> bytes:
    """The message cut into handshake records of the given fragment sizes; the rest goes in a last record."""
    out, position = [], 0
    for size in (*sizes, len(message)):
        fragment = message[position : position + size]
        if fragment:
            out.append(struct.pack(">BHH", 22, version, len(fragment)) + fragment)
        position += size
    return b"".join(out)


CHROME_LIKE = client_hello(
    extension(0x0A0A, b""),  # GREASE
    server_name(b"chatgpt.com"),
    alpn(b"h2", b"http/1.1"),
    extension(0x0033, b"\x00" * 1200),  # a post-quantum key share makes the hello bigger than one segment
    extension(0x001B, b"\x02\x00\x02"),
)


def test_when_the_rfc9001_client_hello_is_parsed_then_its_name_and_alpn_are_found() -> None:
    assert parse_client_hello_handshake(RFC9001_CLIENT_HELLO) == ClientHello(
        sni="example.com", has_ech=False, has_esni=False, alpn=("alpn",), version=0x0303
    )


def test_when_a_memoryview_is_given_then_it_parses_like_bytes() -> None:
    assert parse_client_hello_handshake(memoryview(RFC9001_CLIENT_HELLO)) == parse_client_hello_handshake(
        RFC9001_CLIENT_HELLO
    )


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (b"ChatGPT.com", "chatgpt.com"),
        (b"claude.ai.", "claude.ai"),
        (b"104.236.167.107", "104.236.167.107"),  # IP literals are passed on; the caller decides
        (b"server4:443", "server4:443"),
        (b"xn--bcher-kva.example", "xn--bcher-kva.example"),
        (b"caf\xc3\xa9.example", None),
        (b"bad name.example", None),
        (b"nul\x00.example", None),
        (b"tab\t.example", None),
        (b"", None),
        (b".", None),
        (b"a" * 256, None),
    ],
)
def test_when_the_server_name_is_read_then_it_is_normalised_or_refused(raw: bytes, expected: str | None) -> None:
    hello = parse_client_hello_handshake(client_hello(server_name(raw)))

    assert hello is not None
    assert hello.sni == expected


def test_when_the_first_entry_is_not_a_host_name_then_the_first_host_name_is_used() -> None:
    entries = struct.pack(">BH", 7, 3) + b"odd" + struct.pack(">BH", 0, 9) + b"first.com"
    entries += struct.pack(">BH", 0, 10) + b"second.com"
    hello = parse_client_hello_handshake(client_hello(extension(0, struct.pack(">H", len(entries)) + entries)))

    assert hello is not None
    assert hello.sni == "first.com"


@pytest.mark.parametrize(
    ("extensions", "has_ech", "has_esni"),
    [
        ((server_name(b"cloudflare-ech.com"), extension(0xFE0D, b"\x00" * 40)), True, False),
        ((extension(0xFFCE, b"\x00" * 40),), False, True),
        ((server_name(b"plain.example"),), False, False),
    ],
)
def test_when_ech_or_esni_is_offered_then_it_is_flagged(
    extensions: tuple[bytes, ...], has_ech: bool, has_esni: bool
) -> None:
    hello = parse_client_hello_handshake(client_hello(*extensions))

    assert hello is not None
    assert (hello.has_ech, hello.has_esni) == (has_ech, has_esni)


def test_when_an_old_client_sends_no_extensions_then_the_hello_has_no_name() -> None:
    assert parse_client_hello_handshake(client_hello(version=0x0300)) == ClientHello(None, False, False, (), 0x0300)


def test_when_bytes_follow_the_message_then_they_are_ignored() -> None:
    assert parse_client_hello_handshake(RFC9001_CLIENT_HELLO + b"\x02\x00\x00\x00") is not None


@pytest.mark.parametrize(
    ("inner", "expected_sni", "expected_alpn"),
    [
        (extension(0, b"\x00\x10\x00\x00\x03abc"), None, ()),  # list length past the extension
        (extension(0, b"\x00\x06\x00\x00\x09abc"), None, ()),  # name length past the list
        (extension(0x10, b"\x00\x04\x00h2x"), None, ()),  # zero-length protocol name
        (extension(0x10, b"\x00\x09\x02h2"), None, ()),  # list length past the extension
    ],
)
def test_when_an_extension_body_is_malformed_then_only_that_field_is_lost(
    inner: bytes, expected_sni: str | None, expected_alpn: tuple[str, ...]
) -> None:
    hello = parse_client_hello_handshake(client_hello(inner, extension(0xFE0D, b"")))

    assert hello is not None
    assert (hello.sni, hello.alpn, hello.has_ech) == (expected_sni, expected_alpn, True)


def _with_body_byte(message: bytes, index: int, value: int) -> bytes:
    return message[:index] + bytes([value]) + message[index + 1 :]


@pytest.mark.parametrize(
    "message",
    [
        b"",
        b"\x01\x00\x00",
        b"\x02" + RFC9001_CLIENT_HELLO[1:],  # ServerHello
        client_hello(version=0x0200),
        client_hello(session_id=b"\x00" * 33),
        _with_body_byte(client_hello(server_name(b"a.com")), 72, 3),  # odd cipher suites length
        client_hello(server_name(b"a.com"))[:-1],  # cut: length says one more byte
        client_hello(struct.pack(">HH", 0, 200) + b"\x00\x03"),  # extension longer than the block
        client_hello(b"\x00"),  # a stray byte after the last extension
    ],
    ids=[
        "empty",
        "short-header",
        "server-hello",
        "version",
        "session-id",
        "cipher-suites",
        "cut",
        "ext-length",
        "stray",
    ],
)
def test_when_the_message_is_malformed_then_none_is_returned(message: bytes) -> None:
    assert parse_client_hello_handshake(message) is None


def test_when_any_prefix_of_a_client_hello_is_given_then_none_is_returned() -> None:
    for end in range(len(RFC9001_CLIENT_HELLO)):
        assert parse_client_hello_handshake(RFC9001_CLIENT_HELLO[:end]) is None


@pytest.mark.parametrize(
    "stream",
    [
        records(CHROME_LIKE),
        records(CHROME_LIKE, 300, 300, 300),  # a small MTU
        records(CHROME_LIKE, 1),  # the handshake header itself split
        records(CHROME_LIKE, 2, 1, 5, 40),  # DPI-evasion record fragmentation
        records(CHROME_LIKE, version=0x0303),
        records(CHROME_LIKE) + b"\x14\x03\x03\x00\x01\x01",  # later records are not looked at
    ],
    ids=["one-record", "mtu", "split-header", "evasion", "tls12-record", "trailing"],
)
def test_when_records_carry_a_client_hello_then_it_is_reassembled(stream: bytes) -> None:
    hello = parse_client_hello_records(stream)

    assert isinstance(hello, ClientHello)
    assert (hello.sni, hello.alpn) == ("chatgpt.com", ("h2", "http/1.1"))


@pytest.mark.parametrize("stream", [records(CHROME_LIKE), records(CHROME_LIKE, 1, 2, 700)], ids=["one", "split"])
def test_when_only_a_prefix_has_arrived_then_more_is_needed(stream: bytes) -> None:
    for end in range(len(stream)):
        assert parse_client_hello_records(memoryview(stream)[:end]) is TlsParse.NEED_MORE


@pytest.mark.parametrize(
    "stream",
    [
        b"GET / HTTP/1.1\r\n",
        b"\x17\x03\x03\x00\x10" + b"\x00" * 16,  # application data
        b"\x16\x03\x05\x00\x10",  # record version
        b"\x16\x03\x01\x00\x00",  # empty handshake record
        b"\x16\x03\x01\x48\x01",  # record longer than TLS allows
        b"\x16\x03\x01\x00\x04\x02\x00\x00\x00",  # ServerHello
        b"\x16\x03\x01\x00\x04\x01\x01\x00\x00",  # a 64 KiB ClientHello
        records(CHROME_LIKE, 100)[:105] + b"\x17" + records(CHROME_LIKE, 100)[106:],  # another type mid-message
        records(client_hello(b"\x00")),  # complete but malformed
        b"\x16\x02",
        b"\x16\x03\x09",
        b"\x00",
    ],
    ids=[
        "http",
        "app-data",
        "version",
        "empty",
        "too-long",
        "server-hello",
        "too-big",
        "interleaved",
        "malformed",
        "prefix-major",
        "prefix-minor",
        "prefix-type",
    ],
)
def test_when_the_stream_cannot_start_a_client_hello_then_it_is_not_tls(stream: bytes) -> None:
    assert parse_client_hello_records(stream) is TlsParse.NOT_TLS


def test_when_a_hello_is_cut_into_too_many_records_then_it_is_given_up() -> None:
    stream = records(CHROME_LIKE, *([1] * 600))

    assert parse_client_hello_records(stream) is TlsParse.NOT_TLS


@pytest.mark.parametrize(
    ("first_bytes", "expected"),
    [
        (records(CHROME_LIKE)[:6], True),
        (records(CHROME_LIKE), True),
        (b"\x16", True),  # a client may send its first byte alone
        (b"\x16\x03\x01", True),
        (b"\x16\x03\x01\x00\x01", True),
        (b"", False),
        (b"\x17\x03\x03\x00\x10\x01", False),
        (b"\x16\x02", False),
        (b"\x16\x03\x05", False),
        (b"\x16\x03\x01\x00\x00", False),
        (b"\x16\x03\x01\x50\x00", False),
        (b"\x16\x03\x01\x00\x10\x02", False),
        (b"GET / HTTP/1.1", False),
    ],
)
def test_when_first_bytes_are_checked_then_only_plausible_hellos_pass(first_bytes: bytes, expected: bool) -> None:
    assert looks_like_tls_client_hello(first_bytes) is expected


@settings(derandomize=True, database=None, max_examples=300)
@given(st.binary(max_size=400), st.integers(min_value=0, max_value=len(RFC9001_CLIENT_HELLO)))
def test_when_bytes_are_garbage_or_damaged_then_the_parsers_return_without_raising(noise: bytes, cut: int) -> None:
    damaged = RFC9001_CLIENT_HELLO[:cut] + noise
    for candidate in (noise, damaged, records(damaged, 7)):
        assert parse_client_hello_handshake(candidate) is None or isinstance(
            parse_client_hello_handshake(candidate), ClientHello
        )
        assert isinstance(parse_client_hello_records(candidate), ClientHello | TlsParse)
        looks_like_tls_client_hello(candidate)
