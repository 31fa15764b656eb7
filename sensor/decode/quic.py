"""QUIC Initial packets: the client's ClientHello, read the way any on-path observer can.

Initial packets are encrypted, but with keys derived from the client's Destination Connection ID and a salt the
RFCs publish (RFC 9001 section 5.2, RFC 9369 section 3.3), so removing that protection needs no secret and reveals
only what a plaintext TLS ClientHello would: the SNI, ALPN and extensions. Nothing past the Initials is readable.

Connection key for callers: the UDP 5-tuple (client address and port, server address and port), which the flow
table already keys by, together with the client's original Destination Connection ID (the `dcid` of the first
Initial that decrypts). A client sends every Initial of a connection attempt from one 5-tuple (connection migration
only starts after the handshake), and its keys come from that original DCID (RFC 9001 section 5.2) even once the
client switches to addressing the server's chosen ID, so pass it back as `original_dcid`. A different original DCID
at CRYPTO offset 0 on the same 5-tuple is a new attempt (after a Retry, or a reused port).

gQUIC (Google QUIC) also appears on the wire: Q043/Q046 send the CHLO in plaintext (see `gquic_sni`); Q050 and
T05x encrypt it with their own scheme and are reported as unparsed (None).
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from struct import unpack_from
from typing import NamedTuple

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers import Cipher, CipherContext, algorithms, modes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF, HKDFExpand

from sensor.decode.gquic import chlo_tag
from sensor.decode.tls import ClientHello, parse_client_hello_handshake

QUIC_V1 = 0x00000001
QUIC_V2 = 0x6B3343CF
MAX_CRYPTO_BYTES = 64 * 1024  # a ClientHello, even with post-quantum key shares, is a few KiB
MAX_CID_LENGTH = 20  # RFC 9000 section 17.2, for versions 1 and 2
KEY_CACHE_SIZE = 4096

_MAX_COALESCED = 8  # clients coalesce two or three packets (Initial, 0-RTT, Handshake); more is garbage
_MAX_PENDING_SEGMENTS = 64
_NOT_PADDING = re.compile(rb"[^\x00]")
_PADDING, _PING, _ACK, _ACK_ECN, _CRYPTO, _CLOSE_QUIC, _CLOSE_APP = 0x00, 0x01, 0x02, 0x03, 0x06, 0x1C, 0x1D
_VARINT_MAX = (1 << 62) - 1


class _Version(NamedTuple):
    salt: bytes
    initial_bits: int  # long packet type bits (0x30 of the first byte) that mean Initial
    retry_bits: int  # Retry has no Length field, so a coalesced walk cannot step over it
    key_label: bytes
    iv_label: bytes
    hp_label: bytes


# The type bits are outside header protection; v2 renumbered them on purpose (RFC 9369 section 3.2).
_VERSIONS = {
    QUIC_V1: _Version(
        bytes.fromhex("38762cf7f55934b34d179ae6a4c80cadccbb7f0a"), 0x00, 0x30, b"quic key", b"quic iv", b"quic hp"
    ),
    QUIC_V2: _Version(
        bytes.fromhex("0dede3def700a6db819381be6e269dcbf9bd2ed9"), 0x10, 0x00, b"quicv2 key", b"quicv2 iv", b"quicv2 hp"
    ),
}
# IETF drafts still seen from old clients and interop tests: v1's packet layout and labels, their own salts
# (draft-23..28 share one, draft-29..32 another; checked against captures of draft-27 and draft-29 traffic).
_DRAFT_23_SALT = bytes.fromhex("c3eef712c72ebb5a11a7d2432bb46365bef9f502")
_DRAFT_29_SALT = bytes.fromhex("afbfec289993d24c9e9786f19c6111e04390a899")
# Google QUIC Q050 protects its Initials the IETF way with a salt of its own, and carries its (gQUIC, not TLS)
# client hello in frames of type 0x08 laid out like CRYPTO frames.
QUIC_Q050 = 0x51303530
_VERSIONS[QUIC_Q050] = _Version(
    bytes.fromhex("504574efd066fe2f9d945cfcdbd3a7f0d3b56b45"), 0x00, 0x30, b"quic key", b"quic iv", b"quic hp"
)
_GQUIC_CRYPTO = 0x08
for _draft in range(23, 33):
    _VERSIONS[0xFF000000 + _draft] = _Version(
        _DRAFT_23_SALT if _draft < 29 else _DRAFT_29_SALT, 0x00, 0x30, b"quic key", b"quic iv", b"quic hp"
    )


@dataclass(frozen=True, slots=True)
class InitialPacket:
    version: int
    dcid: bytes
    scid: bytes
    crypto: tuple[tuple[int, bytes], ...]  # (stream offset, data) of each CRYPTO frame, in packet order


class _Keys(NamedTuple):
    aead: AESGCM
    iv: int
    hp: CipherContext  # AES-ECB encryptor: every update() of one 16-byte block is independent


class _Header(NamedTuple):
    start: int
    version: int
    initial: bool
    dcid: bytes
    scid: bytes
    pn_offset: int
    end: int  # one past the last byte of this packet (Length counts from the packet number)


class _Malformed(Exception):
    """Internal: a field runs past the bytes present."""


def is_quic_long_header_initial(datagram: bytes | memoryview) -> bool:
    """Cheap pre-check: a v1 or v2 long-header Initial packet starts this datagram."""
    if len(datagram) < 7:
        return False
    first = datagram[0]
    if first & 0xC0 != 0xC0:  # long header form and fixed bit
        return False
    params = _VERSIONS.get(unpack_from(">I", datagram, 1)[0])
    return params is not None and first & 0x30 == params.initial_bits


def parse_client_initials(datagram: bytes | memoryview, original_dcid: bytes | None = None) -> list[InitialPacket]:
    """The client Initial packets of a datagram that decrypt and authenticate, walking coalesced packets.

    Server Initials use the server's keys, so they fail authentication and are left out. `original_dcid` (the DCID
    of the client's first Initial) is tried when a packet's own DCID does not open it: after the server replies, the
    client addresses it by the server's connection ID but keeps the keys derived from the original one. Parsing
    stops at the first malformed packet; the packets before it are still returned.
    """
    data = bytes(datagram)
    packets: list[InitialPacket] = []
    start = 0
    for _ in range(_MAX_COALESCED):
        if start >= len(data):
            break
        header = _long_header(data, start)
        if header is None:
            break
        if header.initial:
            packet = _open_initial(data, header, original_dcid)
            if packet is not None:
                packets.append(packet)
        start = header.end
    return packets


def _long_header(data: bytes, start: int) -> _Header | None:
    try:
        first = data[start]
        if first & 0xC0 != 0xC0 or len(data) < start + 7:
            return None
        version = unpack_from(">I", data, start + 1)[0]
        params = _VERSIONS.get(version)
        if params is None or first & 0x30 == params.retry_bits:
            return None
        dcid, pos = _cid(data, start + 5)
        scid, pos = _cid(data, pos)
        initial = first & 0x30 == params.initial_bits
        if initial:
            token_length, pos = _varint(data, pos)
            pos += token_length
        length, pos = _varint(data, pos)
    except _Malformed:
        return None
    if pos + length > len(data):
        return None
    return _Header(start, version, initial, dcid, scid, pos, pos + length)


def _cid(data: bytes, pos: int) -> tuple[bytes, int]:
    if pos >= len(data):
        raise _Malformed
    length = data[pos]
    end = pos + 1 + length
    if length > MAX_CID_LENGTH or end > len(data):
        raise _Malformed
    return data[pos + 1 : end], end


def _varint(data: bytes, pos: int) -> tuple[int, int]:
    """RFC 9000 section 16 variable-length integer at pos: (value, position after it)."""
    if pos >= len(data):
        raise _Malformed
    size = 1 << (data[pos] >> 6)
    if pos + size > len(data):
        raise _Malformed
    if size == 1:
        return data[pos], pos + 1
    if size == 2:
        return unpack_from(">H", data, pos)[0] & 0x3FFF, pos + 2
    if size == 4:
        return unpack_from(">I", data, pos)[0] & 0x3FFFFFFF, pos + 4
    return unpack_from(">Q", data, pos)[0] & _VARINT_MAX, pos + 8


def _open_initial(data: bytes, header: _Header, original_dcid: bytes | None) -> InitialPacket | None:
    payload = _decrypt(data, header, _client_keys(header.version, header.dcid))
    if payload is None and original_dcid and original_dcid != header.dcid and len(original_dcid) <= MAX_CID_LENGTH:
        payload = _decrypt(data, header, _client_keys(header.version, bytes(original_dcid)))
    if payload is None:
        return None
    crypto_type = _GQUIC_CRYPTO if header.version == QUIC_Q050 else _CRYPTO
    return InitialPacket(header.version, header.dcid, header.scid, _crypto_frames(payload, crypto_type))


@lru_cache(maxsize=KEY_CACHE_SIZE)
def _client_keys(version: int, dcid: bytes) -> _Keys:
    """Client Initial keys for a DCID; memoised because every Initial of a connection repeats its DCID.

    The cache is bounded and its values depend only on the arguments, so it never changes what a call returns.
    """
    params = _VERSIONS[version]
    secret = HKDF(SHA256(), 32, params.salt, _hkdf_label(b"client in", 32)).derive(dcid)
    key = HKDFExpand(SHA256(), 16, _hkdf_label(params.key_label, 16)).derive(secret)
    iv = HKDFExpand(SHA256(), 12, _hkdf_label(params.iv_label, 12)).derive(secret)
    hp = HKDFExpand(SHA256(), 16, _hkdf_label(params.hp_label, 16)).derive(secret)
    encryptor = Cipher(algorithms.AES(hp), modes.ECB()).encryptor()  # noqa: S305 - RFC 9001 5.4.3 mask, not data
    return _Keys(AESGCM(key), int.from_bytes(iv, "big"), encryptor)


def _hkdf_label(label: bytes, length: int) -> bytes:
    """TLS 1.3 HkdfLabel (RFC 8446 section 7.1) with an empty context."""
    full = b"tls13 " + label
    return length.to_bytes(2, "big") + bytes((len(full),)) + full + b"\x00"


def _decrypt(data: bytes, header: _Header, keys: _Keys) -> bytes | None:
    """Remove header protection (RFC 9001 section 5.4) and open the AEAD payload; None if it does not authenticate."""
    pn_offset, end = header.pn_offset, header.end
    if pn_offset + 4 + 16 > end:  # the sample is taken as if the packet number were 4 bytes long
        return None
    mask = keys.hp.update(data[pn_offset + 4 : pn_offset + 20])
    first = data[header.start] ^ (mask[0] & 0x0F)
    pn_length = (first & 0x03) + 1
    # A passive observer has no largest-acknowledged; Initial packet numbers are small, so truncated == full.
    packet_number = int.from_bytes(data[pn_offset : pn_offset + pn_length], "big") ^ int.from_bytes(
        mask[1 : 1 + pn_length], "big"
    )
    aad = bytes((first,)) + data[header.start + 1 : pn_offset] + packet_number.to_bytes(pn_length, "big")
    nonce = (keys.iv ^ packet_number).to_bytes(12, "big")
    try:
        return keys.aead.decrypt(nonce, data[pn_offset + pn_length : end], aad)
    except InvalidTag:
        return None


def _crypto_frames(payload: bytes, crypto_type: int = _CRYPTO) -> tuple[tuple[int, bytes], ...]:
    """CRYPTO frames of a decrypted Initial; stops at the first frame type an Initial should not carry."""
    frames: list[tuple[int, bytes]] = []
    pos, size = 0, len(payload)
    try:
        while pos < size:
            frame_type = payload[pos]
            if frame_type == _PADDING:
                match = _NOT_PADDING.search(payload, pos)
                if match is None:
                    break
                pos = match.start()
            elif frame_type == _PING:
                pos += 1
            elif frame_type == crypto_type:
                offset, pos = _varint(payload, pos + 1)
                length, pos = _varint(payload, pos)
                if pos + length > size or offset + length > _VARINT_MAX:
                    break
                frames.append((offset, payload[pos : pos + length]))
                pos += length
            elif frame_type in (_ACK, _ACK_ECN):
                pos = _skip_ack(payload, pos + 1, ecn=frame_type == _ACK_ECN)
            elif frame_type in (_CLOSE_QUIC, _CLOSE_APP):
                pos = _skip_close(payload, pos + 1, with_frame_type=frame_type == _CLOSE_QUIC)
            else:
                break
    except _Malformed:
        pass
    return tuple(frames)


def _skip_ack(payload: bytes, pos: int, ecn: bool) -> int:
    _largest, pos = _varint(payload, pos)
    _delay, pos = _varint(payload, pos)
    range_count, pos = _varint(payload, pos)
    _first_range, pos = _varint(payload, pos)
    if range_count > (len(payload) - pos) // 2:  # each range is two varints of at least one byte
        raise _Malformed
    for _ in range(2 * range_count + (3 if ecn else 0)):  # (gap, length) pairs, then ECT0, ECT1, ECN-CE counts
        _value, pos = _varint(payload, pos)
    return pos


def _skip_close(payload: bytes, pos: int, with_frame_type: bool) -> int:
    _error_code, pos = _varint(payload, pos)
    if with_frame_type:
        _frame_type, pos = _varint(payload, pos)
    reason_length, pos = _varint(payload, pos)
    if pos + reason_length > len(payload):
        raise _Malformed
    return pos + reason_length


class CryptoAssembler:
    """The client's Initial CRYPTO stream of one connection, from frames in any order, duplicated or overlapping.

    Bytes already held win over a later frame covering them (a retransmission must repeat them anyway). Nothing at
    or beyond MAX_CRYPTO_BYTES is kept, and at most _MAX_PENDING_SEGMENTS out-of-order segments wait for a gap.
    """

    __slots__ = ("_hello", "_pending", "_pending_bytes", "_prefix")

    def __init__(self) -> None:
        self._prefix = bytearray()  # contiguous bytes from offset 0
        self._pending: dict[int, bytes] = {}  # offset -> data, beyond the prefix
        self._pending_bytes = 0
        self._hello: ClientHello | None = None

    @property
    def failed(self) -> bool:
        """The stream cannot become a ClientHello: it does not start with one, or announces one over the cap."""
        prefix = self._prefix
        if not prefix:
            return False
        if prefix[0] != 1:
            return True
        return len(prefix) >= 4 and 4 + int.from_bytes(prefix[1:4], "big") > MAX_CRYPTO_BYTES

    def add(self, offset: int, data: bytes) -> None:
        if offset < 0 or offset >= MAX_CRYPTO_BYTES or not data:
            return
        data = bytes(data[: MAX_CRYPTO_BYTES - offset])
        held = len(self._prefix)
        end = offset + len(data)
        if end <= held:
            return
        if offset <= held:
            self._prefix += data[held - offset :]
            self._drain()
            return
        current = self._pending.get(offset)
        if current is not None and len(current) >= len(data):
            return
        if current is None and len(self._pending) >= _MAX_PENDING_SEGMENTS:
            return
        added = len(data) - (len(current) if current is not None else 0)
        if self._pending_bytes + added > MAX_CRYPTO_BYTES:
            return
        self._pending[offset] = data
        self._pending_bytes += added

    def _drain(self) -> None:
        """Move every pending segment that now touches the prefix into it."""
        progress = True
        while progress and self._pending:
            progress = False
            for offset in sorted(self._pending):
                held = len(self._prefix)
                if offset > held:
                    break
                data = self._pending.pop(offset)
                self._pending_bytes -= len(data)
                if offset + len(data) > held:
                    self._prefix += data[held - offset :]
                progress = True

    def client_hello(self) -> ClientHello | None:
        """The parsed ClientHello once the contiguous prefix holds the whole handshake message, else None."""
        if self._hello is not None:
            return self._hello
        prefix = self._prefix
        if prefix[:4] == b"CHLO":  # gQUIC Q050's handshake message, not TLS
            sni = chlo_tag(bytes(prefix), 0, b"SNI\x00")
            if sni is not None:
                self._hello = ClientHello(sni=sni.lower(), has_ech=False, has_esni=False, alpn=(), version=0)
            return self._hello
        if len(prefix) < 4 or prefix[0] != 1:
            return None
        needed = 4 + int.from_bytes(prefix[1:4], "big")
        if needed > len(prefix):
            return None
        self._hello = parse_client_hello_handshake(bytes(prefix[:needed]))
        return self._hello
