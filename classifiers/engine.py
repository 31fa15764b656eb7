"""The classifier: cheap passes first, NER only where a name could change the answer, then the label rules.

1. Pattern pass: every recognizer whose pre-filter fires (regexes with validators and context windows, vocabularies,
   Presidio's checksum recognizers).
2. Document scorers for `legal` and `financial`.
3. Label rules on what was found; the near-rules that a person's name could still satisfy name their anchors, and
   NER runs on windows around those anchors only — batched over all texts of the call through `nlp.pipe`.
4. Label rules again with the names, the redacted text, and the result.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import regex

from classifiers.decision import LabelDecider
from classifiers.documents import CompiledScorer
from classifiers.ner import PersonFinder
from classifiers.recognizers import EntityFinder
from classifiers.redaction import redact, without_overlaps
from classifiers.results import Classification, Entity
from events.labels import DataLabel
from rules.classifier_rules import CLASSIFIER_DIR, ClassifierRules, load_classifier_rules

# A prompt is at most a few pages; beyond this a paste is a file, and only its head is looked at (and the result
# says so) — the cost of a pass must stay bounded whatever is pasted.
MAX_TEXT_CHARS = 200_000
# What a reviewer sees of a labelled text: enough to judge it, not the document.
SNIPPET_CHARS = 240
_NAME_SHAPE = regex.compile(r"[\p{L}][\p{L}\p{M}.' -]*[\p{L}.]")
# A name this far back from a window's edge is still seen whole.
_WORD_SNAP = 40


@dataclass(slots=True)
class _Pending:
    text: str
    truncated: bool
    entities: list[Entity]
    documents: dict[str, float]
    windows: list[tuple[int, int]]


def _merge(windows: list[tuple[int, int]]) -> list[tuple[int, int]]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(windows):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def _snap_start(text: str, start: int) -> int:
    """Move a window's start back to a whitespace so the first word is not cut in half."""
    floor = max(0, start - _WORD_SNAP)
    while start > floor and not text[start - 1].isspace():
        start -= 1
    return start


def _snap_end(text: str, end: int) -> int:
    ceiling = min(len(text), end + _WORD_SNAP)
    while end < ceiling and not text[end].isspace():
        end += 1
    return end


def _plausible_name(text: str, name: Entity, found: list[Entity]) -> bool:
    """The small model also calls "COVID-19", "Holcombe Blvd" or "{" a person; a name is letters, starts with a
    capital, and is not part of something a pattern already recognised (an address, a diagnosis)."""
    value = text[name.start : name.end]
    if not value[:1].isupper() or not _NAME_SHAPE.fullmatch(value):
        return False
    return all(name.end <= other.start or name.start >= other.end for other in found)


class Classifier:
    def __init__(self, rules: ClassifierRules, persons: PersonFinder | None) -> None:
        self.rules = rules
        self._finders = [EntityFinder(rule) for rule in rules.recognizers]
        self._scorers = [CompiledScorer(rule) for rule in rules.scorers]
        self._decider = LabelDecider(rules.labels)
        self._persons = persons
        self._suppressed_by = {
            rule.entity: frozenset(rule.suppressed_by) for rule in rules.recognizers if rule.suppressed_by
        }

    @classmethod
    def load(cls, directory: Path = CLASSIFIER_DIR, *, ner: bool = True) -> Classifier:
        """The shipped rules (or another rules directory); `ner=False` skips loading spaCy (pattern-only mode)."""
        rules = load_classifier_rules(directory)
        persons = PersonFinder(rules.labels.person_entities) if ner else None
        return cls(rules, persons)

    def classify(self, text: str) -> Classification:
        return self.classify_many([text])[0]

    def classify_many(self, texts: Sequence[str]) -> list[Classification]:
        pending = [self._first_pass(text) for text in texts]
        self._add_names(pending)
        return [self._finish(item) for item in pending]

    def redacted_snippet(self, text: str, result: Classification, width: int = SNIPPET_CHARS) -> str:
        """A short redacted excerpt around the first evidence, for a reviewer's alert view.

        NER so far only looked near anchors; the excerpt gets its own NER pass so that no name in it is left
        showing (a contract's parties, a letter's addressee), which costs a few hundred characters of NER per
        labelled text and nothing for the rest.
        """
        text = text[:MAX_TEXT_CHARS]
        center = result.entities[0].start if result.entities else 0
        start = _snap_start(text, max(0, center - width // 2))
        end = _snap_end(text, min(len(text), start + width))
        inside = [
            Entity(e.type, max(e.start, start) - start, min(e.end, end) - start, e.score)
            for e in result.entities
            if e.end > start and e.start < end
        ]
        excerpt = text[start:end]
        if self._persons is not None:
            inside.extend(self._persons.find([excerpt])[0])
        prefix = "…" if start > 0 else ""
        suffix = "…" if end < len(text) else ""
        return prefix + redact(excerpt, without_overlaps(inside)) + suffix

    def _first_pass(self, text: str) -> _Pending:
        truncated = len(text) > MAX_TEXT_CHARS
        if truncated:
            text = text[:MAX_TEXT_CHARS]
        lowered = text.lower()
        entities = self._without_suppressed(
            [entity for finder in self._finders for entity in finder.find(text, lowered)]
        )
        documents = {scorer.id: scorer.score(text) for scorer in self._scorers}
        windows = [
            (_snap_start(text, max(0, anchor.start - window)), _snap_end(text, min(len(text), anchor.end + window)))
            for anchor, window in self._decider.ner_anchors(entities)
        ]
        return _Pending(text, truncated, entities, documents, _merge(windows))

    def _without_suppressed(self, entities: list[Entity]) -> list[Entity]:
        if not self._suppressed_by:
            return entities
        return [
            entity
            for entity in entities
            if not any(
                other.type in self._suppressed_by.get(entity.type, ())
                and other.start < entity.end
                and entity.start < other.end
                for other in entities
            )
        ]

    def _add_names(self, pending: list[_Pending]) -> None:
        if self._persons is None:
            return
        requests = [(item, start) for item in pending for start, _ in item.windows]
        chunks = [item.text[start:end] for item in pending for start, end in item.windows]
        for (item, offset), names in zip(requests, self._persons.find(chunks), strict=True):
            shifted = [Entity(name.type, name.start + offset, name.end + offset, name.score) for name in names]
            item.entities.extend(name for name in shifted if _plausible_name(item.text, name, item.entities))

    def _finish(self, item: _Pending) -> Classification:
        scores = self._decider.scores(item.entities, item.documents)
        labels = tuple(label for label in DataLabel if scores[label] > 0.0)
        entities = tuple(sorted(set(item.entities), key=lambda e: (e.start, e.end, e.type)))
        return Classification(
            labels=labels,
            scores=scores,
            entities=entities,
            redacted=redact(item.text, without_overlaps(entities)),
            truncated=item.truncated,
            entity_counts=dict(Counter(entity.type for entity in entities)),
        )
