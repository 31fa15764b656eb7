"""GET /api/v1/reports/exposure: the board report from stored events, in four formats, aggregates only."""

from __future__ import annotations

import io
import json

import pytest
from fastapi.testclient import TestClient
from httpx2 import Response
from openpyxl import load_workbook
from pypdf import PdfReader

from tests.conftest import Keys
from tests.factories import batch, prompt_event

URL = "/api/v1/reports/exposure"
SECRETS = ("Priya", "Raman", "536-22-8741", "555-0198")
PROMPTS = (
    "Please write to Priya Raman, mobile (415) 555-0198, about her SSN 536-22-8741 on the form.",
    "Charge card 4916 3380 9874 2215 exp 09/27 CVV 381 for the renewal.",
    "What is an NDA?",
)


@pytest.fixture
def stored(client: TestClient, keys: Keys) -> None:
    events = [prompt_event(text=text, occurred_at=f"2026-0{n + 3}-10T10:00:00+00:00") for n, text in enumerate(PROMPTS)]
    response = client.post("/api/v1/batches", json=batch(*events), headers=keys.header(keys.browser))
    assert response.status_code in (200, 201), response.text


def _get(client: TestClient, keys: Keys, **params: str | int) -> Response:
    return client.get(URL, params={"trials": 2000, **params}, headers=keys.header(keys.read))


@pytest.mark.usefixtures("stored")
def test_when_a_reader_asks_for_json_then_the_report_has_the_figures_and_no_personal_data(
    client: TestClient, keys: Keys
) -> None:
    response = _get(client, keys)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["schema"] == "shadowscope/exposure-report/v1"
    assert body["window"] == {"from": "2026-03-10", "to": "2026-05-10"}
    assert body["evidence"]["labelled_events"] == 2
    assert body["total"]["mean"] > 0
    assert not any(secret in response.text for secret in SECRETS)


@pytest.mark.usefixtures("stored")
def test_when_the_same_seed_is_asked_twice_then_the_figures_are_identical(client: TestClient, keys: Keys) -> None:
    first, second = (_get(client, keys, seed=42).json() for _ in range(2))
    first["run"].pop("generated_at")
    second["run"].pop("generated_at")

    assert json.dumps(first, sort_keys=True) == json.dumps(second, sort_keys=True)


@pytest.mark.usefixtures("stored")
@pytest.mark.parametrize(("fmt", "media"), [("csv", "text/csv"), ("xlsx", "spreadsheetml"), ("pdf", "application/pdf")])
def test_when_a_file_format_is_asked_then_it_comes_as_an_attachment_without_personal_data(
    client: TestClient, keys: Keys, fmt: str, media: str
) -> None:
    response = _get(client, keys, format=fmt)

    assert response.status_code == 200, response.text
    assert media in response.headers["content-type"]
    assert f".{fmt}" in response.headers["content-disposition"]
    if fmt == "pdf":
        text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.content)).pages)
    elif fmt == "xlsx":
        workbook = load_workbook(io.BytesIO(response.content), read_only=True)
        text = " ".join(str(cell) for sheet in workbook for row in sheet.iter_rows(values_only=True) for cell in row)
    else:
        text = response.text
    assert not any(secret in text for secret in SECRETS)


@pytest.mark.parametrize(
    ("params", "status"),
    [({"from": "2026-05-01", "to": "2026-04-01"}, 422), ({"format": "docx"}, 422), ({"trials": 5}, 422)],
)
def test_when_parameters_are_wrong_then_422(
    client: TestClient, keys: Keys, params: dict[str, str], status: int
) -> None:
    assert _get(client, keys, **params).status_code == status


def test_when_a_browser_key_asks_for_the_report_then_403(client: TestClient, keys: Keys) -> None:
    response = client.get(URL, params={"trials": 2000}, headers=keys.header(keys.browser))

    assert response.status_code == 403


def test_when_nothing_is_stored_then_the_report_is_empty_not_an_error(client: TestClient, keys: Keys) -> None:
    response = _get(client, keys)

    assert response.status_code == 200, response.text
    body = response.json()
    assert body["evidence"]["events"] == 0
    assert body["total"]["mean"] == 0
    assert body["tools"] == []
