"""The sensor end to end on captures the tests build: observations, usage events, and the command line."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from scapy.utils import wrpcap

from collector.keys import Scope
from events.models import NetworkUsageEvent, Signal
from sensor.capture.files import CaptureFile
from sensor.runner import aggregate_usage
from sensor.sample_traffic import CLIENT, office_morning
from tests.sensor.collector_process import CollectorProcess

KEYS = ["ts", "src_ip", "src_port", "dst_ip", "dst_port", "transport", "signal", "host", "tool", "vendor"]


@pytest.fixture(scope="module")
def capture(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return office_morning(tmp_path_factory.mktemp("pcap") / "office.pcap")


def run_jsonl(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "shadowscope", "sensor", "read", "--jsonl", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_when_reading_with_jsonl_then_each_flow_signal_is_one_line_in_the_documented_shape(capture: Path) -> None:
    result = run_jsonl(str(capture))

    assert result.returncode == 0, result.stderr
    lines = [json.loads(line) for line in result.stdout.splitlines()]
    assert all(list(line) == KEYS for line in lines)
    seen = {(line["signal"], line["host"], line["tool"]) for line in lines}
    assert seen == {
        ("dns", "chatgpt.com", "openai-chatgpt"),
        ("tls_sni", "chatgpt.com", "openai-chatgpt"),
        ("tls_sni", "claude.ai", "anthropic-claude"),  # split over three segments, delivered in reverse
        ("http_host", "www.perplexity.ai", "perplexity"),
        ("dns", "gemini.google.com", "google-gemini"),
        ("tls_sni", "www.bbc.co.uk", None),
    }
    claude = next(line for line in lines if line["host"] == "claude.ai")
    assert (claude["src_ip"], claude["dst_ip"], claude["dst_port"], claude["transport"]) == (
        CLIENT,
        "160.79.104.10",
        443,
        "tcp",
    )
    assert "AI tools seen: " in result.stderr


def test_when_the_same_capture_is_read_from_stdin_then_the_output_is_the_same(capture: Path) -> None:
    from_file = run_jsonl(str(capture)).stdout
    from_stdin = subprocess.run(
        [sys.executable, "-m", "shadowscope", "sensor", "read", "--jsonl", "-"],
        input=capture.read_bytes(),
        capture_output=True,
        timeout=120,
    )

    assert from_stdin.stdout.decode() == from_file


def aggregate(capture: Path) -> list[NetworkUsageEvent]:
    events: list[NetworkUsageEvent] = []
    aggregate_usage([CaptureFile(str(capture))], "tap-test-01", events.append, window_seconds=300, run_id="t")
    return events


def test_when_aggregating_then_only_ai_usage_leaves_with_its_volume(capture: Path) -> None:
    by_tool = {event.tool_id: event for event in aggregate(capture)}

    assert set(by_tool) == {"openai-chatgpt", "anthropic-claude", "perplexity", "google-gemini"}
    chatgpt = by_tool["openai-chatgpt"]
    assert chatgpt.bytes_up > 30_000, "the upload is counted"
    assert chatgpt.flow_count == 2  # the DNS lookup and the TLS connection
    assert set(chatgpt.signals) == {Signal.DNS, Signal.TLS_SNI}
    assert str(chatgpt.server_ip) == "104.18.32.47", "the tool's server, not the resolver"
    gemini = by_tool["google-gemini"]
    assert Signal.DNS_ANSWER_IP in gemini.signals, "a connection without a name, attributed by the DNS answer"
    assert str(gemini.client_ip) == CLIENT


def test_when_the_same_capture_is_aggregated_twice_then_event_ids_repeat(capture: Path) -> None:
    assert [e.event_id for e in aggregate(capture)] == [e.event_id for e in aggregate(capture)]


def test_when_reading_into_a_real_collector_then_usage_arrives_once_even_if_read_twice(
    capture: Path, collector: CollectorProcess, tmp_path: Path
) -> None:
    sensor_key, read_key = collector.key(Scope.SENSOR, "tap-test-01"), collector.key(Scope.READ, None)
    command = [
        sys.executable,
        "-m",
        "shadowscope",
        "sensor",
        "read",
        str(capture),
        "--sensor-id",
        "tap-test-01",
        "--collector",
        collector.url,
        "--api-key",
        sensor_key,
        "--spool-dir",
        str(tmp_path / "spool"),
    ]

    first = subprocess.run(command, capture_output=True, text=True, timeout=120)
    second = subprocess.run(command, capture_output=True, text=True, timeout=120)

    assert first.returncode == 0, first.stderr
    assert "1 batches delivered" in first.stderr
    assert second.returncode == 0, second.stderr
    assert collector.event_count(read_key) == 4


@pytest.mark.parametrize(
    ("content", "message"),
    [(b"", "not a pcap or pcapng file"), (b"\x0a\x0d\x0d\x0a" + b"\xff" * 40, "corrupt block length")],
)
def test_when_the_capture_is_bad_then_the_sensor_says_so_and_does_not_crash(
    tmp_path: Path, content: bytes, message: str
) -> None:
    path = tmp_path / "bad.pcap"
    path.write_bytes(content)

    result = run_jsonl(str(path))

    assert message in result.stderr
    assert "Traceback" not in result.stderr


def test_when_the_sensor_is_killed_then_spooled_batches_are_delivered_by_the_next_run(
    capture: Path, collector: CollectorProcess, tmp_path: Path
) -> None:
    sensor_key, read_key = collector.key(Scope.SENSOR, "tap-test-01"), collector.key(Scope.READ, None)
    spool = tmp_path / "spool"
    base = [
        sys.executable,
        "-m",
        "shadowscope",
        "sensor",
        "read",
        "--sensor-id",
        "tap-test-01",
        "--api-key",
        sensor_key,
        "--spool-dir",
        str(spool),
    ]
    collector.stop()
    sensor = subprocess.Popen(
        [*base, str(capture), "--collector", collector.url, "--drain-timeout", "120"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while not list(spool.glob("*.batch.json")) and time.monotonic() < deadline:
        time.sleep(0.05)
    sensor.send_signal(signal.SIGKILL)
    sensor.wait(timeout=30)
    assert len(list(spool.glob("*.batch.json"))) == 1, "the batch was on disk before the kill"

    collector.start()
    empty = tmp_path / "empty.pcap"
    wrpcap(str(empty), [])
    rerun = subprocess.run(
        [*base, str(empty), "--collector", collector.url], capture_output=True, text=True, timeout=120
    )

    assert rerun.returncode == 0, rerun.stderr
    assert list(spool.glob("*.batch.json")) == []
    assert collector.event_count(read_key) == 4
