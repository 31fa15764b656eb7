"""What classifying one text gives: labels with scores, the evidence entities, and a redacted text."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from events.labels import DataLabel


@dataclass(frozen=True, slots=True)
class Entity:
    """A span of the text: character offsets into the original text, `end` exclusive."""

    type: str
    start: int
    end: int
    score: float

    def as_dict(self) -> dict[str, Any]:
        return {"type": self.type, "start": self.start, "end": self.end, "score": round(self.score, 3)}


@dataclass(frozen=True, slots=True)
class Classification:
    labels: tuple[DataLabel, ...]
    scores: dict[DataLabel, float]
    entities: tuple[Entity, ...]
    redacted: str
    # Set when the text was cut to the size cap: what follows the cap was not looked at.
    truncated: bool = False
    entity_counts: dict[str, int] = field(default_factory=dict)

    def as_dict(self) -> dict[str, Any]:
        return {
            "labels": [label.value for label in self.labels],
            "scores": {label.value: round(score, 3) for label, score in self.scores.items()},
            "entities": [entity.as_dict() for entity in self.entities],
        }
