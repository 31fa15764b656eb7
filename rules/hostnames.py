"""Host-name normalisation and label-boundary matching for the sensor's hot path.

A name matches a catalog entry when it equals an exact entry, or equals a suffix entry or ends with "." + it.
Lookup walks the name's own labels from the left (at most one dictionary probe per label), so its cost does not
grow with the catalog.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import Generic, TypeVar

import idna

V = TypeVar("V")


def normalize_host(host: str) -> str | None:
    """Lower-case A-label form without a trailing dot, or None when the text is no valid host name."""
    name = host.strip().rstrip(".")
    if not name or len(name) > 253:
        return None
    if name.isascii():
        name = name.lower()
        # Labels of letters, digits, hyphens and underscores (seen in real DNS); nothing else is a host name.
        if any(not label or len(label) > 63 for label in name.split(".")):
            return None
        if not all(c.isalnum() or c in "-_." for c in name):
            return None
        return name
    try:
        return idna.encode(name, uts46=True, transitional=False).decode("ascii")
    except idna.IDNAError:
        return None


class MatchKind(StrEnum):
    EXACT = "exact"
    SUFFIX = "suffix"


@dataclass(frozen=True, slots=True)
class HostMatch(Generic[V]):
    value: V
    entry: str  # the catalog name that matched
    kind: MatchKind


class HostIndex(Generic[V]):
    """Exact names and label-boundary suffixes mapped to values."""

    def __init__(self) -> None:
        self._exact: dict[str, V] = {}
        self._suffix: dict[str, V] = {}

    def add_exact(self, name: str, value: V) -> V | None:
        """Add a name; return the value it displaced, if any."""
        previous = self._exact.get(name)
        self._exact[name] = value
        return previous

    def add_suffix(self, name: str, value: V) -> V | None:
        previous = self._suffix.get(name)
        self._suffix[name] = value
        return previous

    def names(self) -> Iterable[tuple[str, MatchKind, V]]:
        yield from ((name, MatchKind.EXACT, value) for name, value in self._exact.items())
        yield from ((name, MatchKind.SUFFIX, value) for name, value in self._suffix.items())

    def lookup(self, host: str) -> HostMatch[V] | None:
        name = normalize_host(host)
        if name is None:
            return None
        return self.lookup_normalized(name)

    def lookup_normalized(self, name: str) -> HostMatch[V] | None:
        """Lookup for a name already in normal form (the sensor normalises once per name it sees)."""
        value = self._exact.get(name)
        if value is not None:
            return HostMatch(value, name, MatchKind.EXACT)
        candidate = name
        while True:
            value = self._suffix.get(candidate)
            if value is not None:
                return HostMatch(value, candidate, MatchKind.SUFFIX)
            dot = candidate.find(".")
            if dot < 0:
                return None
            candidate = candidate[dot + 1 :]
