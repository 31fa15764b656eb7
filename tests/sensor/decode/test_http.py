"""HTTP/1.x Host: from the Host header, an absolute-form target or CONNECT's authority; nothing from non-requests."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from sensor.decode.http import MAX_SCAN, http_host, looks_like_http_request


@pytest.mark.parametrize(
    ("request_head", "expected"),
    [
        (b"GET / HTTP/1.1\r\nHost: ChatGPT.com\r\n\r\n", "chatgpt.com"),
        (b"POST /v1/messages HTTP/1.1\r\nUser-Agent: x\r\nhost:api.anthropic.com:8080\r\n\r\n", "api.anthropic.com"),
        (b"HEAD / HTTP/1.0\r\nHOST: \t example.org. \r\n\r\n", "example.org"),
        (b"PUT /x HTTP/1.1\nHost: bare-newlines.example\n\n", "bare-newlines.example"),
        (b"DELETE /x HTTP/1.1\r\nHost: [2001:db8::1]:8443\r\n\r\n", "2001:db8::1"),
        (b"OPTIONS * HTTP/1.1\r\nHost: [::1]\r\n\r\n", "::1"),
        (b"PATCH /x HTTP/1.1\r\nHost: 10.0.0.7:80\r\n\r\n", "10.0.0.7"),
        (b"CONNECT gemini.google.com:443 HTTP/1.1\r\nHost: other.example\r\n\r\n", "gemini.google.com"),
        (b"CONNECT [2001:db8::2]:443 HTTP/1.1\r\n\r\n", "2001:db8::2"),
        (b"GET http://User@Proxy.Example:3128/path?q HTTP/1.1\r\nHost: ignored.example\r\n\r\n", "proxy.example"),
        (b"GET / HTTP/1.1\r\nX-Host: wrong.example\r\nHost: right.example\r\n\r\n", "right.example"),
        (b"GET / HTTP/1.1\r\nHost: first.example\r\nHost: second.example\r\n\r\n", "first.example"),
        (b"GET / HTTP/1.1\r\nHost: partial.example\r\n", "partial.example"),  # headers not finished yet
    ],
)
def test_when_a_request_names_a_host_then_it_is_found(request_head: bytes, expected: str) -> None:
    assert http_host(request_head) == expected
    assert http_host(memoryview(request_head)) == expected


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"get / HTTP/1.1\r\nHost: lower-method.example\r\n\r\n",
        b"BREW / HTTP/1.1\r\nHost: unknown-method.example\r\n\r\n",
        b"PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n",
        b"GET / HTTP/2.0\r\nHost: h2.example\r\n\r\n",
        b"GET /\r\n",  # HTTP/0.9
        b"GET / HTTP/1.1",  # request line not finished
        b"GET / HTTP/1.1\r\nHost: cut.exam",  # the value may continue
        b"GET / HTTP/1.1\r\nUser-Agent: x\r\n\r\n",
        b"GET / HTTP/1.1\r\n\r\nHost: in-the-body.example\r\n",
        b"GET / HTTP/1.1\r\nHost : space-before-colon.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: two words\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: caf\xc3\xa9.example\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: \r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: ::1\r\n\r\n",  # IPv6 without brackets
        b"GET / HTTP/1.1\r\nHost: [::1\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: [::1]x\r\n\r\n",
        b"GET / HTTP/1.1\r\nHost: a.example:http\r\n\r\n",
        b"GET / HTTP/1.1\r\nX-Pad: " + b"a" * MAX_SCAN + b"\r\nHost: too-far.example\r\n\r\n",
        b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03",
    ],
)
def test_when_no_host_can_be_trusted_then_none_is_returned(payload: bytes) -> None:
    assert http_host(payload) is None


@pytest.mark.parametrize(
    ("first_bytes", "expected"),
    [
        (b"GET / HTTP/1.1\r\n", True),
        (b"CONNECT host:443 HTTP/1.1\r\n", True),
        (b"OPTIONS ", True),
        (b"GE", True),  # a client may send its first bytes in pieces
        (b"CONNEC", True),
        (b"", False),
        (b"GETX / HTTP/1.1", False),
        (b"get / HTTP/1.1", False),
        (b"\x16\x03\x01\x02\x00\x01", False),
        (b"SSH-2.0-OpenSSH_9.6\r\n", False),
    ],
)
def test_when_first_bytes_are_checked_then_only_request_starts_pass(first_bytes: bytes, expected: bool) -> None:
    assert looks_like_http_request(first_bytes) is expected


@settings(derandomize=True, database=None, max_examples=300)
@given(st.sampled_from([b"GET / HTTP/1.1\r\n", b"CONNECT ", b"GET http://", b""]), st.binary(max_size=300))
def test_when_the_rest_is_garbage_then_the_parser_returns_without_raising(start: bytes, rest: bytes) -> None:
    host = http_host(start + rest)

    assert host is None or (host and host == host.lower() and " " not in host)
