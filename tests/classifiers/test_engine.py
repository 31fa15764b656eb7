"""The classifier end to end (with spaCy NER): labels on prompts that carry data and none on prompts about it."""

from __future__ import annotations

import pytest

from classifiers.engine import MAX_TEXT_CHARS, Classifier
from events.labels import DataLabel

PII, PHI, CARD, FIN, LEGAL, CREDS = (
    DataLabel.PII,
    DataLabel.PHI,
    DataLabel.PAYMENT_CARD,
    DataLabel.FINANCIAL,
    DataLabel.LEGAL,
    DataLabel.CREDENTIALS,
)


@pytest.fixture(scope="module")
def classifier() -> Classifier:
    return Classifier.load()


CASES = [
    # carrying data
    ("Write a follow-up to Daniel Moreau (dmoreau@northwind-mail.com) about the invoice.", {PII}),
    ("Call Priya Raman on (415) 555-0198 to reschedule the interview.", {PII}),
    ("Employee record: SSN 536-22-8741, start date March 2021.", {PII}),
    ("Patient: Mette Kristiansen, DOB 5/4/1934. Diagnosis: type 2 diabetes; metformin 500 mg.", {PII, PHI}),
    ("My colleague was diagnosed with bipolar disorder and takes lithium carbonate, how do I support her?", {PHI}),
    ("Charge card 4916 3380 9874 2215 exp 09/27 CVV 381 for the renewal.", {CARD}),
    ("Wire the deposit to IBAN GB33BUKB20201555555555, reference INV-2291.", {FIN}),
    (
        "Draft for the board: Q3 revenue came in at $48.2 million, up 12% year-over-year, operating margin 18%, "
        "and we are raising full-year guidance to $190 million before the earnings call.",
        {FIN},
    ),
    (
        "Review this clause: The Receiving Party shall not disclose any Confidential Information to any third "
        "party without the prior written consent of the Disclosing Party, and shall indemnify the Disclosing "
        "Party against any breach hereof.",
        {LEGAL},
    ),
    ("Why does this fail? client = Client(api_key='sk_live_8mgzmT44DGp0Zx72nG4SAl8Lntd0wIjF')", {CREDS}),
    # about the subject, or ordinary prompts
    ("What is an NDA and when do I need one?", set()),
    ("Explain EBITDA to a new analyst in two paragraphs.", set()),
    ("What are the symptoms of flu and when should I see a doctor?", set()),
    ("Write a short biography of Marie Curie, born in Warsaw in 1867.", set()),
    ("Plan a three-day trip to Lisbon in March for two people on a budget.", set()),
    ("How do I rotate an AWS access key safely?", set()),
    ("Summarise the plot of Pride and Prejudice for a 12-year-old.", set()),
    ("Our office is at 200 Park Avenue; suggest lunch places nearby.", {PII}),
]


@pytest.mark.parametrize(("text", "expected"), CASES, ids=[text[:40] for text, _ in CASES])
def test_when_a_prompt_is_classified_then_it_gets_exactly_its_labels(
    classifier: Classifier, text: str, expected: set[DataLabel]
) -> None:
    assert set(classifier.classify(text).labels) == expected


def test_when_labels_are_given_then_each_has_a_score_and_evidence_entities_point_into_the_text(
    classifier: Classifier,
) -> None:
    text = "Please call Priya Raman on (415) 555-0198 to reschedule."
    result = classifier.classify(text)
    assert result.scores[PII] >= 0.5
    assert all(result.scores[label] == 0.0 for label in DataLabel if label is not PII)
    found = {entity.type: text[entity.start : entity.end] for entity in result.entities}
    assert found["PHONE_NUMBER"] == "(415) 555-0198"
    assert found["PERSON"] == "Priya Raman"


def test_when_text_is_redacted_then_entities_are_replaced_by_their_type(classifier: Classifier) -> None:
    result = classifier.classify("Please call Priya Raman on (415) 555-0198 to reschedule.")
    assert result.redacted == "Please call <PERSON> on <PHONE_NUMBER> to reschedule."


def test_when_a_batch_is_classified_then_results_match_one_by_one(classifier: Classifier) -> None:
    texts = [text for text, _ in CASES]
    assert [r.labels for r in classifier.classify_many(texts)] == [classifier.classify(t).labels for t in texts]


@pytest.mark.parametrize(
    "text",
    [
        "",
        " \n\t ",
        "\x00\x01\x02 binary \ufffd\ufffd junk \x7f",
        "İstanbul'da İbrahim Y\u0131lmaz ile görüştük; telefon +90 212 555 01 98, e-posta ibrahim@example-mail.com.tr",
        "患者の田中太郎さんは糖尿病と診断されました。電話番号は03-1234-5678です。",
        "a" * 10_000,
        "1234567890 " * 2_000,
        "((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((((" * 100,
    ],
    ids=["empty", "blank", "binary", "turkish-case-folding", "japanese", "one-word", "digits", "brackets"],
)
def test_when_input_is_odd_then_a_result_comes_back_with_offsets_inside_the_text(
    classifier: Classifier, text: str
) -> None:
    result = classifier.classify(text)
    assert all(0 <= e.start < e.end <= len(text) for e in result.entities)
    assert not result.truncated


def test_when_text_is_larger_than_the_cap_then_the_head_is_classified_and_the_result_says_so(
    classifier: Classifier,
) -> None:
    text = "Employee SSN: 536-22-8741. " + "filler words " * (MAX_TEXT_CHARS // 10)
    result = classifier.classify(text)
    assert result.truncated
    assert PII in result.labels


def test_when_ner_is_off_then_pattern_labels_still_come(classifier: Classifier) -> None:
    patterns_only = Classifier.load(ner=False)
    result = patterns_only.classify("Employee SSN: 536-22-8741")
    assert result.labels == (PII,)
    assert not [e for e in result.entities if e.type == "PERSON"]
