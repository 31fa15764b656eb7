"""From a name on the wire to what it means: which AI tool (if any), or a hidden name (ECH front, DoH resolver)."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass

from rules.catalog import Catalog
from rules.hidden_names import HiddenNames
from rules.hostnames import normalize_host


@dataclass(frozen=True, slots=True)
class ToolRef:
    tool_id: str
    vendor: str


class NameResolver:
    """Catalog lookups for the hot path, memoised: a network sees the same few thousand names over and over."""

    def __init__(self, catalog: Catalog, hidden: HiddenNames, cache_size: int = 65_536) -> None:
        self.catalog = catalog
        self.hidden = hidden
        self._cache: OrderedDict[str, ToolRef | None] = OrderedDict()
        self._cache_size = cache_size

    def tool(self, host: str | None) -> ToolRef | None:
        if host is None:
            return None
        cached = self._cache.get(host, False)
        if cached is not False:
            return cached  # type: ignore[return-value]
        found = self.catalog.lookup(host)
        result = ToolRef(found.value.tool.id, found.value.tool.vendor) if found else None
        self._cache[host] = result
        if len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return result

    def is_ech_front(self, host: str | None) -> bool:
        return host is not None and host in self.hidden.ech_fronts

    def is_doh(self, host: str | None) -> bool:
        return host is not None and host in self.hidden.doh_names


def clean_name(raw: str | None) -> str | None:
    """A name as the sensor reports it: normalised when it is a host name, else lower-cased as seen (IP literals)."""
    if raw is None:
        return None
    return normalize_host(raw) or raw.strip().lower() or None


class AnswerMap:
    """Server address -> the name a DNS answer gave it, so a flow without a name of its own can be attributed."""

    def __init__(self, max_entries: int = 262_144) -> None:
        self._names: OrderedDict[bytes, str] = OrderedDict()
        self._max = max_entries

    def learn(self, address: bytes, name: str) -> None:
        self._names[address] = name
        self._names.move_to_end(address)
        if len(self._names) > self._max:
            self._names.popitem(last=False)

    def name_of(self, address: bytes) -> str | None:
        return self._names.get(address)
