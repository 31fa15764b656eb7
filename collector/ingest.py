"""The ingest use case: authorise a validated batch, reduce it to rows, store it whole or not at all."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from uuid import UUID

from sqlalchemy.orm import Session, sessionmaker

from collector import store
from collector.alerts.on_ingest import evaluate_new_events
from collector.content import ContentClassifier, categories_of
from collector.content_hash import ContentHasher
from collector.keys import Principal, Scope
from events.models import (
    BROWSER_KINDS,
    ContentFindings,
    EventBatch,
    NetworkUsageEvent,
    PasteEvent,
    PromptEvent,
    UploadEvent,
    VisitEvent,
)
from exposure.inventory import Category
from rules.catalog import Catalog

log = logging.getLogger(__name__)

# Fields that become columns; everything else of an event is kept in its JSON detail.
_NETWORK_COLUMNS = {
    "event_id",
    "kind",
    "sensor_id",
    "client_ip",
    "tool_id",
    "first_seen",
    "last_seen",
    "bytes_up",
    "bytes_down",
    "flow_count",
}
_BROWSER_COLUMNS = {"event_id", "kind", "device_id", "user", "tool_id", "occurred_at"}


class IngestForbidden(Exception):
    """The key may not send (some of) these events; the message names the first offending event."""


@dataclass(frozen=True, slots=True)
class IngestResult:
    batch_id: UUID
    received: int
    stored: int
    duplicate_batch: bool


AnyEvent = NetworkUsageEvent | VisitEvent | PromptEvent | PasteEvent | UploadEvent


@dataclass(frozen=True, slots=True)
class PreparedBatch:
    events: list[dict[str, Any]]
    exposures: list[dict[str, Any]]  # event_exposures rows: what sensitive data went to which tool
    subjects: list[dict[str, Any]]  # event_subjects rows: keyed hashes standing for the people in it

    def add_exposures(self, row: dict[str, Any], categories: Sequence[Category], subjects: Sequence[str]) -> None:
        text_hmac = row["detail"].get("text_hmac") or row["detail"].get("findings", {}).get("text_hmac")
        for category in categories:
            self.exposures.append(
                {
                    "event_id": row["event_id"],
                    "category": category.value,
                    "tool_id": row["tool_id"],
                    "client": row["client"],
                    "occurred_at": row["occurred_at"],
                    "text_hmac": text_hmac,
                }
            )
        self.subjects.extend({"event_id": row["event_id"], "subject_hash": subject} for subject in subjects)


@dataclass(frozen=True, slots=True)
class RowBuilder:
    hasher: ContentHasher
    keep_prompt_text: bool
    classifier: ContentClassifier | None = None

    def prepare(self, events: Sequence[AnyEvent]) -> PreparedBatch:
        """Rows for a batch; its texts are classified together (NER batches across them)."""
        rows = [self.row(event) for event in events]
        prepared = PreparedBatch(rows, [], [])
        texts = [
            (row, event.text)
            for row, event in zip(rows, events, strict=True)
            if isinstance(event, PromptEvent | PasteEvent) and event.text is not None
        ]
        if self.classifier is not None and texts:
            summaries = self.classifier.summaries([text for _, text in texts], self.hasher)
            for (row, _), summary in zip(texts, summaries, strict=True):
                row["detail"]["classification"] = summary.stored
                prepared.add_exposures(row, summary.categories, summary.subjects)
        for row, event in zip(rows, events, strict=True):
            findings = getattr(event, "findings", None)
            if isinstance(findings, ContentFindings):
                labels = [label.value for label in findings.labels]
                prepared.add_exposures(row, categories_of(labels, findings.entity_counts), [])
        return prepared

    def row(self, event: AnyEvent) -> dict[str, Any]:
        if isinstance(event, NetworkUsageEvent):
            return {
                "event_id": event.event_id,
                "kind": event.kind,
                "source_id": event.sensor_id,
                "client": str(event.client_ip),
                "tool_id": event.tool_id,
                "occurred_at": event.first_seen,
                "last_seen": event.last_seen,
                "bytes_up": event.bytes_up,
                "bytes_down": event.bytes_down,
                "flow_count": event.flow_count,
                "detail": event.model_dump(mode="json", exclude=_NETWORK_COLUMNS),
            }
        detail = event.model_dump(mode="json", exclude=_BROWSER_COLUMNS | {"text"})
        bytes_up = 0
        if isinstance(event, PromptEvent | PasteEvent):
            if event.text is not None:
                bytes_up = len(event.text.encode("utf-8"))
                detail["text_hmac"] = self.hasher.hexdigest(event.text)
                detail["text_length"] = len(event.text)
                if self.keep_prompt_text:
                    detail["text"] = event.text
            elif event.findings is not None:
                bytes_up = event.findings.text_length
        elif isinstance(event, UploadEvent):
            bytes_up = event.file_size
        return {
            "event_id": event.event_id,
            "kind": event.kind,
            "source_id": event.device_id,
            "client": event.user or event.device_id,
            "tool_id": event.tool_id,
            "occurred_at": event.occurred_at,
            "last_seen": event.occurred_at,
            "bytes_up": bytes_up,
            "bytes_down": 0,
            "flow_count": 1,
            "detail": detail,
        }


def authorize(principal: Principal, batch: EventBatch) -> None:
    for index, event in enumerate(batch.events):
        if isinstance(event, NetworkUsageEvent):
            if principal.scope is not Scope.SENSOR:
                raise IngestForbidden(f"events[{index}]: a {principal.scope} key may not send network events")
            if event.sensor_id != principal.sensor_id:
                raise IngestForbidden(
                    f"events[{index}].sensor_id is {event.sensor_id!r} but this key belongs to sensor "
                    f"{principal.sensor_id!r}"
                )
        elif event.kind in BROWSER_KINDS:
            if principal.scope not in (Scope.BROWSER, Scope.DEVICE):
                raise IngestForbidden(f"events[{index}]: a {principal.scope} key may not send browser events")
            device_id = getattr(event, "device_id", None)
            if principal.scope is Scope.DEVICE and device_id != principal.sensor_id:
                raise IngestForbidden(
                    f"events[{index}].device_id is {device_id!r} but this credential belongs to device "
                    f"{principal.sensor_id!r}"
                )


def ingest_batch(
    sessions: sessionmaker[Session],
    principal: Principal,
    batch: EventBatch,
    rows: RowBuilder,
    catalog: Catalog,
) -> IngestResult:
    """Store a batch atomically and idempotently: a re-sent batch or event stores nothing twice.

    The batch's new events go through the rules that decide on one event in the same transaction, so an alert
    and its evidence commit together; `catalog` (the runtime's, with the deployment's overlays) gives tools their
    category for the policy."""
    authorize(principal, batch)
    prepared = rows.prepare(batch.events)
    with sessions.begin() as session:
        batch_pk = store.claim_batch(
            session,
            batch_id=batch.batch_id,
            api_key_pk=principal.api_key_pk,
            schema_version=batch.schema_version,
            sent_at=batch.sent_at,
            event_count=len(prepared.events),
        )
        if batch_pk is None:
            log.info("duplicate batch", extra={"batch_id": str(batch.batch_id), "key_id": principal.key_id})
            return IngestResult(batch.batch_id, len(prepared.events), 0, duplicate_batch=True)
        stored = store.insert_events(session, batch_pk, prepared.events)
        store.insert_exposures(session, prepared.exposures, prepared.subjects)
        evaluate_new_events(session, batch_pk, prepared.events, all_new=stored == len(prepared.events), catalog=catalog)
        store.set_stored_count(session, batch_pk, stored)
    log.info(
        "batch stored",
        extra={
            "batch_id": str(batch.batch_id),
            "key_id": principal.key_id,
            "events": len(prepared.events),
            "new": stored,
        },
    )
    return IngestResult(batch.batch_id, len(prepared.events), stored, duplicate_batch=False)
