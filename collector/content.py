"""Classifying prompt and paste text as it arrives, reduced to what may be stored.

What leaves this module is labels, scores, entity types with counts and a redacted snippet — never the text or
an entity's value. The classifier (spaCy included) is loaded once per process and shared by every app built in
it: it is read-only after loading, and loading costs about a second.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from classifiers.engine import Classifier

log = logging.getLogger(__name__)


@cache
def shared_classifier(ner: bool) -> Classifier:
    from classifiers.engine import Classifier  # noqa: PLC0415 - spaCy loads only when classification is on

    log.info("loading the content classifier", extra={"ner": ner})
    return Classifier.load(ner=ner)


class ContentClassifier:
    def __init__(self, classifier: Classifier) -> None:
        self._classifier = classifier

    @classmethod
    def shared(cls, *, ner: bool = True) -> ContentClassifier:
        return cls(shared_classifier(ner))

    def summaries(self, texts: Sequence[str]) -> list[dict[str, Any]]:
        """Per text: what the collector stores about its content."""
        summaries: list[dict[str, Any]] = []
        for text, result in zip(texts, self._classifier.classify_many(texts), strict=True):
            summary: dict[str, Any] = {
                "labels": [label.value for label in result.labels],
                "scores": {label.value: round(score, 3) for label, score in result.scores.items() if score > 0},
                "entity_counts": result.entity_counts,
            }
            if result.labels:
                summary["snippet"] = self._classifier.redacted_snippet(text, result)
            if result.truncated:
                summary["truncated"] = True
            summaries.append(summary)
        return summaries
