"""Word lists (recognizer `terms`, context words) compile to one trie-shaped regex: same matches as an
alternation ordered longest first, without trying every word at every position."""

from __future__ import annotations

import regex

from classifiers.recognizers import _word_alternation


def _longest_first(words: tuple[str, ...], *, case_sensitive: bool) -> regex.Pattern[str]:
    ordered = sorted({word.strip() for word in words}, key=len, reverse=True)
    body = "|".join(regex.escape(word) for word in ordered)
    return regex.compile(rf"(?<!\w)(?:{body})(?!\w)", 0 if case_sensitive else regex.IGNORECASE)


WORDS = ("Crohn", "crohn's disease", "AIDS", "aids", "type 2 diabetes", "type 1", "HIV", "HIV-1", "c++", "a.m.")
TEXTS = (
    "Crohn's disease and crohn flare-ups; AIDS/HIV-1 and HIV; type 2 diabetes, type 1 and type 12.",
    "He aids the team with c++ at 9 a.m. daily; Crohns is not a word here.",
)


def test_when_words_compile_to_a_trie_then_matches_equal_the_longest_first_alternation() -> None:
    for case_sensitive in (False, True):
        trie = _word_alternation(WORDS, case_sensitive=case_sensitive)
        plain = _longest_first(WORDS, case_sensitive=case_sensitive)
        for text in TEXTS:
            assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_when_a_longer_word_starts_like_a_shorter_one_then_the_longer_wins() -> None:
    found = [m.group() for m in _word_alternation(WORDS).finditer(TEXTS[0])]
    assert found[:2] == ["Crohn's disease", "crohn"]
    assert "HIV-1" in found
    assert "type 2 diabetes" in found
    assert "type 12" not in found
