"""Postal addresses beyond the US layout, and short statements of a company's figures: what each new rule finds and
the near misses it must leave alone. All texts are invented for these tests."""

from __future__ import annotations

import pytest

from classifiers.documents import CompiledScorer
from classifiers.engine import Classifier
from classifiers.recognizers import EntityFinder
from events.labels import DataLabel
from rules.classifier_rules import load_classifier_rules

PII, FIN = DataLabel.PII, DataLabel.FINANCIAL


@pytest.fixture(scope="module")
def pattern_classifier() -> Classifier:
    return Classifier.load(ner=False)


@pytest.fixture(scope="module")
def addresses() -> EntityFinder:
    rules = load_classifier_rules()
    return EntityFinder(next(rule for rule in rules.recognizers if rule.id == "postal-address"))


@pytest.fixture(scope="module")
def financial() -> CompiledScorer:
    rules = load_classifier_rules()
    return CompiledScorer(next(rule for rule in rules.scorers if rule.id == "financial-document"))


COMPLETE_ADDRESSES = [
    "Ship the replacement to Lena Vogt, Lindenstraße 7a, 80331 München.",
    "Tenant: Flat 3, 14 Kings Road, London SW3 4RP",
    "Please forward my post to 48 Elm Grove, Leeds LS6 2AB from Monday.",
    "Her new flat: 12 rue des Lilas, 69003 Lyon",
    "Invoice address Prinsengracht 263, 1016 GV Amsterdam",
    "Unit 5, 20 George St, Sydney NSW 2000",
    "123 Maple St, Toronto, ON M5V 2T6",
    "Calle Mayor 5, 28013 Madrid",
    "Storgata 1, 0155 Oslo",
    "Via Roma 10, 00184 Roma",
    "Vesterbrogade 14, 1620 København",
    "meet me at Hauptstraße 12\n Apt. 4\n 10115 Berlin",
    "Mrs. Ines Sato\nSuite 12 4410 Kirkeveien 7\nBergen",
    "the statement goes to PSC 1234, Box 5678 APO AE 09012",
]


@pytest.mark.parametrize("text", COMPLETE_ADDRESSES, ids=[t[:30] for t in COMPLETE_ADDRESSES])
def test_when_a_complete_address_in_a_non_us_layout_is_pasted_then_it_is_pii(
    pattern_classifier: Classifier, text: str
) -> None:
    result = pattern_classifier.classify(text)
    assert PII in result.labels
    assert "STREET_ADDRESS" in {entity.type for entity in result.entities}


STREET_ONLY = ["The bakery on Bahnhofstraße 3 sells rye bread.", "We walked down Via Nuova 85 towards the river."]


@pytest.mark.parametrize("text", STREET_ONLY, ids=[t[:30] for t in STREET_ONLY])
def test_when_only_a_street_and_number_appear_then_it_is_pii_with_a_lower_score_than_a_complete_address(
    addresses: EntityFinder, pattern_classifier: Classifier, text: str
) -> None:
    # The label's definition lists postal addresses; whose address it is cannot be told from the text, so a street
    # with its number is pii, scored below an address whose unit or postcode makes it complete.
    found = addresses.find(text, text.lower())
    assert found
    assert max(entity.score for entity in found) < 0.55
    result = pattern_classifier.classify(text)
    assert PII in result.labels
    assert result.scores[PII] < pattern_classifier.classify("Calle Mayor 5, 28013 Madrid").scores[PII]


# A year or a count before capitalised words and a street word: not a house number.
NOT_HOUSE_NUMBERS = [
    "Write a 500-word essay about the 1989 Tiananmen Square protests.",
    "Name the 9 Supreme Court justices and the presidents who appointed them.",
    "Should I buy a 2 TB Hard Drive or a 1 TB SSD?",
    "In 2015 Apple Park Way opened to the first employees.",
]


@pytest.mark.parametrize("text", NOT_HOUSE_NUMBERS, ids=[t[:30] for t in NOT_HOUSE_NUMBERS])
def test_when_a_year_or_count_precedes_a_street_word_then_it_is_not_pii(
    pattern_classifier: Classifier, text: str
) -> None:
    assert PII not in pattern_classifier.classify(text).labels


NOT_ADDRESSES = [
    "Visit the Eiffel Tower on the Champ de Mars in Paris.",
    "I ate 123 apples on the way home.",
    "Route 66 is a famous highway.",
    "The Brigade 3 exercise starts Monday.",
    "Section 3, 2019 Annual Report, Page 12",
    "Windows 10, 2019 Edition",
    "SSD 2TB Gen 4 Internal Solid State Hard Drive Memory Card, Maximum Speed, Thermal Control",
    "Chapter 12 Green Street, the novel's second part, is set in Leeds.",
]


@pytest.mark.parametrize("text", NOT_ADDRESSES, ids=[t[:30] for t in NOT_ADDRESSES])
def test_when_numbers_and_place_words_are_not_an_address_then_no_pii(pattern_classifier: Classifier, text: str) -> None:
    assert PII not in pattern_classifier.classify(text).labels


def test_when_an_office_gives_a_complete_address_then_it_is_pii_scored_below_a_home_address(
    pattern_classifier: Classifier,
) -> None:
    # Whose address it is cannot be told from the text (a sole trader's office is their home), so an office address
    # is pii too; a "home address" cue raises the score, which is what a reviewer sorts by.
    office = pattern_classifier.classify("Our offices are located at Lindenstraße 7a, 80331 München.")
    home = pattern_classifier.classify("Her home address is Lindenstraße 7a, 80331 München.")
    assert PII in office.labels
    assert office.scores[PII] < home.scores[PII]


