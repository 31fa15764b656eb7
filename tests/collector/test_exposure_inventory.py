"""From stored, classified events to the exposure inventory: categories, distinct people, months, departments."""

from __future__ import annotations

from datetime import date

from fastapi.testclient import TestClient

from collector.exposure_inventory import UNASSIGNED, Window, build_inventory
from collector.runtime import Runtime
from exposure.inventory import Category
from tests.conftest import Keys
from tests.factories import batch, prompt_event

URL = "/api/v1/batches"
PRIYA = "Please write to Priya Raman, mobile (415) 555-0198, about her SSN 536-22-8741 on the form."
PRIYA_AGAIN = "Remind Priya Raman (SSN 536-22-8741) that the form is due; her mobile is (415) 555-0198."
TOMAS = "Please write to Tomas Berg, mobile (415) 555-0142, about his SSN 536-22-8742 on the form."
CONTRACT = (
    "The Receiving Party shall not disclose any Confidential Information to any third party without the prior "
    "written consent of the Disclosing Party, and shall indemnify the Disclosing Party against any breach hereof."
)


def _send(client: TestClient, keys: Keys, *events: dict[str, object]) -> None:
    response = client.post(URL, json=batch(*events), headers=keys.header(keys.browser))
    assert response.status_code in (200, 201), response.text


def test_when_the_same_person_is_pasted_twice_then_the_inventory_counts_one_person_and_two_events(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    when = "2026-03-10T10:00:00+00:00"
    _send(
        client,
        keys,
        prompt_event(text=PRIYA, user="ana", occurred_at=when),
        prompt_event(text=PRIYA_AGAIN, user="ana", occurred_at=when),
        prompt_event(text=TOMAS, user="ben", occurred_at="2026-04-02T09:00:00+00:00"),
        prompt_event(text=CONTRACT, user="ben", occurred_at=when, tool_id="anthropic-claude", host="claude.ai"),
        prompt_event(text="Plan a trip to Lisbon.", user="carl", occurred_at=when),
    )
    with runtime.sessions() as session:
        inventory = build_inventory(
            session, runtime.catalog, Window(date(2026, 3, 1), date(2026, 4, 30)), {"ana": "sales", "ben": "legal"}
        )

    cells = {(e.category, e.tool.tool_id): e for e in inventory.exposures}
    personal = cells[(Category.PERSONAL_DATA, "openai-chatgpt")]
    assert (personal.events, personal.users, personal.distinct_texts) == (3, 2, 3)
    assert personal.identified_subjects == 2  # Priya twice, Tomas once
    assert personal.events_by_month == {"2026-03": 2, "2026-04": 1}
    assert personal.events_by_department == {"sales": 2, "legal": 1}
    assert personal.tool.name == "ChatGPT"
    legal = cells[(Category.LEGAL, "anthropic-claude")]
    assert (legal.events, legal.identified_subjects, legal.unidentified_texts) == (1, 0, 1)
    assert (inventory.events, inventory.labelled_events, inventory.users) == (5, 4, 3)
    assert inventory.distinct_subjects == 2
    assert inventory.events_by_month == {"2026-03": (4, 3), "2026-04": (1, 1)}


def test_when_events_fall_outside_the_window_then_they_are_not_counted(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    _send(client, keys, prompt_event(text=PRIYA, occurred_at="2026-01-31T23:59:59+00:00"))
    with runtime.sessions() as session:
        inventory = build_inventory(session, runtime.catalog, Window(date(2026, 2, 1), date(2026, 2, 28)))

    assert inventory.exposures == ()
    assert inventory.events == 0


def test_when_a_device_sends_findings_instead_of_text_then_its_categories_are_counted_without_people(
    client: TestClient, keys: Keys, runtime: Runtime
) -> None:
    findings = {"labels": ["financial"], "entity_counts": {"iban_code": 1}, "text_hmac": "a" * 64, "text_length": 90}
    event = prompt_event(occurred_at="2026-05-05T08:00:00+00:00", findings=findings)
    del event["text"]
    _send(client, keys, event)
    with runtime.sessions() as session:
        inventory = build_inventory(session, runtime.catalog, Window(date(2026, 5, 1), date(2026, 5, 31)))

    (bank,) = inventory.exposures
    assert bank.category is Category.BANK_ACCOUNT
    assert (bank.identified_subjects, bank.unidentified_texts) == (0, 1)
    assert bank.events_by_department == {UNASSIGNED: 1}
