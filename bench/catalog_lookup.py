"""Catalog lookup speed: the sensor's hot-path question "which AI tool is this host name?".

Compares ShadowScope's label-walk over two dictionaries with the obvious alternative, one compiled regular
expression over every catalog name, on the same mix of names in the same run (a ratio, since this machine is
shared and noisy). Names: every catalog entry with a random subdomain (AI), lookalikes that must not match, and
ordinary non-AI names of one to four labels. Peak memory of the built index is measured with tracemalloc.

    .venv/bin/python bench/catalog_lookup.py [--names 200000] [--repeat 5]
"""

from __future__ import annotations

import argparse
import random
import re
import string
import sys
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from rules.catalog import Catalog, load_catalog
from rules.hostnames import normalize_host

COMMON_TLDS = ["com", "net", "org", "io", "de", "co.uk", "fr", "cn", "ru", "jp", "ai", "dev", "app"]


def _label(rng: random.Random) -> str:
    return "".join(rng.choices(string.ascii_lowercase + string.digits, k=rng.randint(3, 12)))


def make_names(catalog: Catalog, count: int, rng: random.Random) -> list[str]:
    entries = [name for name, _kind, _value in catalog.index.names()]
    names: list[str] = []
    while len(names) < count:
        roll = rng.random()
        entry = rng.choice(entries)
        if roll < 0.3:  # an AI tool's name, often with a subdomain
            names.append(entry if rng.random() < 0.3 else f"{_label(rng)}.{entry}")
        elif roll < 0.4:  # lookalikes
            names.append(rng.choice([f"not{entry}", f"{entry}.{_label(rng)}.com", f"{entry}-cdn.net"]))
        else:  # everything else a network sees
            labels = [_label(rng) for _ in range(rng.randint(1, 3))]
            names.append(".".join([*labels, rng.choice(COMMON_TLDS)]))
    return names


def regex_matcher(catalog: Catalog) -> Callable[[str], str | None]:
    """The peer: one alternation of every exact name and suffix, anchored at a label boundary."""
    exact = {name: value.tool.id for name, kind, value in catalog.index.names() if kind == "exact"}
    suffixes = sorted((name for name, kind, _ in catalog.index.names() if kind == "suffix"), key=len, reverse=True)
    owner = {name: value.tool.id for name, kind, value in catalog.index.names() if kind == "suffix"}
    pattern = re.compile(r"(?:^|\.)(" + "|".join(re.escape(s) for s in suffixes) + r")$")

    def match(host: str) -> str | None:
        name = normalize_host(host)
        if name is None:
            return None
        if name in exact:
            return exact[name]
        found = pattern.search(name)
        return owner[found.group(1)] if found else None

    return match


def time_it(lookup: Callable[[str], object], names: list[str], repeat: int) -> float:
    best = float("inf")
    for _ in range(repeat):
        start = time.perf_counter()
        for name in names:
            lookup(name)
        best = min(best, time.perf_counter() - start)
    return len(names) / best


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--names", type=int, default=200_000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    tracemalloc.start()
    catalog = load_catalog()
    _, catalog_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    names = make_names(catalog, args.names, random.Random(7))

    def ours(host: str) -> str | None:
        found = catalog.lookup(host)
        return found.value.tool.id if found else None

    peer = regex_matcher(catalog)
    disagreements = sum(1 for name in names if ours(name) != peer(name))
    matched = sum(1 for name in names if ours(name) is not None)
    ours_rate = time_it(ours, names, args.repeat)
    peer_rate = time_it(peer, names, args.repeat)
    entries = sum(1 for _ in catalog.index.names())
    print(f"catalog: {len(catalog)} tools, {entries} names; load peak {catalog_peak / 2**20:.1f} MiB (tracemalloc)")
    print(f"names: {len(names)} ({matched} resolve to a tool); disagreements with the peer: {disagreements}")
    print("| matcher | lookups/s | ratio |")
    print("|---|---:|---:|")
    print(f"| ShadowScope HostIndex (label walk over dicts) | {ours_rate:,.0f} | {ours_rate / peer_rate:.1f}x |")
    print(f"| one compiled regex over all names (peer) | {peer_rate:,.0f} | 1.0x |")
    return 0 if disagreements == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