def test_when_digits_follow_messages_to_then_six_are_needed_for_a_phone(pattern_classifier: Classifier) -> None:
    assert PII in pattern_classifier.classify("Please stop sending messages to 0612 345 678").labels
    assert PII not in pattern_classifier.classify("Stop sending messages to 2024 users.").labels


FIGURE_STATEMENTS = [
    "Operating profit rose to EUR 13.1 mn from EUR 8.7 mn in the corresponding period a year earlier.",
    "Net sales decreased 5% to EUR 120 million in the first quarter, the group said.",
    "The company acquired a 30% stake in Northwind Tools for USD 40 million in cash.",
    "Contoso Oyj said it won a EUR 12 million order for harbour cranes from a Baltic port operator.",
    "Orders received grew by 18% year-on-year to EUR 540 mn during the quarter.",
    "The value of the frame agreement is about EUR 50 million over four years, Fabrikam said.",
    "EPS grew to 0.31 eur from 0.22 eur, and the board proposes a dividend of EUR 0.15 per share.",
    "Tailspin Oyj now expects its full-year net sales to fall short of last year's level.",
    "Northwind's market share in the Nordic region rose to 18.2 % in the first quarter.",
    "Litware reported a 12-percent profit drop as raw material costs climbed.",
    "Fabrikam will pay EUR 85 million for the two vessels, to be delivered in 2027.",
    "Up to 420,000 new shares may be subscribed under the 2025 stock option plan.",
    "Full-year revenue is estimated to increase by about 8 %, the company said.",
    "Adatum has issued a profit warning.",
    "Net sales for the second quarter were clearly lower than a year earlier in all regions.",
    "Contoso said its fourth-quarter net profit more than doubled on strong demand.",
    "Return on capital employed rose by 2.1 percentage points to 14.3 %.",
    "Litware has raised its net sales growth estimate for 2026 from 10 % to 15 %.",
    "Thanks, operator. Our portfolio is performing well: we delivered strong growth in our commercial segment this "
    "quarter, our backlog is at a record level, and we are confident in our outlook for the rest of the year as we "
    "continue to execute on our strategy and return capital to our shareholders.",
    "Fabrikam Oyj has been awarded a contract to supply 40 trams to the city of Tampere.",
    "Northwind Corp has signed a five-year supply agreement with a German carmaker.",
    "Tailspin has agreed to acquire Wingtip Toys, the two boards said on Monday.",
    "Contoso Ltd will lay off 350 workers at its Tampere plant by the end of March.",
]


@pytest.mark.parametrize("text", FIGURE_STATEMENTS, ids=[t[:30] for t in FIGURE_STATEMENTS])
def test_when_a_sentence_states_a_companys_figures_or_deal_terms_then_it_is_financial(
    pattern_classifier: Classifier, text: str
) -> None:
    assert FIN in pattern_classifier.classify(text).labels


NOT_FIGURES = [
    "What is operating profit and how is it different from net income?",
    "Explain how a company's market share is calculated, with an example.",
    "I bought two shirts for $25 each and a hat for $10. How much did I spend?",
    "My salary rose from $50,000 to $56,000 this year; how much more can I save each month?",
    "Write a short story about a bakery whose sales grew after it opened on Sundays.",
    "The company was founded in 1923 and makes garden tools in Finland.",
    "Summarise the history of the stock exchange in Helsinki in three sentences.",
    "Estimate the revenue for a lemonade stand that sells 200 cups a day at $1.50 each.",
    "What is a rights issue and why would a company do one?",
    "How many shares can I buy if each costs $12 and I have $240?",
    "My exam grades were lower than expected this term; how should I study differently?",
    "Temperatures reached a record high in July across southern Europe.",
    "Explain why a company's profits fall when interest rates rise.",
    "Draft a customer newsletter: our business has grown, our customers are happy and we have new features in our "
    "pipeline for the next quarter.",
    "Summarise this for the team: we delivered the migration on time, our customers saw no downtime, and our "
    "operations team improved the on-call process this quarter.",
    "Write a short story where a young lawyer has signed a contract with the devil.",
    "I signed a contract with my landlord last year; can he raise the rent?",
    "I plan to buy a new laptop and sell my old one; which should I choose?",
    "Write a fable about the merger of two kingdoms and a takeover bid by a greedy fox.",
    "Thanks, we have received two orders from you and will ship them tomorrow.",
    "My team has won three contracts for the science fair judges.",
    "We need to cut 10 people from our wedding guest list.",
    "Write a report on the acquisition of Florida by the United States.",
    "In my class, sales tax is 8% and the shirt costs $20. Write a worksheet for the students.",
    "Cover letter: my new protocols resulted in a 56% decrease in final-stage QA defects across the company.",
    "Story: you proudly show your parents the $148 you made at the stand; $100 of it was theirs, so only $48 is "
    "real profits, and you spent $20 on lemons.",
    # `arr` is a variable here, not annual recurring revenue (code pasted into a sentence, no line starts to tell).
    "Read the code and say if there is a syntax error. def quick_sort(arr): if len(arr) < 2: return arr else: "
    "pivot = arr[0] less = [i for i in arr[1:] if i <= pivot] greater = [i for i in arr[1:] if i > pivot] "
    "return quick_sort(less) + [pivot] + quick_sort(greater)",
]


@pytest.mark.parametrize("text", NOT_FIGURES, ids=[t[:30] for t in NOT_FIGURES])
def test_when_a_prompt_is_about_figures_or_personal_money_then_it_is_not_financial(
    pattern_classifier: Classifier, financial: CompiledScorer, text: str
) -> None:
    assert FIN not in pattern_classifier.classify(text).labels
    assert financial.score(text) < 0.5
