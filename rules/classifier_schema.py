"""Schema of the classifier rules (rules/classifiers/): entity recognizers, document scorers and label rules.

Recognizers follow the shape Microsoft Purview's sensitive information types and Google DLP's hotword rules share:
a primary element (a regex, or one of Presidio's predefined recognizers), an optional validator (Luhn, mod-97, …),
and supporting context words within a character window that raise the confidence. A recognizer can demand its
context (`context.required`), which is how weak patterns — nine digits, a licence number — stay quiet in text
that merely contains numbers.

Every file carries examples that must and must not be found, checked when the rules are loaded in tests.
"""

from __future__ import annotations

from typing import Annotated, Literal

import regex
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StringConstraints, model_validator

from events.labels import DataLabel

CLASSIFIER_SCHEMA = "shadowscope/classifiers/v1"

RuleId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
EntityType = Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Z0-9_]{1,47}$")]
Score = Annotated[float, Field(ge=0.0, le=1.0)]
# Long enough for an address layout spelled out in full: the `regex` module's subroutine calls (`(?&name)`) run about
# 100x slower than the same pattern written inline, so a rule repeats its parts rather than naming them.
Regex = Annotated[str, StringConstraints(min_length=1, max_length=4000)]
Keyword = Annotated[str, StringConstraints(min_length=1, max_length=80)]
REQUIRES_DESCRIPTION = (
    "Cheap pre-check: a regex that must be found in the text before `regex` runs (a necessary condition of a match,"
    " such as a house number next to a street word). Patterns sharing one pre-check run it once per text."
)


class RuleModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


def _compiles(pattern: str) -> str:
    try:
        regex.compile(pattern)
    except regex.error as error:
        raise ValueError(f"regex does not compile: {error}") from error
    return pattern


Precheck = Annotated[Regex, AfterValidator(_compiles)]


def _unsafe_precheck(main: str, requires: str, flags: int, texts: tuple[str, ...]) -> str | None:
    """The first example in which `regex` matches but its pre-check does not: the pre-check would hide that match."""
    try:
        found, gate = regex.compile(main, flags), regex.compile(requires, flags)
    except regex.error:
        return None  # the loader reports a regex that does not compile
    return next((text for text in texts if found.search(text) and not gate.search(text)), None)


class Pattern(RuleModel):
    name: RuleId
    regex: Regex
    score: Score = Field(description="Confidence of a match before validation and context.")
    requires: Precheck | None = Field(default=None, description=REQUIRES_DESCRIPTION)


class Window(RuleModel):
    """Characters before and after the match searched for context words (Google DLP's `proximity`)."""

    before: int = Field(default=100, ge=0, le=1000)
    after: int = Field(default=30, ge=0, le=1000)


class Context(RuleModel):
    words: tuple[Keyword, ...] = Field(min_length=1)
    window: Window = Window()
    boost: Score = Field(default=0.35, description="Added to the score when a context word is in the window.")
    required: bool = Field(default=False, description="Drop matches without a context word in the window.")
    against: tuple[Keyword, ...] = Field(
        default=(),
        description='Words that make the match impersonal ("call us", "customer service"): the boost is taken off.',
    )


class Examples(RuleModel):
    match: tuple[str, ...] = Field(min_length=1)
    no_match: tuple[str, ...] = Field(min_length=1)


class Recognizer(RuleModel):
    """One entity type, found by regexes (`patterns`), a vocabulary (`terms`) or a Presidio recognizer (`presidio`)."""

    id: RuleId
    entity: EntityType
    description: str = Field(min_length=1, max_length=400)
    presidio: Annotated[str, StringConstraints(pattern=r"^[A-Z][A-Za-z]+Recognizer$")] | None = None
    patterns: tuple[Pattern, ...] = ()
    terms: tuple[Keyword, ...] = Field(default=(), description="A vocabulary matched as whole words (drug names, …).")
    terms_score: Score = 0.5
    case_sensitive: bool = False
    validator: Literal["luhn", "iban", "aba_routing", "us_ssn", "entropy", "not_all_same"] | None = None
    min_entropy: float = Field(default=3.0, ge=0, le=8, description="Bits per character, for `validator: entropy`.")
    group: int = Field(default=0, ge=0, le=9, description="Regex group that is the entity (0 = the whole match).")
    keywords: tuple[Keyword, ...] = Field(
        default=(), description="Cheap pre-filter: the patterns run only when one of these occurs in the text."
    )
    trigger: Regex | None = Field(
        default=None, description="Cheap pre-filter regex: the recognizer runs only when it is found in the text."
    )
    deny: tuple[str, ...] = Field(default=(), description="Values never reported (published test numbers, …).")
    deny_pattern: Regex | None = Field(
        default=None, description="Values matching this are never reported (role mailboxes such as support@…)."
    )
    context: Context | None = None
    suppressed_by: tuple[EntityType, ...] = Field(
        default=(), description="Entity types that win where they overlap this one (a card is not a phone number)."
    )
    examples: Examples

    @model_validator(mode="after")
    def _one_source(self) -> Recognizer:
        if sum((self.presidio is not None, bool(self.patterns), bool(self.terms))) != 1:
            raise ValueError("give exactly one of `presidio`, `patterns` or `terms`")
        return self

    @model_validator(mode="after")
    def _prechecks_keep_the_examples(self) -> Recognizer:
        flags = 0 if self.case_sensitive else regex.IGNORECASE
        texts = self.examples.match + self.examples.no_match
        for pattern in self.patterns:
            if pattern.requires is None:
                continue
            missed = _unsafe_precheck(pattern.regex, pattern.requires, flags, texts)
            if missed is not None:
                raise ValueError(f"pattern {pattern.name}: `requires` is not found in {missed!r}, where `regex` is")
        return self


