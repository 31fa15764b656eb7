"""Delivering batches: retry what may pass later, never what the collector refused; real HTTP end to end."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from collector.keys import Scope
from events.models import EventBatch
from sensor.delivery import CollectorClient, DeliveryFailed, DeliveryRefused, RetryPolicy
from tests.factories import SENSOR_ID, batch, network_event
from tests.sensor.collector_process import CollectorProcess

ACCEPTED = {"batch_id": "x", "received": 1, "stored": 1, "duplicate_batch": False}


def a_batch() -> EventBatch:
    return EventBatch.model_validate(batch(network_event()))


def scripted(*responses: httpx.Response | Exception) -> tuple[httpx.MockTransport, list[httpx.Request]]:
    """A transport that answers with the given responses in turn (failure injection for the retry paths)."""
    seen: list[httpx.Request] = []
    queue = list(responses)

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        item = queue.pop(0)
        if isinstance(item, Exception):
            raise item
        return item

    return httpx.MockTransport(answer), seen


def client_with(transport: httpx.MockTransport, sleeps: list[float]) -> CollectorClient:
    return CollectorClient(
        "http://collector.test",
        "ss_k_s",
        retry=RetryPolicy(attempts=4, first_delay=0.1),
        transport=transport,
        sleep=sleeps.append,
    )


def test_when_the_collector_is_briefly_down_then_the_batch_is_retried_until_accepted() -> None:
    transport, seen = scripted(
        httpx.ConnectError("refused"),
        httpx.Response(503, json={"error": {"message": "busy"}}),
        httpx.Response(429, headers={"Retry-After": "2"}),
        httpx.Response(201, json=ACCEPTED),
    )
    sleeps: list[float] = []

    receipt = client_with(transport, sleeps).send(a_batch())

    assert receipt.stored == 1
    assert len(seen) == 4
    assert sleeps[2] == 2.0
    assert len({request.content for request in seen}) == 1, "every retry sends the same batch id"


def test_when_the_collector_refuses_the_batch_then_it_is_not_retried() -> None:
    transport, seen = scripted(httpx.Response(422, json={"error": {"message": "events[0].bytes_up: bad"}}))

    with pytest.raises(DeliveryRefused, match=r"422.*events\[0\].bytes_up"):
        client_with(transport, []).send(a_batch())
    assert len(seen) == 1


def test_when_every_attempt_fails_then_delivery_failed_names_the_last_problem() -> None:
    transport, _ = scripted(*[httpx.Response(500, text="boom")] * 4)

    with pytest.raises(DeliveryFailed, match=r"4 attempts.*HTTP 500"):
        client_with(transport, []).send(a_batch())


def test_when_nothing_listens_then_delivery_fails_without_hanging() -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    client = CollectorClient(
        f"http://127.0.0.1:{closed_port}", "ss_k_s", retry=RetryPolicy(attempts=2, first_delay=0.01)
    )

    with pytest.raises(DeliveryFailed, match="ConnectError"):
        client.send(a_batch())


def test_when_a_real_collector_receives_a_batch_over_http_then_resending_is_harmless(
    collector: CollectorProcess, tmp_path: Path
) -> None:
    base_url, token = collector.url, collector.key(Scope.SENSOR, SENSOR_ID)
    sent = a_batch()
    with CollectorClient(base_url, token) as client:
        first, again = client.send(sent), client.send(sent)

    assert (first.stored, again.stored, again.duplicate_batch) == (1, 0, True)
    batch_file = tmp_path / "batch.json"
    batch_file.write_text(json.dumps(batch(network_event())))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "shadowscope",
            "sensor",
            "send",
            str(batch_file),
            "--collector",
            base_url,
            "--api-key",
            token,
        ],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr
    assert "1 events, 1 new" in result.stdout
