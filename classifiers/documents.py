"""Document-level scores for `legal` and `financial`: a logistic over capped counts of rule features.

Contract text and financial statements are recognised by what they are made of (obligation language, defined
terms, clause numbering; currency amounts, periods, statement line items), not by any single entity. Counts are
capped so one repeated word cannot carry a document, and short texts are not scored at all: a question *about*
an NDA is a dozen words and has none of the structure.
"""

from __future__ import annotations

import math

import regex

from classifiers.recognizers import Prechecks
from rules.classifier_schema import DocumentScorer

_WORD = regex.compile(r"\w+")
REGEX_TIMEOUT_SECONDS = 0.5


class CompiledScorer:
    def __init__(self, rule: DocumentScorer) -> None:
        self.rule = rule
        self.id = rule.id
        self.label = rule.label
        prechecks = list(dict.fromkeys(f.requires for f in rule.features if f.requires is not None))
        self._gates = [regex.compile(requires) for requires in prechecks]
        self._features = [
            (regex.compile(f.regex), f.weight, f.cap, -1 if f.requires is None else prechecks.index(f.requires))
            for f in rule.features
        ]

    def logit(self, text: str) -> float:
        total = self.rule.bias
        passed = Prechecks(self._gates, text)
        for pattern, weight, cap, gate in self._features:
            if gate >= 0 and not passed(gate):
                continue  # its pre-check is absent, so the feature cannot occur
            count = 0
            try:
                for _ in pattern.finditer(text, timeout=REGEX_TIMEOUT_SECONDS):
                    count += 1
                    if count == cap:
                        break
            except TimeoutError:
                continue
            total += weight * count
        return total

    def score(self, text: str) -> float:
        if len(_WORD.findall(text[: self.rule.min_words * 40])) < self.rule.min_words:
            return 0.0
        return 1.0 / (1.0 + math.exp(-self.logit(text)))
