"""What one collector process holds: settings, the engine, a session factory, the content hasher."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from collector.content import ContentClassifier
from collector.content_hash import ContentHasher
from collector.db import build_engine, build_session_factory
from collector.ingest import RowBuilder
from collector.settings import CollectorSettings
from rules.catalog import Catalog, load_catalog


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: CollectorSettings
    engine: Engine
    sessions: sessionmaker[Session]
    rows: RowBuilder
    catalog: Catalog

    @classmethod
    def start(cls, settings: CollectorSettings) -> Runtime:
        engine = build_engine(settings)
        hasher = ContentHasher.from_key_file(settings.hash_key_file)
        return cls(
            settings=settings,
            engine=engine,
            sessions=build_session_factory(engine),
            rows=RowBuilder(
                hasher=hasher,
                keep_prompt_text=settings.store_prompt_text,
                classifier=ContentClassifier.shared(ner=settings.classifier_ner) if settings.classify_content else None,
            ),
            catalog=load_catalog(overlays=settings.catalog_overlays),
        )
