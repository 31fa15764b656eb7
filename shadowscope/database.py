"""Open the collector's database from a command: migrated to head, disposed of on exit."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import Session, sessionmaker

from collector import migrate
from collector.db import build_engine, build_session_factory
from collector.settings import CollectorSettings


@contextmanager
def open_sessions(settings: CollectorSettings) -> Iterator[sessionmaker[Session]]:
    engine = build_engine(settings)
    try:
        if settings.auto_migrate:
            migrate.upgrade(engine)
        yield build_session_factory(engine)
    finally:
        engine.dispose()
