"""Single contract clauses are `legal`; system prompts that give orders ("agents must not …") are not."""

from __future__ import annotations

import pytest

from classifiers.engine import Classifier
from events.labels import DataLabel

LEGAL = DataLabel.LEGAL


@pytest.fixture(scope="module")
def pattern_classifier() -> Classifier:
    return Classifier.load(ner=False)


# Invented clauses, one obligation each: what a reviewer pastes to ask "is this fair?".
SINGLE_CLAUSES = [
    "The Distributor shall not sell any competing product in the Territory during the Term.",
    "Licensee undertakes to order at least 5,000 units of the Product in each calendar year of this Agreement.",
    "In no event will the Supplier be liable for indirect or consequential damages.",
    "This Agreement is to be construed according to the laws of the State of Oregon.",
    "You agree not to solicit any employee of the Franchisor for twelve months after termination.",
    "Sponsor shall have the right to use the Venue marks in its advertising, subject to prior written approval.",
    "The Tenant shall keep the premises clean and the Landlord shall repair the roof within ten days.",
]


@pytest.mark.parametrize("text", SINGLE_CLAUSES, ids=[t[:30] for t in SINGLE_CLAUSES])
def test_when_a_single_contract_clause_is_pasted_then_it_is_legal(pattern_classifier: Classifier, text: str) -> None:
    assert LEGAL in pattern_classifier.classify(text).labels


NOT_CLAUSES = [
    "ROLE: fact checker. You will run three steps in order. Agents must not share notes, and the summary may not "
    "exceed 200 words. Do not revise earlier outputs.",
    "You are a helpful tutor. The student must not be given the answer directly; you may not skip steps.",
    "What does 'shall' mean in a contract, and is it stronger than 'will'?",
    # Requirements are written like obligations, with a capitalised actor; one "shall" and a "may" are not a contract.
    "Write tests for a login page: The system shall lock the account after five failed attempts. The User may "
    "reset the password by e-mail.",
    "Debate prompt: Do you agree that homework should be banned? Students will argue both sides.",
]


@pytest.mark.parametrize("text", NOT_CLAUSES, ids=[t[:30] for t in NOT_CLAUSES])
def test_when_a_prompt_gives_orders_or_asks_about_contracts_then_it_is_not_legal(
    pattern_classifier: Classifier, text: str
) -> None:
    assert LEGAL not in pattern_classifier.classify(text).labels
