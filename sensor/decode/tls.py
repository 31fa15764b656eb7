"""TLS ClientHello: the server name, ALPN and ECH markers a client sends in clear before any key exchange.

Two entry points share one ClientHello parser: `parse_client_hello_handshake` takes a bare handshake message (what
QUIC carries in CRYPTO frames), `parse_client_hello_records` takes the first bytes of a TCP connection, which are
TLS records that may split the handshake message anywhere (small MTUs, middleboxes, and DPI-evasion tools that cut
the ClientHello into tiny records on purpose). Every length is checked against the bytes present before it is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import Enum
from struct import unpack_from

CONTENT_HANDSHAKE = 22
CLIENT_HELLO = 1
EXT_SERVER_NAME = 0x0000
EXT_ALPN = 0x0010
EXT_ECH = 0xFE0D
EXT_ESNI = 0xFFCE

# A ClientHello with post-quantum key shares is ~1.8 KB; nothing legitimate comes near this.
MAX_CLIENT_HELLO = 64 * 1024
# RFC 5246 allows 2**14 plaintext bytes plus 2048 of compression expansion in a record.
_MAX_RECORD = 2**14 + 2048
# Bounds the work a stream of one-byte records can cause; evasion tools split into a handful of records.
_MAX_RECORDS = 512
# RFC 8446 forbids repeating an extension type; real clients send about twenty.
_MAX_EXTENSIONS = 256
_MAX_HOST_NAME = 255
_HOST_NAME_BYTES = bytes(range(0x21, 0x7F))  # printable ASCII without space


@dataclass(frozen=True, slots=True)
class ClientHello:
    sni: str | None
    has_ech: bool  # encrypted_client_hello (0xfe0d): the SNI is only the outer, public name
    has_esni: bool  # draft encrypted_server_name (0xffce)
    alpn: tuple[str, ...]
    version: int  # legacy_version field (0x0303 for TLS 1.2 and 1.3)


class TlsParse(Enum):
    """Why `parse_client_hello_records` returned no ClientHello."""

    NEED_MORE = "need more"  # a valid prefix of a ClientHello: keep buffering
    NOT_TLS = "not tls"  # cannot be the start of a TLS ClientHello: stop looking


def parse_client_hello_handshake(message: bytes | memoryview) -> ClientHello | None:
    """Parse one handshake message (type, 3-byte length, body); None unless it is a complete, well-formed ClientHello.

    Bytes after the message are ignored.
    """
    if len(message) < 4:
        return None
    header = unpack_from(">I", message, 0)[0]
    end = 4 + (header & 0xFFFFFF)
    if header >> 24 != CLIENT_HELLO or len(message) < end:
        return None
    return _client_hello_body(message, 4, end)


def parse_client_hello_records(stream: bytes | memoryview) -> ClientHello | TlsParse:
    """Find the ClientHello in a client's first bytes of a TCP connection, reassembling it across TLS records."""
    view = memoryview(stream)
    size = len(view)
    fragments: list[memoryview] = []
    have = 0
    needed = 0  # length of the handshake message once its header has been seen
    position = 0
    for _ in range(_MAX_RECORDS):
        if size - position < 5:
            return TlsParse.NEED_MORE if _record_prefix_ok(view[position:]) else TlsParse.NOT_TLS
        content_type, version, length = unpack_from(">BHH", view, position)
        if content_type != CONTENT_HANDSHAKE or not 0x0300 <= version <= 0x0304 or not 0 < length <= _MAX_RECORD:
            return TlsParse.NOT_TLS
        record_end = position + 5 + length
        fragment = view[position + 5 : min(record_end, size)]
        fragments.append(fragment)
        have += len(fragment)
        if not needed and have >= 4:
            needed = _message_length(fragments)
        if have and (fragments[0][0] != CLIENT_HELLO or (have >= 4 and not needed)):
            return TlsParse.NOT_TLS
        if needed and have >= needed:
            message = fragments[0] if len(fragments) == 1 else memoryview(b"".join(fragments))
            return parse_client_hello_handshake(message[:needed]) or TlsParse.NOT_TLS
        if record_end > size:
            return TlsParse.NEED_MORE
        position = record_end
    return TlsParse.NOT_TLS


def looks_like_tls_client_hello(first_bytes: bytes | memoryview) -> bool:
    """Cheap test of the first 6 bytes: could this be a TLS record carrying a ClientHello?

    A shorter input passes if what is there fits, since a client may send its first record header in pieces.
    """
    head = bytes(first_bytes[:6])
    if not head or head[0] != CONTENT_HANDSHAKE:
        return False
    if len(head) >= 2 and head[1] != 3:
        return False
    if len(head) >= 3 and head[2] > 4:
        return False
    if len(head) >= 5 and not 0 < unpack_from(">H", head, 3)[0] <= _MAX_RECORD:
        return False
    return len(head) < 6 or head[5] == CLIENT_HELLO


