"""The scheduler lease: one holder at a time, renewals, take-over of a lapsed lease, release, races."""

from __future__ import annotations

import threading
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta

from sqlalchemy import select

from collector.models import SchedulerLease
from collector.runtime import Runtime
from collector.scheduling.lease import LeaseKeeper, release, try_acquire
from tests.collector.scheduling.conftest import NOW

MINUTE = timedelta(minutes=1)


def test_when_two_holders_compete_then_only_the_first_gets_the_lease_until_it_lapses(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        assert try_acquire(session, "a", NOW, MINUTE)
    with runtime.sessions.begin() as session:
        assert not try_acquire(session, "b", NOW + timedelta(seconds=10), MINUTE)
    with runtime.sessions.begin() as session:
        assert try_acquire(session, "a", NOW + timedelta(seconds=20), MINUTE), "the holder renews"
    with runtime.sessions.begin() as session:
        assert not try_acquire(session, "b", NOW + timedelta(seconds=70), MINUTE), "renewal moved the expiry on"

    # "a" stops renewing (crashed): once its lease has lapsed, "b" takes it over and "a" cannot come back.
    with runtime.sessions.begin() as session:
        assert try_acquire(session, "b", NOW + timedelta(seconds=81), MINUTE)
    with runtime.sessions.begin() as session:
        assert not try_acquire(session, "a", NOW + timedelta(seconds=90), MINUTE)
        lease = session.scalars(select(SchedulerLease)).one()
    assert lease.holder == "b"
    assert lease.expires_at == NOW + timedelta(seconds=141)


def test_when_the_holder_releases_then_another_takes_over_without_waiting(runtime: Runtime) -> None:
    with runtime.sessions.begin() as session:
        assert try_acquire(session, "a", NOW, MINUTE)
    with runtime.sessions.begin() as session:
        assert not release(session, "b", NOW + timedelta(seconds=5)), "only the holder releases"
        assert release(session, "a", NOW + timedelta(seconds=5))
    with runtime.sessions.begin() as session:
        assert try_acquire(session, "b", NOW + timedelta(seconds=6), MINUTE)


def test_when_many_processes_race_for_a_free_lease_then_exactly_one_wins(runtime: Runtime) -> None:
    contenders = 8
    start = threading.Barrier(contenders)

    def contend(holder: str) -> bool:
        start.wait()
        with runtime.sessions.begin() as session:
            return try_acquire(session, holder, NOW, MINUTE)

    holders = [f"p{number}" for number in range(contenders)]
    with ThreadPoolExecutor(contenders) as pool:
        # result() re-raises a thread's exception here.
        futures = {holder: pool.submit(contend, holder) for holder in holders}
        outcomes = {holder: future.result() for holder, future in futures.items()}

    wins = [holder for holder, won in outcomes.items() if won]
    assert len(wins) == 1
    with runtime.sessions() as session:
        assert session.scalars(select(SchedulerLease.holder)).one() == wins[0]


def test_a_keeper_holds_only_with_a_third_of_the_lease_left_and_hands_over_on_release(runtime: Runtime) -> None:
    first = LeaseKeeper(runtime.sessions, MINUTE, holder="first")
    second = LeaseKeeper(runtime.sessions, MINUTE, holder="second")

    assert first.renew(NOW)
    assert not second.renew(NOW + timedelta(seconds=1))
    assert first.holds(NOW + timedelta(seconds=39))
    assert not first.holds(NOW + timedelta(seconds=41)), "too close to expiry to start a job"
    assert not second.holds(NOW + timedelta(seconds=1))

    first.release(NOW + timedelta(seconds=2))

    assert not first.holds(NOW + timedelta(seconds=3))
    assert second.renew(NOW + timedelta(seconds=3))
    assert second.holds(NOW + timedelta(seconds=3))
    assert not first.renew(NOW + timedelta(seconds=4))
