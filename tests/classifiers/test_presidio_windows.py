"""A Presidio recognizer with a trigger reads only windows around the trigger's matches, and finds the same spans."""

from __future__ import annotations

import regex

from classifiers.recognizers import PRESIDIO_WINDOW_CHARS, EntityFinder, trigger_windows
from rules.classifier_schema import Recognizer

PROSE = "The quarterly review covered staffing, travel and the new office layout in some detail. " * 6


def _phone_finder(trigger: str | None) -> EntityFinder:
    rule: dict[str, object] = {
        "id": "phone",
        "entity": "PHONE_NUMBER",
        "description": "Presidio's phone recognizer.",
        "presidio": "PhoneRecognizer",
        "examples": {"match": ["Call me on (294) 387-2874."], "no_match": ["No digits here."]},
    }
    if trigger is not None:
        rule["trigger"] = trigger
    return EntityFinder(Recognizer.model_validate(rule))


def test_when_numbers_sit_in_long_prose_then_windows_find_the_spans_the_whole_text_gives() -> None:
    text = "+44 20 7946 0958 first. " + PROSE + "Call (415) 555-0198 or 415.555.0143. " + PROSE + "Fax 212-555-0101"
    whole = _phone_finder(None).find(text, text.lower())
    windowed = _phone_finder(r"\d[\d\s().-]{6,}\d").find(text, text.lower())
    assert {(e.start, e.end) for e in windowed} == {(e.start, e.end) for e in whole}
    assert [text[e.start : e.end] for e in sorted(windowed, key=lambda e: e.start)] == [
        "+44 20 7946 0958",
        "(415) 555-0198",
        "415.555.0143",
        "212-555-0101",
    ]


def test_when_trigger_matches_are_close_then_their_windows_merge_and_end_on_whitespace() -> None:
    text = PROSE + "12345678 and 87654321 " + PROSE
    windows = trigger_windows(regex.compile(r"\d{8}"), text)
    assert len(windows) == 1
    start, end = windows[0]
    assert start <= text.index("12345678") - PRESIDIO_WINDOW_CHARS
    assert end >= text.index("87654321") + 8 + PRESIDIO_WINDOW_CHARS
    assert start == 0 or text[start - 1].isspace()
    assert end == len(text) or text[end].isspace()


def test_when_the_trigger_is_absent_then_no_window_is_read() -> None:
    assert trigger_windows(regex.compile(r"\d{8}"), PROSE) == []


def test_when_a_number_lies_far_from_every_trigger_match_then_the_window_does_not_read_it() -> None:
    # The windows are what the recognizer reads: with a trigger for bracketed area codes only, the dashed number
    # three hundred characters on is outside every window (the whole text would give both).
    text = "Call (415) 555-0198 today. " + PROSE + "Fax 212-555-0101"
    windowed = _phone_finder(r"\(\d{3}\)").find(text, text.lower())
    whole = _phone_finder(None).find(text, text.lower())
    assert [text[e.start : e.end] for e in windowed] == ["(415) 555-0198"]
    assert len(whole) == 2
