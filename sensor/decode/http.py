"""HTTP/1.x requests in clear: the host a client asks for, from the Host header or the request target.

Only the head of the first request is read, at most `MAX_SCAN` bytes; header names are matched case-insensitively,
values are lower-cased and returned without port. Anything that is not a well-formed request line yields None.
"""

from __future__ import annotations

import re

from sensor.decode.tls import normalise_host_name

MAX_SCAN = 8 * 1024
_METHODS = (b"GET ", b"POST ", b"PUT ", b"HEAD ", b"DELETE ", b"OPTIONS ", b"PATCH ", b"CONNECT ")
_LONGEST_METHOD = max(len(method) for method in _METHODS)
_ABSOLUTE_FORM = re.compile(rb"https?://([^/?#]*)", re.IGNORECASE)
_OPTIONAL_PORT = re.compile(rb"(?::[0-9]*)?")


def looks_like_http_request(first_bytes: bytes | memoryview) -> bool:
    """Cheap test: does the payload start with a request method and a space?

    A shorter input passes if it is the start of one, since a client may send its first bytes in pieces.
    """
    head = bytes(first_bytes[:_LONGEST_METHOD])
    if head.startswith(_METHODS):
        return True
    return 0 < len(head) < _LONGEST_METHOD and any(method.startswith(head) for method in _METHODS)


def http_host(payload: bytes | memoryview) -> str | None:
    """The host an HTTP/1.x request is for: CONNECT's target, an absolute-form target's authority, else Host.

    None if the payload does not start a request or the name is not complete within the bytes given.
    """
    head = bytes(payload[:MAX_SCAN])
    if not head.startswith(_METHODS):
        return None
    line_end = head.find(b"\n")
    if line_end < 0:
        return None
    parts = head[:line_end].rstrip(b"\r").split(b" ")
    if len(parts) != 3 or len(parts[2]) != 8 or not parts[2].startswith(b"HTTP/1."):
        return None
    method, target = parts[0], parts[1]
    if method == b"CONNECT":
        return _authority_host(target)
    absolute = _ABSOLUTE_FORM.match(target)
    if absolute:  # RFC 9112 section 3.2.2: the target's authority overrides Host
        return _authority_host(absolute.group(1))
    return _host_header(head, line_end)


def _host_header(head: bytes, line_end: int) -> str | None:
    headers_end = _end_of_headers(head, line_end)
    block = head[line_end:headers_end].lower()
    start = block.find(b"\nhost:")
    if start < 0:
        return None
    value_end = block.find(b"\n", start + 6)
    if value_end < 0:  # the value may continue in bytes not yet seen
        return None
    return _authority_host(block[start + 6 : value_end].strip(b" \t\r"))


def _end_of_headers(head: bytes, line_end: int) -> int:
    """Offset just past the newline that ends the header block, or the end of what we have."""
    candidates = (head.find(b"\r\n\r\n", line_end - 1), head.find(b"\n\n", line_end))
    found = [candidate + 2 for candidate in candidates if candidate >= 0]
    return min(found) if found else len(head)


def _authority_host(authority: bytes) -> str | None:
    """Host of `[userinfo@]host[:port]`, IPv6 literals without their brackets."""
    authority = authority.rpartition(b"@")[2]
    if authority.startswith(b"["):
        close = authority.find(b"]")
        if close < 0 or not _OPTIONAL_PORT.fullmatch(authority, close + 1):
            return None
        host = authority[1:close]
    else:
        host, _, port = authority.partition(b":")
        if port and not port.isdigit():
            return None
    return normalise_host_name(host)
