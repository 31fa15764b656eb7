"""Classifying prompt and paste text as it arrives, reduced to what may be stored.

What leaves this module is labels, scores, entity types with counts and a redacted snippet — never the text or
an entity's value. The classifier (spaCy included) is loaded once per process and shared by every app built in
it: it is read-only after loading, and loading costs about a second.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from typing import TYPE_CHECKING, Any

from collector.content_hash import ContentHasher
from exposure.inventory import Category

if TYPE_CHECKING:
    from classifiers.engine import Classifier
    from classifiers.results import Entity

log = logging.getLogger(__name__)


_CATEGORY_OF_LABEL = {
    "pii": Category.PERSONAL_DATA,
    "phi": Category.HEALTH,
    "payment_card": Category.PAYMENT_CARD,
    "legal": Category.LEGAL,
    "credentials": Category.CREDENTIALS,
}
BANK_ENTITIES = frozenset({"IBAN_CODE", "SWIFT_CODE", "US_BANK_NUMBER", "ABA_ROUTING_NUMBER"})
# Entities that stand for one person, most stable first: a text's people are the values of its most frequent
# identifier type (ties go to the more stable type), so one person's e-mail and phone are not two people and the
# same person pasted again hashes the same whatever the small NER model made of the name. Names count only in
# texts without identifiers.
IDENTIFIER_PREFERENCE = (
    "US_SSN", "UK_NINO", "US_ITIN", "ES_NIF", "IT_FISCAL_CODE", "PL_PESEL", "FI_PERSONAL_IDENTITY_CODE",
    "US_PASSPORT", "US_DRIVER_LICENSE", "MEDICAL_RECORD_NUMBER", "HEALTH_INSURANCE_ID", "EMAIL_ADDRESS",
    "PHONE_NUMBER", "CREDIT_CARD", "IBAN_CODE", "US_BANK_NUMBER", "DATE_OF_BIRTH",
)  # fmt: skip
_SEPARATORS = re.compile(r"[\s\-().]+")


def categories_of(labels: Iterable[str], entity_types: Iterable[str]) -> list[Category]:
    """The exposure categories of a text's labels; `financial` splits into bank details and corporate figures."""
    found = {_CATEGORY_OF_LABEL[label] for label in labels if label in _CATEGORY_OF_LABEL}
    if "financial" in set(labels):
        bank = BANK_ENTITIES & {kind.upper() for kind in entity_types}  # devices send them lower-case
        found.add(Category.BANK_ACCOUNT if bank else Category.CORPORATE_FINANCIAL)
    return sorted(found)


def subject_hashes(text: str, entities: Sequence[Entity], hasher: ContentHasher) -> list[str]:
    """Keyed hashes standing for the people in a text: distinct people can be counted, none can be named."""
    values: dict[str, set[str]] = {}
    for entity in entities:
        if entity.type in IDENTIFIER_PREFERENCE:
            values.setdefault(entity.type, set()).add(_SEPARATORS.sub("", text[entity.start : entity.end].lower()))
    if values:
        kind = max(values, key=lambda k: (len(values[k]), -IDENTIFIER_PREFERENCE.index(k)))
    else:
        kind = "PERSON"
        names = {" ".join(text[e.start : e.end].lower().split()) for e in entities if e.type == "PERSON"}
        values[kind] = names
    return sorted(hasher.hexdigest(f"subject:{kind}:{value}")[:32] for value in values[kind])


@dataclass(frozen=True, slots=True)
class ContentSummary:
    stored: dict[str, Any]  # goes into the event's detail
    categories: list[Category]
    subjects: list[str]


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

    def summaries(self, texts: Sequence[str], hasher: ContentHasher) -> list[ContentSummary]:
        """Per text: what the collector stores about its content, its exposure categories and its people."""
        summaries: list[ContentSummary] = []
        for text, result in zip(texts, self._classifier.classify_many(texts), strict=True):
            labels = [label.value for label in result.labels]
            stored: dict[str, Any] = {
                "labels": labels,
                "scores": {label.value: round(score, 3) for label, score in result.scores.items() if score > 0},
                "entity_counts": result.entity_counts,
            }
            if result.labels:
                stored["snippet"] = self._classifier.redacted_snippet(text, result)
            if result.truncated:
                stored["truncated"] = True
            categories = categories_of(labels, result.entity_counts)
            subjects = subject_hashes(text, result.entities, hasher) if categories else []
            summaries.append(ContentSummary(stored, categories, subjects))
        return summaries
