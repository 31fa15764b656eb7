"""Host-name normalisation and label-boundary matching."""

from __future__ import annotations

import pytest

from rules.hostnames import HostIndex, MatchKind, normalize_host


@pytest.mark.parametrize(
    ("raw", "normal"),
    [
        ("ChatGPT.com", "chatgpt.com"),
        ("chatgpt.com.", "chatgpt.com"),
        ("  claude.ai ", "claude.ai"),
        ("bücher.example", "xn--bcher-kva.example"),
        ("\N{GREEK CAPITAL LETTER ALPHA}\N{GREEK CAPITAL LETTER IOTA}.example", "xn--mxaq.example"),
        ("_dmarc.example.com", "_dmarc.example.com"),
        ("", None),
        (".", None),
        ("a..b", None),
        ("chat gpt.com", None),
        ("x" * 64 + ".com", None),
        ("host:443", None),
    ],
)
def test_normalisation(raw: str, normal: str | None) -> None:
    assert normalize_host(raw) == normal


@pytest.fixture
def index() -> HostIndex[str]:
    built: HostIndex[str] = HostIndex()
    built.add_suffix("chatgpt.com", "chatgpt")
    built.add_suffix("oaiusercontent.com", "chatgpt")
    built.add_suffix("api.deepseek.com", "deepseek-api")
    built.add_suffix("deepseek.com", "deepseek-chat")
    built.add_exact("chat.openai.com", "chatgpt")
    built.add_exact("gemini.google.com", "gemini")
    return built


@pytest.mark.parametrize(
    ("host", "value", "kind"),
    [
        ("chatgpt.com", "chatgpt", MatchKind.SUFFIX),
        ("CHATGPT.COM.", "chatgpt", MatchKind.SUFFIX),
        ("files.oaiusercontent.com", "chatgpt", MatchKind.SUFFIX),
        ("a.b.c.chatgpt.com", "chatgpt", MatchKind.SUFFIX),
        ("chat.openai.com", "chatgpt", MatchKind.EXACT),
        ("v1.api.deepseek.com", "deepseek-api", MatchKind.SUFFIX),
        ("chat.deepseek.com", "deepseek-chat", MatchKind.SUFFIX),
        ("gemini.google.com", "gemini", MatchKind.EXACT),
    ],
)
def test_when_a_name_is_the_entry_or_below_it_then_it_matches(
    index: HostIndex[str], host: str, value: str, kind: MatchKind
) -> None:
    found = index.lookup(host)

    assert found is not None
    assert (found.value, found.kind) == (value, kind)


@pytest.mark.parametrize(
    "host",
    [
        "notchatgpt.com",
        "chatgpt.com.example.net",
        "xchatgpt.com",
        "com",
        "openai.com",
        "www.chat.openai.com",
        "google.com",
        "mail.google.com",
        "gemini.google.com.evil.test",
        "",
        "not a host",
    ],
)
def test_when_a_name_only_resembles_an_entry_then_it_does_not_match(index: HostIndex[str], host: str) -> None:
    assert index.lookup(host) is None
