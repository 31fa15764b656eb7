"""An independent CEF reader for the tests: splits on unescaped separators and undoes the spec's escapes."""

from __future__ import annotations

from dataclasses import dataclass

HEADER_FIELDS = 7  # CEF:Version, Vendor, Product, Version, Signature ID, Name, Severity
EXTENSION_ESCAPES = {"\\": "\\", "=": "=", "n": "\n", "r": "\r"}


@dataclass(frozen=True)
class CefEvent:
    header: list[str]
    extension: dict[str, str]


def split_unescaped(text: str, separator: str, limit: int) -> list[str]:
    """Split on `separator` not preceded by an escaping backslash, at most `limit` times; escapes are kept."""
    parts: list[str] = []
    current = ""
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current += text[index : index + 2]
            index += 2
            continue
        if char == separator and len(parts) < limit:
            parts.append(current)
            current = ""
        else:
            current += char
        index += 1
    parts.append(current)
    return parts


def unescape(text: str, escapes: dict[str, str]) -> str:
    out = ""
    index = 0
    while index < len(text):
        if text[index] == "\\" and index + 1 < len(text) and text[index + 1] in escapes:
            out += escapes[text[index + 1]]
            index += 2
        else:
            out += text[index]
            index += 1
    return out


def parse_extension(text: str) -> dict[str, str]:
    # Every unescaped `=` ends a key; the key is the last space-separated word before it, the rest is the
    # previous key's value (values may contain spaces).
    segments = split_unescaped(text, "=", limit=len(text))
    pairs: dict[str, str] = {}
    key = segments[0]
    for segment in segments[1:-1]:
        value, _, next_key = segment.rpartition(" ")
        pairs[key] = unescape(value, EXTENSION_ESCAPES)
        key = next_key
    pairs[key] = unescape(segments[-1], EXTENSION_ESCAPES)
    return pairs


def parse_cef(line: str) -> CefEvent:
    parts = split_unescaped(line, "|", limit=HEADER_FIELDS)
    assert len(parts) == HEADER_FIELDS + 1, f"expected 7 header fields and an extension: {line!r}"
    header = [unescape(part, {"\\": "\\", "|": "|"}) for part in parts[:HEADER_FIELDS]]
    return CefEvent(header, parse_extension(parts[HEADER_FIELDS]))
