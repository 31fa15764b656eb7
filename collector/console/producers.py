"""Sensors and devices as the console lists them: filtered by kind and status, troubled ones first, paged."""

from __future__ import annotations

from dataclasses import dataclass

from collector.producer_health import ProducerHealth, Status

PAGE_SIZE = 100
# What needs a look comes first: a silent tap box or a backlog is why someone opens this page.
_URGENCY = {Status.SILENT: 0, Status.LAGGING: 1, Status.OK: 2, Status.REVOKED: 3}


@dataclass(frozen=True, slots=True)
class ProducerPage:
    rows: list[ProducerHealth]
    counts: dict[str, int]  # per status, under the kind filter
    matched: int
    page: int
    pages: int


def producer_page(producers: list[ProducerHealth], kind: str, status: str, page: int) -> ProducerPage:
    of_kind = [p for p in producers if not kind or p.kind.value == kind]
    counts = {s.value: sum(1 for p in of_kind if p.status is s) for s in Status}
    kept = [p for p in of_kind if not status or p.status.value == status]
    kept.sort(key=lambda p: (p.kind.value != "sensor", _URGENCY[p.status], p.producer_id))
    pages = max(1, -(-len(kept) // PAGE_SIZE))
    page = min(max(page, 1), pages)
    return ProducerPage(kept[(page - 1) * PAGE_SIZE : page * PAGE_SIZE], counts, len(kept), page, pages)
