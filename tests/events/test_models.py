"""The event contract: what it accepts, what it refuses, and that its committed JSON Schema is current."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any

import jsonschema
import pytest
from pydantic import ValidationError

from events.models import MAX_BATCH_EVENTS, EventBatch, NetworkUsageEvent, PromptEvent
from events.schema_export import SCHEMA_FILE, render_schema
from tests.factories import batch, network_event, prompt_event


def errors_of(body: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        EventBatch.model_validate(body)
    return [f"{'.'.join(map(str, e['loc']))}: {e['msg']}" for e in caught.value.errors()]


def test_when_a_batch_is_valid_then_events_parse_into_their_kinds() -> None:
    parsed = EventBatch.model_validate(batch(network_event(), prompt_event()))

    assert isinstance(parsed.events[0], NetworkUsageEvent)
    assert isinstance(parsed.events[1], PromptEvent)


def test_when_timestamps_carry_an_offset_then_they_are_normalised_to_utc() -> None:
    local = datetime.now(UTC).astimezone().replace(microsecond=0) - timedelta(hours=1)
    event = NetworkUsageEvent.model_validate(network_event(first_seen=local.isoformat(), last_seen=local.isoformat()))

    assert event.first_seen.utcoffset() == timedelta(0)
    assert event.first_seen == local


def test_when_parsed_then_models_are_frozen() -> None:
    event = NetworkUsageEvent.model_validate(network_event())

    with pytest.raises(ValidationError):
        event.bytes_up = 5  # type: ignore[misc]


@pytest.mark.parametrize(
    ("overrides", "expected"),
    [
        ({"last_seen": "2026-01-01T00:00:00Z", "first_seen": "2026-01-02T00:00:00Z"}, "last_seen is before"),
        ({"signals": ["dns", "dns"]}, "signal twice"),
        ({"signals": []}, "at least 1"),
        ({"server_port": 70000}, "less than or equal to 65535"),
        ({"client_ip": "10.0.0.999"}, "IPv4"),
        ({"sensor_id": "tap 01; drop"}, "pattern"),
        ({"server_name": "chat gpt.com"}, "pattern"),
    ],
)
def test_when_a_network_event_is_inconsistent_then_it_is_refused(overrides: dict[str, Any], expected: str) -> None:
    messages = errors_of(batch(network_event(**overrides)))

    assert any(expected in m for m in messages), messages


def test_when_a_timestamp_is_far_in_the_future_then_it_is_refused() -> None:
    future = (datetime.now(UTC) + timedelta(days=3)).isoformat()

    messages = errors_of(batch(network_event(first_seen=future, last_seen=future)))

    assert any("in the future" in m for m in messages)


def test_when_a_prompt_has_both_text_and_findings_then_it_is_refused() -> None:
    findings = {"labels": ["pii"], "text_hmac": "a" * 64, "text_length": 10}

    messages = errors_of(batch(prompt_event(findings=findings)))

    assert any("exactly one of text or findings" in m for m in messages)


def test_when_findings_name_an_unknown_label_then_it_is_refused() -> None:
    findings = {"labels": ["gossip"], "text_hmac": "a" * 64, "text_length": 10}

    messages = errors_of(batch(prompt_event(text=None, findings=findings)))

    assert any("labels" in m for m in messages)


def test_when_event_ids_repeat_within_a_batch_then_it_is_refused() -> None:
    event = network_event()

    messages = errors_of(batch(event, dict(event)))

    assert any("events[1].event_id repeats events[0]" in m for m in messages)


def test_when_a_batch_exceeds_the_cap_then_it_is_refused() -> None:
    messages = errors_of(batch(*[network_event() for _ in range(MAX_BATCH_EVENTS + 1)]))

    assert any(m.startswith("events:") for m in messages)


@pytest.mark.parametrize("version", ["1.0", "1.7"])
def test_when_the_minor_version_differs_then_the_batch_is_accepted(version: str) -> None:
    assert EventBatch.model_validate(batch(schema_version=version)).schema_version == version


@pytest.mark.parametrize("version", ["2.0", "0.9", "one"])
def test_when_the_major_version_is_unknown_then_the_batch_is_refused(version: str) -> None:
    assert errors_of(batch(schema_version=version))


def test_when_the_models_change_then_the_committed_schema_must_be_regenerated() -> None:
    assert SCHEMA_FILE.read_text(encoding="utf-8") == render_schema(), "run `make schema` and commit the result"


def test_when_third_parties_validate_with_the_schema_then_it_agrees_with_the_models() -> None:
    schema = json.loads(SCHEMA_FILE.read_text(encoding="utf-8"))
    validator = jsonschema.Draft202012Validator(schema)
    good = batch(network_event(), prompt_event())
    bad = batch(network_event(bytes_up=-1))

    assert list(validator.iter_errors(good)) == []
    assert list(validator.iter_errors(bad)) != []
