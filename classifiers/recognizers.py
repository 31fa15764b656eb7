"""Entity recognizers built from the rule files: regexes, vocabularies, or Presidio's predefined recognizers.

Each runs in the cheap first pass, before any NER. A keyword or trigger pre-filter skips a recognizer on texts that
cannot hold its entity (no `@`, no run of digits), which is most texts for most recognizers. Context words are
searched in a character window around the match on the original text, so the offsets stay those of the text the
caller gave (lower-casing can change a string's length).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator

import regex
from presidio_analyzer import EntityRecognizer
from presidio_analyzer import predefined_recognizers as presidio_recognizers

from classifiers.results import Entity
from classifiers.validators import CHECKS, entropy_check
from rules.classifier_schema import Context, Recognizer

# A pathological regex on a hostile text must not stall a collector worker (the `regex` module's own timeout).
REGEX_TIMEOUT_SECONDS = 0.5
Span = tuple[int, int, float]
# A compiled pattern, its score, and the index of its pre-check (`requires`) among the recognizer's, or -1.
_Compiled = tuple[regex.Pattern[str], float, int]
# Below this a match is not worth reporting: a bare nine-digit number without an SSN word near it (0.1) is noise.
MIN_ENTITY_SCORE = 0.3
# A Presidio recognizer with a trigger reads only the text around the trigger's matches: this many characters each
# side, widened to whitespace so no token is cut. Its findings are local (a phone number, an IBAN, an id with its
# checksum), so the spans are the same as on the whole text, and the phone matcher (eight regions, each scanning the
# whole text) no longer reads paragraphs of prose around one number.
PRESIDIO_WINDOW_CHARS = 64
_WHITESPACE = regex.compile(r"\s")
_LAST_WHITESPACE = regex.compile(r"\s", flags=regex.REVERSE)


class RecognizerBuildError(ValueError):
    pass


_TrieNode = dict[str, "_TrieNode"]


def _trie(words: list[str]) -> str:
    """The words as one regex in trie form: at each character a single branch, a longer word tried before a
    shorter one that ends there, so the match is the longest word at that position as an alternation ordered
    longest first would give, but without trying each of a few hundred words at every position."""
    root: _TrieNode = {}
    for word in words:
        node = root
        for char in word:
            node = node.setdefault(char, {})
        node[""] = {}

    def body(node: _TrieNode) -> str:
        branches = [regex.escape(char) + body(child) for char, child in sorted(node.items()) if char]
        if not branches:
            return ""
        joined = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
        return f"(?:{joined})?" if "" in node else joined

    return body(root)


def _word_alternation(words: tuple[str, ...], *, case_sensitive: bool = False) -> regex.Pattern[str]:
    # Case-insensitive words are folded first so that "Crohn" and "crohn's disease" share a branch and the longer
    # one still wins.
    folded = {word.strip() if case_sensitive else word.strip().lower() for word in words} - {""}
    return regex.compile(rf"(?<!\w){_trie(sorted(folded))}(?!\w)", 0 if case_sensitive else regex.IGNORECASE)


class _ContextCheck:
    def __init__(self, context: Context) -> None:
        self._words = _word_alternation(context.words)
        self._before = context.window.before
        self._after = context.window.after
        self.boost = context.boost
        self.required = context.required
        self._against = _word_alternation(context.against) if context.against else None

    def found(self, text: str, start: int, end: int) -> bool:
        return self._words.search(text, max(0, start - self._before), min(len(text), end + self._after)) is not None

    def against(self, text: str, start: int, end: int) -> bool:
        if self._against is None:
            return False
        window = (max(0, start - self._before), min(len(text), end + self._after))
        return self._against.search(text, *window) is not None


class Prechecks:
    """Which pre-checks are found in one text, each searched for at most once (patterns may share one)."""

    def __init__(self, gates: list[regex.Pattern[str]], text: str) -> None:
        self._gates = gates
        self._text = text
        self._found: dict[int, bool] = {}

    def __call__(self, index: int) -> bool:
        found = self._found.get(index)
        if found is None:
            try:
                found = self._gates[index].search(self._text, timeout=REGEX_TIMEOUT_SECONDS) is not None
            except TimeoutError:
                found = True  # undecided: the pattern itself runs, under its own timeout
            self._found[index] = found
        return found


def _presidio_recognizer(name: str) -> EntityRecognizer:
    found = getattr(presidio_recognizers, name, None)
    if not isinstance(found, type) or not issubclass(found, EntityRecognizer):
        raise RecognizerBuildError(f"presidio has no recognizer {name}")
    # The predefined recognizers take no required arguments; the base class does.
    recognizer: EntityRecognizer = found()  # type: ignore[call-arg]
    return recognizer


class EntityFinder:
    """One recognizer rule, ready to run: candidates from its source, then validator, deny list and context."""

    def __init__(self, rule: Recognizer) -> None:
        self.rule = rule
        self.entity = rule.entity
        self._keywords = tuple(keyword.lower() for keyword in rule.keywords)
        self._trigger = regex.compile(rule.trigger) if rule.trigger else None
        self._deny = frozenset(rule.deny)
        self._deny_pattern = regex.compile(rule.deny_pattern, regex.IGNORECASE) if rule.deny_pattern else None
        self._context = _ContextCheck(rule.context) if rule.context else None
        self._check: Callable[[str], bool] | None = None
        if rule.validator == "entropy":
            self._check = entropy_check(rule.min_entropy)
        elif rule.validator is not None:
            self._check = CHECKS[rule.validator]
        self._candidates = self._source(rule)

    def _source(self, rule: Recognizer) -> Callable[[str], Iterator[Span]]:
        flags = 0 if rule.case_sensitive else regex.IGNORECASE
        if rule.patterns:
            prechecks = list(dict.fromkeys(p.requires for p in rule.patterns if p.requires is not None))
            gates = [regex.compile(requires, flags) for requires in prechecks]
            compiled = [
                (regex.compile(p.regex, flags), p.score, -1 if p.requires is None else prechecks.index(p.requires))
                for p in rule.patterns
            ]
            return lambda text: self._pattern_spans(compiled, gates, text)
        if rule.terms:
            vocabulary = _word_alternation(rule.terms, case_sensitive=rule.case_sensitive)
            return lambda text: self._pattern_spans([(vocabulary, rule.terms_score, -1)], [], text)
        assert rule.presidio is not None  # the schema demands one source
        recognizer = _presidio_recognizer(rule.presidio)
        if self.entity not in recognizer.supported_entities and len(recognizer.supported_entities) != 1:
            raise RecognizerBuildError(f"{rule.presidio} does not find {self.entity}")
        if self._trigger is None:
            return lambda text: self._presidio_spans(recognizer, text)
        trigger = self._trigger
        return lambda text: self._presidio_window_spans(recognizer, trigger, text)

    def _pattern_spans(self, compiled: list[_Compiled], gates: list[regex.Pattern[str]], text: str) -> Iterator[Span]:
        group = self.rule.group
        passed = Prechecks(gates, text)
        for pattern, score, gate in compiled:
            if gate >= 0 and not passed(gate):
                continue
            try:
                for match in pattern.finditer(text, timeout=REGEX_TIMEOUT_SECONDS):
                    start, end = match.span(group)
                    if end > start:
                        yield start, end, score
            except TimeoutError:
                continue  # a hostile text: the other patterns still run

    @staticmethod
    def _presidio_spans(recognizer: EntityRecognizer, text: str) -> Iterator[Span]:
        entities = recognizer.supported_entities
        # Pattern recognizers need no NLP artifacts; Presidio's signature asks for them regardless.
        for result in recognizer.analyze(text, entities, None):  # type: ignore[arg-type]
            yield result.start, result.end, result.score

    @classmethod
    def _presidio_window_spans(
        cls, recognizer: EntityRecognizer, trigger: regex.Pattern[str], text: str
    ) -> Iterator[Span]:
        for start, end in trigger_windows(trigger, text):
            for found_start, found_end, score in cls._presidio_spans(recognizer, text[start:end]):
                yield start + found_start, start + found_end, score

    def applies_to(self, text: str, lowered: str) -> bool:
        if self._keywords and not any(keyword in lowered for keyword in self._keywords):
            return False
        return self._trigger is None or self._trigger.search(text) is not None

    def find(self, text: str, lowered: str) -> list[Entity]:
        if not self.applies_to(text, lowered):
            return []
        found: list[Entity] = []
        for start, end, base in self._candidates(text):
            value = text[start:end]
            if value in self._deny or (self._check is not None and not self._check(value)):
                continue
            if self._deny_pattern is not None and self._deny_pattern.search(value):
                continue
            score = base
            if self._context is not None:
                if self._context.found(text, start, end):
                    score = min(1.0, max(score, 0.4) + self._context.boost)
                elif self._context.required:
                    continue
                if self._context.against(text, start, end):
                    score -= self._context.boost
            if score < MIN_ENTITY_SCORE:
                continue
            found.append(Entity(self.entity, start, end, score))
        return found


def trigger_windows(trigger: regex.Pattern[str], text: str) -> list[tuple[int, int]]:
    """Merged windows of PRESIDIO_WINDOW_CHARS around each trigger match, widened to whitespace or the text's ends.

    Widening looks at most PRESIDIO_WINDOW_CHARS further, so text without whitespace (minified JSON, a run of
    digits) costs one bounded search per window, and a match that falls inside the last window costs none."""
    windows: list[tuple[int, int]] = []
    for match in trigger.finditer(text):
        start = max(0, match.start() - PRESIDIO_WINDOW_CHARS)
        end = min(len(text), match.end() + PRESIDIO_WINDOW_CHARS)
        if windows and start <= windows[-1][1]:
            if end > windows[-1][1]:
                windows[-1] = (windows[-1][0], _widen_end(text, end))
            continue
        windows.append((_widen_start(text, start), _widen_end(text, end)))
    return windows


def _widen_start(text: str, position: int) -> int:
    floor = max(0, position - PRESIDIO_WINDOW_CHARS)
    found = _LAST_WHITESPACE.search(text, floor, position)
    if found is not None:
        return found.end()
    return floor


def _widen_end(text: str, position: int) -> int:
    found = _WHITESPACE.search(text, position, min(len(text), position + PRESIDIO_WINDOW_CHARS))
    if found is not None:
        return found.start()
    return min(len(text), position + PRESIDIO_WINDOW_CHARS)
