"""NER runs the named-entity pipe alone: the shared tok2vec feeds only the tagger and parser, which are off."""

from __future__ import annotations

from classifiers.ner import PersonFinder


def test_when_names_are_wanted_then_only_the_ner_pipe_runs_and_names_are_found() -> None:
    finder = PersonFinder()
    assert finder._engine.nlp["en"].pipe_names == ["ner"]  # type: ignore[attr-defined]
    text = "Call Maria Gonzalez on 555 1234; she lives with John Smith."
    names = [text[e.start : e.end] for e in finder.find([text])[0]]
    assert names == ["Maria Gonzalez", "John Smith"]
