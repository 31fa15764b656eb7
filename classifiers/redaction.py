"""Redacted text: each entity replaced by its type, so a reviewer sees the shape of a prompt, not its data."""

from __future__ import annotations

from collections.abc import Sequence

from classifiers.results import Entity


def without_overlaps(entities: Sequence[Entity]) -> list[Entity]:
    """Where spans overlap keep the most confident (then the longest): one replacement per stretch of text."""
    kept: list[Entity] = []
    for entity in sorted(entities, key=lambda e: (-e.score, -(e.end - e.start), e.start)):
        if all(entity.end <= other.start or entity.start >= other.end for other in kept):
            kept.append(entity)
    return sorted(kept, key=lambda e: e.start)


def redact(text: str, entities: Sequence[Entity]) -> str:
    """`entities` must not overlap (see `without_overlaps`)."""
    parts: list[str] = []
    position = 0
    for entity in sorted(entities, key=lambda e: e.start):
        parts.append(text[position : entity.start])
        parts.append(f"<{entity.type}>")
        position = entity.end
    parts.append(text[position:])
    return "".join(parts)
