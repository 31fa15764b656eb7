"""What one collector process holds: settings, the engine, a session factory, the content hasher."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from collector.catalog_source import CatalogSource
from collector.content import ContentClassifier
from collector.content_hash import ContentHasher
from collector.db import build_engine, build_session_factory
from collector.ingest import RowBuilder
from collector.settings import CollectorSettings
from rules.catalog import Catalog


@dataclass(frozen=True, slots=True)
class Runtime:
    settings: CollectorSettings
    engine: Engine
    sessions: sessionmaker[Session]
    rows: RowBuilder
    # A source rather than a Catalog: the catalog-reload job swaps in a new one when the overlay files change.
    catalogs: CatalogSource

    @property
    def catalog(self) -> Catalog:
        return self.catalogs.current

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
            catalogs=CatalogSource(settings.catalog_overlays),
        )