class RecognizerFile(RuleModel):
    schema_: Literal["shadowscope/classifiers/v1"] = Field(alias="schema")
    recognizers: tuple[Recognizer, ...] = Field(min_length=1)


class Feature(RuleModel):
    """A signal in a document scorer: each occurrence adds `weight` to the logit, up to `cap` occurrences."""

    id: RuleId
    regex: Regex
    weight: float = Field(ge=-10, le=10)
    cap: int = Field(default=3, ge=1, le=50)
    requires: Precheck | None = Field(default=None, description=REQUIRES_DESCRIPTION)


class DocumentScorer(RuleModel):
    """A document-level score for `legal` or `financial`: logistic over capped feature counts.

    Weights are set by hand from what these documents contain and what questions *about* the subject contain,
    then checked on the evaluation corpus; they are data so a deployment can tune them.
    """

    id: RuleId
    label: Literal[DataLabel.LEGAL, DataLabel.FINANCIAL]
    description: str = Field(min_length=1, max_length=600)
    bias: float = Field(ge=-20, le=20)
    min_words: int = Field(default=8, ge=1, description="Shorter texts are questions or titles, not documents.")
    features: tuple[Feature, ...] = Field(min_length=1)
    examples: Examples

    @model_validator(mode="after")
    def _prechecks_keep_the_examples(self) -> DocumentScorer:
        texts = self.examples.match + self.examples.no_match
        for feature in self.features:
            if feature.requires is None:
                continue
            missed = _unsafe_precheck(feature.regex, feature.requires, 0, texts)
            if missed is not None:
                raise ValueError(f"feature {feature.id}: `requires` is not found in {missed!r}, where `regex` is")
        return self


class DocumentFile(RuleModel):
    schema_: Literal["shadowscope/classifiers/v1"] = Field(alias="schema")
    scorers: tuple[DocumentScorer, ...] = Field(min_length=1)


class EntityEvidence(RuleModel):
    """Entities that on their own give the label."""

    kind: Literal["entity"] = "entity"
    entities: tuple[EntityType, ...] = Field(min_length=1)
    min_score: Score = 0.5


class NearEvidence(RuleModel):
    """An entity counts only with a corroborating entity close by: a phone number about a named person."""

    kind: Literal["near"] = "near"
    entities: tuple[EntityType, ...] = Field(min_length=1)
    near: tuple[EntityType, ...] = Field(min_length=1)
    window: int = Field(default=300, ge=1, le=2000, description="Characters between the two.")
    min_score: Score = 0.5


class DocumentEvidence(RuleModel):
    kind: Literal["document"] = "document"
    scorer: RuleId
    min_score: Score = 0.5


Evidence = Annotated[EntityEvidence | NearEvidence | DocumentEvidence, Field(discriminator="kind")]


class LabelRule(RuleModel):
    label: DataLabel
    evidence: tuple[Evidence, ...] = Field(min_length=1)


class LabelFile(RuleModel):
    schema_: Literal["shadowscope/classifiers/v1"] = Field(alias="schema")
    person_entities: tuple[EntityType, ...] = Field(
        min_length=1, description="Entity types found by NER; NER runs only near entities that need a person."
    )
    labels: tuple[LabelRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _each_label_once(self) -> LabelFile:
        seen = [rule.label for rule in self.labels]
        if len(seen) != len(set(seen)):
            raise ValueError("a label has more than one rule")
        return self
