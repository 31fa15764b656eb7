"""The scheduler lease: one row per deployment names the process that runs the scheduled jobs, and until when.

Every process that starts a scheduler tries to take or renew the lease with one conditional statement, so the
database decides who wins: an UPDATE that only matches when the row is ours or has lapsed, or an INSERT that does
nothing when a row exists. PostgreSQL re-checks the UPDATE's condition after waiting on a competing writer's row
lock; SQLite runs one writer at a time. Either way at most one process holds an unexpired lease.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import uuid
from datetime import datetime, timedelta
from typing import Final

from sqlalchemy import or_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from collector.models import SchedulerLease
from collector.scheduling.sql import rowcount

log = logging.getLogger(__name__)

LEASE_NAME: Final = "collector-scheduler"


def new_holder_id() -> str:
    """Host, process and a random part: a restarted process with a reused pid is still a new holder."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"[:128]


def _insert_if_absent(session: Session, name: str, holder: str, expires_at: datetime) -> bool:
    dialect = session.get_bind().dialect.name
    statement: postgresql.Insert | sqlite.Insert
    if dialect == "postgresql":
        statement = postgresql.insert(SchedulerLease).on_conflict_do_nothing(index_elements=["name"])
    elif dialect == "sqlite":
        statement = sqlite.insert(SchedulerLease).on_conflict_do_nothing(index_elements=["name"])
    else:
        raise NotImplementedError(f"scheduler lease: no insert-if-absent for {dialect}")
    # RETURNING rather than rowcount, which psycopg leaves at -1 for this statement.
    inserted = session.execute(
        statement.values(name=name, holder=holder, expires_at=expires_at).returning(SchedulerLease.name)
    )
    return inserted.first() is not None


def try_acquire(session: Session, holder: str, now: datetime, duration: timedelta, name: str = LEASE_NAME) -> bool:
    """Take the lease, or extend ours, until now + duration. False when another holder's lease has not lapsed."""
    expires_at = now + duration
    renewed = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, or_(SchedulerLease.holder == holder, SchedulerLease.expires_at < now))
        .values(holder=holder, expires_at=expires_at)
        .execution_options(synchronize_session=False)
    )
    if rowcount(renewed) == 1:
        return True
    return _insert_if_absent(session, name, holder, expires_at)


def release(session: Session, holder: str, now: datetime, name: str = LEASE_NAME) -> bool:
    """End our lease now, so another process takes over at its next renewal instead of waiting for expiry."""
    result = session.execute(
        update(SchedulerLease)
        .where(SchedulerLease.name == name, SchedulerLease.holder == holder, SchedulerLease.expires_at > now)
        .values(expires_at=now)
        .execution_options(synchronize_session=False)
    )
    return rowcount(result) == 1


class LeaseKeeper:
    """This process's view of the lease: renew() it often, ask holds() before running a job.

    holds() wants a third of the lease still to run, so a job never starts on a lease about to lapse; renew() runs
    every third of the lease, so a healthy holder always has at least two thirds left.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        duration: timedelta,
        *,
        holder: str | None = None,
        name: str = LEASE_NAME,
    ) -> None:
        self.holder = holder or new_holder_id()
        self.name = name
        self.duration = duration
        self._sessions = sessions
        self._lock = threading.Lock()
        self._held_until: datetime | None = None

    @property
    def renew_every(self) -> timedelta:
        return self.duration / 3

    def holds(self, now: datetime) -> bool:
        with self._lock:
            return self._held_until is not None and now + self.duration / 3 < self._held_until

    def renew(self, now: datetime) -> bool:
        """Take or extend the lease; True while this process holds it. Database errors keep the old expiry, which
        then lapses on its own, so an unreachable database stops the jobs rather than doubling them."""
        try:
            with self._sessions.begin() as session:
                held = try_acquire(session, self.holder, now, self.duration, self.name)
        except SQLAlchemyError as error:
            log.warning("scheduler lease not renewed (%s); jobs stop if this persists", type(error).__name__)
            return self.holds(now)
        with self._lock:
            was_held = self._held_until is not None
            self._held_until = now + self.duration if held else None
        if held and not was_held:
            log.info("scheduler lease taken by %s: this process runs the scheduled jobs", self.holder)
        elif was_held and not held:
            log.warning("scheduler lease lost by %s: another process runs the scheduled jobs", self.holder)
        return held

    def release(self, now: datetime) -> None:
        with self._lock:
            if self._held_until is None:
                return
            self._held_until = None
        try:
            with self._sessions.begin() as session:
                release(session, self.holder, now, self.name)
        except SQLAlchemyError as error:
            log.warning("scheduler lease not released (%s); it lapses on its own", type(error).__name__)
            return
        log.info("scheduler lease released by %s", self.holder)
