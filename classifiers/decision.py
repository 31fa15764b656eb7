"""From entities and document scores to labels: the label rules of rules/classifiers/labels.yaml.

"Any entity" is not a PII decision: a name alone, a city or a date is what ordinary prompts are made of. A label
needs evidence of its own kind — an identifier that is personal by itself, or an entity corroborated by another
close by (a phone number next to a person's name, a diagnosis next to a patient). Two independent signals combine
as a noisy-or: each could be wrong, both being wrong is less likely.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence

from classifiers.results import Entity
from events.labels import DataLabel
from rules.classifier_schema import EntityEvidence, LabelFile, NearEvidence


def _noisy_or(first: float, second: float) -> float:
    return 1.0 - (1.0 - first) * (1.0 - second)


def _gap(first: Entity, second: Entity) -> int:
    return max(0, max(first.start, second.start) - min(first.end, second.end))


def near_score(evidence: NearEvidence, entities: Sequence[Entity]) -> float:
    anchors = [entity for entity in entities if entity.type in evidence.entities]
    partners = [entity for entity in entities if entity.type in evidence.near]
    best = 0.0
    for anchor in anchors:
        for partner in partners:
            if partner is not anchor and _gap(anchor, partner) <= evidence.window:
                best = max(best, _noisy_or(anchor.score, partner.score))
    return best


def entity_score(evidence: EntityEvidence, entities: Iterable[Entity]) -> float:
    return max((entity.score for entity in entities if entity.type in evidence.entities), default=0.0)


class LabelDecider:
    def __init__(self, rules: LabelFile) -> None:
        self.rules = rules
        self.person_entities = frozenset(rules.person_entities)
        # The near-rules a person's name could satisfy: only their anchors ever need NER.
        self._person_rules = [
            (rule.label, evidence)
            for rule in rules.labels
            for evidence in rule.evidence
            if isinstance(evidence, NearEvidence) and self.person_entities & set(evidence.near)
        ]

    def scores(self, entities: Sequence[Entity], documents: Mapping[str, float]) -> dict[DataLabel, float]:
        """The strongest passing evidence per label (0.0 when none passes)."""
        result = dict.fromkeys(DataLabel, 0.0)
        for rule in self.rules.labels:
            for evidence in rule.evidence:
                if isinstance(evidence, EntityEvidence):
                    score = entity_score(evidence, entities)
                elif isinstance(evidence, NearEvidence):
                    score = near_score(evidence, entities)
                else:
                    score = documents.get(evidence.scorer, 0.0)
                if score >= evidence.min_score:
                    result[rule.label] = max(result[rule.label], score)
        return result

    def ner_anchors(self, entities: Sequence[Entity]) -> list[tuple[Entity, int]]:
        """Entities (with their window) next to which a person's name would give or raise a label.

        Looked for even when the label is already certain: the name is evidence, and the redacted text must not
        show the name of the person whose phone number it hides.
        """
        return [
            (entity, evidence.window)
            for _, evidence in self._person_rules
            for entity in entities
            if entity.type in evidence.entities
        ]