def _record_prefix_ok(prefix: memoryview) -> bool:
    """Whether fewer than 5 bytes can start a handshake record header (an empty prefix can)."""
    if len(prefix) >= 1 and prefix[0] != CONTENT_HANDSHAKE:
        return False
    if len(prefix) >= 2 and prefix[1] != 3:
        return False
    return len(prefix) < 3 or prefix[2] <= 4


def _message_length(fragments: list[memoryview]) -> int:
    """Total length of the handshake message whose header starts the fragments; 0 if it is no acceptable ClientHello."""
    first = fragments[0]
    header = bytes(first[:4]) if len(first) >= 4 else b"".join(fragments)[:4]
    needed = 4 + int.from_bytes(header[1:4], "big")
    if header[0] != CLIENT_HELLO or needed > MAX_CLIENT_HELLO:
        return 0
    return needed


def _client_hello_body(buf: bytes | memoryview, pos: int, end: int) -> ClientHello | None:
    if end - pos < 2 + 32 + 1:
        return None
    version = unpack_from(">H", buf, pos)[0]
    pos = _skip_to_extensions(buf, pos + 34, end)
    if version >> 8 != 3 or pos < 0:
        return None
    if pos == end:  # SSL 3.0 and early TLS clients may send no extensions at all
        return ClientHello(None, False, False, (), version)
    if pos + 2 > end:
        return None
    extensions_end = pos + 2 + unpack_from(">H", buf, pos)[0]
    return _extensions(buf, pos + 2, extensions_end, version) if extensions_end <= end else None


def _skip_to_extensions(buf: bytes | memoryview, pos: int, end: int) -> int:
    """Offset after session_id<0..32>, cipher_suites<2..2^16-2> and compression_methods<1..>, or -1."""
    session_id_length = buf[pos]
    pos += 1 + session_id_length
    if session_id_length > 32 or pos + 2 > end:
        return -1
    cipher_suites_length = unpack_from(">H", buf, pos)[0]
    pos += 2 + cipher_suites_length
    if cipher_suites_length < 2 or cipher_suites_length & 1 or pos >= end:
        return -1
    compression_length = buf[pos]
    pos += 1 + compression_length
    return pos if compression_length >= 1 and pos <= end else -1


def _extensions(buf: bytes | memoryview, pos: int, end: int, version: int) -> ClientHello | None:
    sni: str | None = None
    alpn: tuple[str, ...] = ()
    seen_sni = has_ech = has_esni = False
    count = 0
    while pos + 4 <= end:
        count += 1
        if count > _MAX_EXTENSIONS:
            return None
        extension_type, length = unpack_from(">HH", buf, pos)
        pos += 4
        if pos + length > end:
            return None
        if extension_type == EXT_SERVER_NAME and not seen_sni:
            seen_sni = True
            sni = _server_name(buf, pos, pos + length)
        elif extension_type == EXT_ALPN and not alpn:
            alpn = _alpn(buf, pos, pos + length)
        elif extension_type == EXT_ECH:
            has_ech = True
        elif extension_type == EXT_ESNI:
            has_esni = True
        pos += length
    if pos != end:
        return None
    return ClientHello(sni, has_ech, has_esni, alpn, version)


def _server_name(buf: bytes | memoryview, pos: int, end: int) -> str | None:
    """The first host_name entry of a server_name extension; a malformed extension yields no name."""
    if end - pos < 2:
        return None
    list_end = pos + 2 + unpack_from(">H", buf, pos)[0]
    if list_end > end:
        return None
    pos += 2
    while pos + 3 <= list_end:
        name_type, length = unpack_from(">BH", buf, pos)
        pos += 3
        if pos + length > list_end:
            return None
        if name_type == 0:
            return normalise_host_name(bytes(buf[pos : pos + length]))
        pos += length
    return None


def normalise_host_name(raw: bytes) -> str | None:
    """Lower-cased ASCII without a trailing dot, or None if empty, too long, or holding spaces, controls or non-ASCII.

    IP literals and `host:port` pass through unchanged: what counts as a name is the caller's decision.
    """
    if not raw or len(raw) > _MAX_HOST_NAME or raw.translate(None, _HOST_NAME_BYTES):
        return None
    return raw.decode("ascii").lower().rstrip(".") or None


def _alpn(buf: bytes | memoryview, pos: int, end: int) -> tuple[str, ...]:
    """Protocol names of an ALPN extension; a malformed extension yields none."""
    if end - pos < 2:
        return ()
    list_end = pos + 2 + unpack_from(">H", buf, pos)[0]
    if list_end > end:
        return ()
    pos += 2
    names: list[str] = []
    while pos < list_end:
        length = buf[pos]
        pos += 1
        if length == 0 or pos + length > list_end:
            return ()
        # GREASE and private protocol ids may be any bytes; escape rather than drop them.
        names.append(bytes(buf[pos : pos + length]).decode("ascii", "backslashreplace"))
        pos += length
    return tuple(names)
