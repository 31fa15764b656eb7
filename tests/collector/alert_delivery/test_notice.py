"""AlertNotice: what may leave the collector, checked where it is built."""

from __future__ import annotations

from dataclasses import fields
from datetime import datetime, timedelta

import pytest

from collector.alert_delivery.notice import SCHEMA_ID
from tests.collector.alert_delivery.notices import FIRST_SEEN, make_notice


def test_as_json_carries_the_schema_id_and_every_field_in_utc() -> None:
    payload = make_notice().as_json()

    assert payload["schema"] == SCHEMA_ID == "shadowscope/alert-notice/v1"
    assert payload["first_seen"] == "2025-03-04T09:15:00.000Z"
    assert payload["last_seen"] == "2025-03-04T11:42:30.250Z"
    assert payload["labels"] == ["source_code", "credentials"]
    assert set(payload) == {"schema"} | {field.name for field in fields(make_notice())}


def test_the_notice_has_no_field_for_text_snippets_or_identifier_values() -> None:
    names = {field.name for field in fields(make_notice())}

    assert not names & {"text", "snippet", "prompt", "value", "values", "identifiers", "redacted_snippet"}


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"level": "severe"}, "level must be one of"),
        ({"count": -1}, "count is negative"),
        ({"rule_id": ""}, "rule_id is empty"),
        ({"first_seen": datetime(2025, 3, 4, 9, 15)}, "naive datetime"),
        ({"last_seen": FIRST_SEEN - timedelta(seconds=1)}, "before first_seen"),
        ({"labels": ["source_code"]}, "must be a tuple"),
    ],
)
def test_a_bad_notice_fails_where_it_is_built(overrides: dict[str, object], message: str) -> None:
    with pytest.raises((ValueError, TypeError), match=message):
        make_notice(**overrides)
