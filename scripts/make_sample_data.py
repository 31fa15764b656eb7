"""Write the demo's sample batches and capture to sample-data/ (deterministic: same seed, same files).

The data is invented here: a small office of 12 hosts using AI tools over one working day, seen by one sensor,
plus a few browser events. Run with `make sample-data`; tests check the committed files match this script.
"""

from __future__ import annotations

import random
import sys
import uuid
from datetime import UTC, datetime, timedelta
from pathlib import Path

from events.labels import DataLabel
from events.models import (
    SCHEMA_VERSION,
    ContentFindings,
    EventBatch,
    NetworkUsageEvent,
    PasteEvent,
    PromptEvent,
    Signal,
    Transport,
    UploadEvent,
    VisitEvent,
)
from sensor.sample_traffic import office_morning

OUT_DIR = Path(__file__).resolve().parents[1] / "sample-data"
SENSOR_ID = "tap-hq-01"
DAY = datetime(2026, 11, 2, 8, 0, tzinfo=UTC)

# (tool id, server name, server address, typical upload bytes)
TOOLS = [
    ("openai-chatgpt", "chatgpt.com", "104.18.32.47", 40_000),
    ("anthropic-claude", "claude.ai", "160.79.104.10", 30_000),
    ("google-gemini", "gemini.google.com", "142.250.74.110", 20_000),
    ("deepseek-chat", "chat.deepseek.com", "116.205.40.120", 15_000),
    ("perplexity", "www.perplexity.ai", "104.18.26.48", 8_000),
    ("deepl-translator", "www.deepl.com", "104.18.20.211", 60_000),
]
SIGNALS = [
    (Signal.TLS_SNI, Transport.TCP, 443),
    (Signal.QUIC_SNI, Transport.UDP, 443),
    (Signal.DNS_ANSWER_IP, Transport.TCP, 443),
]


def _uuid(rng: random.Random) -> uuid.UUID:
    return uuid.UUID(int=rng.getrandbits(128), version=4)


def network_batch(rng: random.Random) -> EventBatch:
    events = []
    for _ in range(48):
        tool_id, name, server_ip, typical_up = rng.choice(TOOLS)
        signal, transport, port = rng.choice(SIGNALS)
        start = DAY + timedelta(seconds=rng.randrange(0, 9 * 3600))
        up = int(rng.lognormvariate(0, 1) * typical_up)
        events.append(
            NetworkUsageEvent(
                event_id=_uuid(rng),
                sensor_id=SENSOR_ID,
                client_ip=f"10.20.0.{rng.randrange(10, 22)}",
                server_ip=server_ip,
                server_port=port,
                transport=transport,
                tool_id=tool_id,
                server_name=name,
                signals=(Signal.DNS, signal) if signal is not Signal.DNS_ANSWER_IP else (signal,),
                bytes_up=up,
                bytes_down=up * rng.randrange(2, 12),
                packets_up=max(1, up // 1200),
                packets_down=max(1, up * 4 // 1200),
                first_seen=start,
                last_seen=start + timedelta(seconds=rng.randrange(1, 900)),
            )
        )
    return EventBatch(
        schema_version=SCHEMA_VERSION,
        batch_id=_uuid(rng),
        sent_at=DAY + timedelta(hours=10),
        events=tuple(sorted(events, key=lambda e: e.first_seen)),
    )


def browser_batch(rng: random.Random) -> EventBatch:
    at = DAY + timedelta(hours=2)
    findings = ContentFindings(
        labels=(DataLabel.PII,),
        entity_counts={"email_address": 14, "person": 14},
        text_hmac=f"{rng.getrandbits(256):064x}",
        text_length=1830,
    )
    events = (
        VisitEvent(
            event_id=_uuid(rng),
            device_id="laptop-0042",
            user="j.doe",
            tool_id="openai-chatgpt",
            host="chatgpt.com",
            occurred_at=at,
        ),
        PasteEvent(
            event_id=_uuid(rng),
            device_id="laptop-0042",
            user="j.doe",
            tool_id="openai-chatgpt",
            host="chatgpt.com",
            occurred_at=at + timedelta(seconds=20),
            findings=findings,
        ),
        PromptEvent(
            event_id=_uuid(rng),
            device_id="laptop-0042",
            user="j.doe",
            tool_id="openai-chatgpt",
            host="chatgpt.com",
            occurred_at=at + timedelta(seconds=31),
            text="Rewrite this paragraph so it sounds friendlier.",
        ),
        UploadEvent(
            event_id=_uuid(rng),
            device_id="laptop-0017",
            user="a.smith",
            tool_id="deepl-translator",
            host="www.deepl.com",
            occurred_at=at + timedelta(minutes=7),
            file_name="supplier-agreement.docx",
            file_size=48_213,
            media_type="application/vnd.openxmlformats-officedocument.wordprocessingml.document",
            file_sha256=f"{rng.getrandbits(256):064x}",
        ),
    )
    return EventBatch(
        schema_version=SCHEMA_VERSION, batch_id=_uuid(rng), sent_at=at + timedelta(minutes=10), events=events
    )


def write_capture() -> Path:
    """A small capture of one office client using ChatGPT, Claude, Perplexity and Gemini (and the BBC)."""
    return office_morning(OUT_DIR / "office-morning.pcap")


def render() -> dict[str, str]:
    rng = random.Random(20261102)
    return {
        "network-batch.json": network_batch(rng).model_dump_json(indent=2) + "\n",
        "browser-batch.json": browser_batch(rng).model_dump_json(indent=2) + "\n",
    }


def main() -> int:
    OUT_DIR.mkdir(exist_ok=True)
    for name, text in render().items():
        (OUT_DIR / name).write_text(text, encoding="utf-8")
        print(f"wrote {OUT_DIR / name}")
    print(f"wrote {write_capture()}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
