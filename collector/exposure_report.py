"""The exposure report use case: stored events → inventory → Monte Carlo → the report every export reads."""

from __future__ import annotations

from datetime import UTC, date, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from collector.exposure_inventory import CONTENT_KINDS, Window, build_inventory
from collector.models import StoredEvent
from exposure.report import ExposureReport
from exposure.run import DEFAULT_SEED, DEFAULT_TRIALS, run_exposure
from rules.catalog import Catalog
from rules.exposure_parameters import load_parameters
from rules.exposure_schema import OrganisationProfile


class InvalidWindow(ValueError):
    """The window asked for (or implied by the stored events and one given bound) ends before it starts."""


def stored_window(session: Session) -> Window | None:
    """The days from the first to the last stored prompt, paste or upload; None when there are none."""
    first, last = session.execute(
        select(func.min(StoredEvent.occurred_at), func.max(StoredEvent.occurred_at)).where(
            StoredEvent.kind.in_(CONTENT_KINDS)
        )
    ).one()
    if first is None or last is None:
        return None
    return Window(first.date(), last.date())


def exposure_report(
    session: Session,
    catalog: Catalog,
    profile: OrganisationProfile,
    *,
    start: date | None = None,
    end: date | None = None,
    trials: int = DEFAULT_TRIALS,
    seed: int = DEFAULT_SEED,
) -> ExposureReport:
    stored = stored_window(session)
    today = datetime.now(UTC).date()
    window = Window(
        start or (stored.start if stored else today),
        end or (stored.end if stored else today),
    )
    if window.end < window.start:
        raise InvalidWindow(f"the window ends ({window.end}) before it starts ({window.start})")
    inventory = build_inventory(session, catalog, window, profile.departments)
    parameters = load_parameters(profile)
    return run_exposure(inventory, profile, parameters, trials=trials, seed=seed)
