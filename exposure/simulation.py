"""The Monte Carlo: loss events per (category, tool) cell and their magnitude per regulation, per trial.

Per trial and cell (all vectorised over trials):

* **Frequency.** Two ways a cell's exposure becomes a loss event in a year, each touching everyone in the cell:
  one of its users' exposures is identified as reportable (1 - (1 - p_event)^users: the investigation then covers
  every user's pastes of that data to that tool), and the vendor's retained prompts are exposed or compelled, or
  training data resurfaces (1 - (1 - p_vendor)(1 - p_training)).
* **Shared response**, once per loss event, outside every regulation: a fixed legal/forensics cost plus
  per-person notification, monitoring take-up and other work growing sub-linearly (n^k) with the people affected.
* **Regulation-specific losses** per loss event: probability of action * amount, with the statutory caps applied
  to the year's total (GDPR Art. 83(3): all pastes to AI tools are one linked processing; HIPAA's calendar-year cap
  per identical provision), and the exemptions in `applicability.py`.

Every parameter is drawn once per trial and shared by all cells (it is uncertainty about the world, not about a
cell), always in the same order — so the same seed gives identical figures.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np

from exposure.applicability import Scope, regulation_scope
from exposure.distributions import Floats, sample
from exposure.inventory import PEOPLE_CATEGORIES, Category, Exposure, Inventory
from exposure.report import Regulation
from rules.exposure_parameters import ParameterSet
from rules.exposure_schema import OrganisationProfile

# People per loss event beyond this add nothing to the chance that one of them lives in a given jurisdiction.
_MAX_PEOPLE_FOR_JURISDICTION = 50.0


@dataclass(frozen=True, slots=True)
class CellLoss:
    exposure: Exposure
    response: Floats
    by_regulation: dict[Regulation, Floats]

    @property
    def total(self) -> Floats:
        return self.response + sum(self.by_regulation.values(), np.zeros_like(self.response))


@dataclass(frozen=True, slots=True)
class Simulation:
    trials: int
    cells: tuple[CellLoss, ...]
    scopes: dict[Regulation, Scope]
    draws: dict[str, Floats]  # every parameter's value in every trial, for the sensitivity analysis

    def regulation_total(self, regulation: Regulation) -> Floats:
        return sum((cell.by_regulation[regulation] for cell in self.cells), np.zeros(self.trials))

    @property
    def response_total(self) -> Floats:
        return sum((cell.response for cell in self.cells), np.zeros(self.trials))

    @property
    def total(self) -> Floats:
        return sum((cell.total for cell in self.cells), np.zeros(self.trials))


class _Draws:
    """Every parameter drawn once per trial, in the parameter file's order (see the module note)."""

    def __init__(
        self, parameters: ParameterSet, trials: int, rng: np.random.Generator, fixed: Mapping[str, float]
    ) -> None:
        self.trials = trials
        self._values: dict[str, Floats] = {}
        for parameter_id, parameter in parameters.parameters.items():
            drawn = sample(parameter.distribution, trials, rng)
            self._values[parameter_id] = np.full(trials, fixed[parameter_id]) if parameter_id in fixed else drawn

    def __getitem__(self, parameter_id: str) -> Floats:
        return self._values[parameter_id]

    def as_dict(self) -> dict[str, Floats]:
        return dict(self._values)


def _p_event(draws: _Draws, exposure: Exposure) -> Floats:
    category = exposure.category
    if category is Category.HEALTH:
        return draws["p_loss_event.health_with_baa" if exposure.tool.hipaa_baa else "p_loss_event.health_without_baa"]
    key = {
        Category.PERSONAL_DATA: "p_loss_event.personal_data",
        Category.PAYMENT_CARD: "p_loss_event.payment_card",
        Category.BANK_ACCOUNT: "p_loss_event.bank_account",
    }.get(category, "p_loss_event.corporate")
    return draws[key]


def _p_vendor_side(draws: _Draws, exposure: Exposure) -> Floats:
    """Yearly probability that what the vendor holds from this cell comes out: compromise, compulsion, training."""
    sanctioned = exposure.tool.status == "sanctioned"
    vendor = draws["p_vendor_compromise.consumer"] * (draws["vendor_factor.sanctioned"] if sanctioned else 1.0)
    # A sanctioned tool runs under enterprise terms that exclude training; otherwise the catalog fact decides, and
    # an unknown fact counts as training (a tool cannot look safe because nothing is known about it).
    trains = not sanctioned and exposure.tool.trains_on_input is not False
    training = draws["p_training_leak"] if trains else 0.0
    return 1.0 - (1.0 - vendor) * (1.0 - training)


def _touch(share: float, people: Floats) -> Floats:
    """Probability that an event touching `people` people includes at least one from a jurisdiction."""
    return 1.0 - np.power(1.0 - share, np.minimum(people, _MAX_PEOPLE_FOR_JURISDICTION))


class _CellModel:
    def __init__(self, draws: _Draws, profile: OrganisationProfile, years: float, rng: np.random.Generator) -> None:
        self.draws = draws
        self.profile = profile
        self.years = years
        self.rng = rng

    def run(self, exposure: Exposure, scopes: Mapping[Regulation, Scope]) -> CellLoss:
        d = self.draws
        unidentified = exposure.unidentified_texts * d["subjects.per_text_without_identifiers"]
        people = np.maximum((exposure.identified_subjects + unidentified) / self.years, 1.0)
        users_per_year = max(exposure.users, 1) / self.years
        # Any one user's exposure being identified as reportable starts the incident; the investigation then
        # covers every user's pastes of this data to this tool, so it is one event touching all the cell's people.
        p_reported = 1.0 - np.power(1.0 - _p_event(d, exposure), users_per_year)
        reported = (self.rng.random(self.draws.trials) < p_reported).astype(np.float64)
        vendor = (self.rng.random(self.draws.trials) < _p_vendor_side(d, exposure)).astype(np.float64)
        events = reported + vendor
        has_people = exposure.category in PEOPLE_CATEGORIES
        affected = events * people if has_people else np.zeros_like(events)
        per_event = people if has_people else np.ones_like(events)
        per_person = d["response.notice_usd"] + d["response.monitoring_takeup"] * d["response.monitoring_usd"]
        per_person = per_person + d["response.other_per_subject_usd"]
        scaled = events * np.power(people, d["response.scale_exponent"])
        # The first loss event of a cell's year engages counsel and forensics in full; a second one in the same
        # year, same data and same tool, reuses that work and costs a share of it.
        repeat_events = np.maximum(events - 1.0, 0.0)
        fixed = d["response.fixed_usd"] * (np.minimum(events, 1.0) + d["response.repeat_share"] * repeat_events)
        response = fixed + (per_person * scaled if has_people else 0.0)
        nothing = np.zeros_like(events)
        fines = {
            regulation: self._fine(regulation, exposure, events, affected, per_event)
            if exposure.category in scopes[regulation].categories
            else nothing
            for regulation in Regulation
        }
        return CellLoss(exposure, response, fines)

    def _actions(self, events: Floats, probability: Floats) -> Floats:
        """Binomial(events, p) per trial. A cell has at most two loss events a year (one detected, one on the
        vendor's side), so two uniform draws do it, five times cheaper than numpy's binomial sampler."""
        chance = np.clip(probability, 0.0, 1.0)
        first, second = self.rng.random((2, events.size))
        actions: Floats = ((first < chance) & (events >= 1)).astype(np.float64)
        actions += (second < chance) & (events >= 2)
        return actions

    def _fine(
        self, regulation: Regulation, exposure: Exposure, events: Floats, affected: Floats, per_event: Floats
    ) -> Floats:
        d, shares = self.draws, self.profile.subjects
        if regulation is Regulation.CCPA:
            return self._ccpa(exposure, events, affected, per_event)
        if regulation is Regulation.STATE_BREACH:
            us_share = shares.california + shares.other_us
            late = self._actions(events, d["state.p_late_notice"] * _touch(us_share, per_event))
            return late * np.minimum(d["state.penalty_usd"], d["state.penalty_cap_usd"])
        if regulation is Regulation.PCI_DSS:
            return affected * d["pci.per_card_usd"] + events * d["pci.brand_fine_usd"]
        if regulation is Regulation.SEC:
            return np.zeros_like(events)  # decided on the year's total, in `simulate`
        probability, amount = {
            Regulation.GDPR: (
                d["gdpr.p_fine"] * _touch(shares.eu_uk, per_event),
                d["gdpr.fine_eur"] * d["fx.usd_per_eur"],
            ),
            Regulation.HIPAA: (d["hipaa.p_penalty"], d["hipaa.penalty_usd"]),
            Regulation.GLBA: (d["glba.p_action"], d["glba.penalty_usd"]),
        }[regulation]
        return self._actions(events, probability) * amount

    def _ccpa(self, exposure: Exposure, events: Floats, affected: Floats, per_event: Floats) -> Floats:
        d, ca = self.draws, self.profile.subjects.california
        element_share = d["ccpa.breach_element_share"] if exposure.category is Category.PERSONAL_DATA else 1.0
        californians = affected * ca
        enforcement = self._actions(events, d["ccpa.p_enforcement"] * _touch(ca, per_event))
        # An administrative fine counts per violation (per consumer): it cannot exceed that count's ceiling.
        admin = enforcement * np.minimum(
            d["ccpa.enforcement_usd"], d["ccpa.per_violation_usd"] * np.maximum(per_event * ca, 1.0)
        )
        if exposure.category is Category.BANK_ACCOUNT and self.profile.glba_financial_institution:
            admin = np.zeros_like(admin)  # GLBA data is outside the CCPA except the breach private right of action
        suits = self._actions(events, d["ccpa.p_suit"])
        suit_share = np.divide(suits, events, out=np.zeros_like(suits), where=events > 0)
        private = (
            suit_share * californians * element_share * d["ccpa.statutory_damages_usd"] * d["ccpa.settlement_fraction"]
        )
        return admin + private


def _cap(cells: list[CellLoss], regulation: Regulation, cap: Floats) -> None:
    """Cap the year's total of one regulation, scaling every cell's share alike (the allocation stays additive)."""
    total = sum((cell.by_regulation[regulation] for cell in cells), np.zeros_like(cap))
    factor = np.divide(np.minimum(total, cap), total, out=np.ones_like(total), where=total > 0)
    for cell in cells:
        cell.by_regulation[regulation] = cell.by_regulation[regulation] * factor


def simulate(
    inventory: Inventory,
    profile: OrganisationProfile,
    parameters: ParameterSet,
    *,
    trials: int,
    seed: int,
    fixed: Mapping[str, float] | None = None,
) -> Simulation:
    rng = np.random.default_rng(seed)
    draws = _Draws(parameters, trials, rng, fixed or {})
    scopes = regulation_scope(profile)
    model = _CellModel(draws, profile, inventory.years, rng)
    cells = [model.run(exposure, scopes) for exposure in inventory.exposures]

    turnover_eur = profile.annual_revenue_usd / draws["fx.usd_per_eur"]
    gdpr_cap_eur = np.maximum(draws["gdpr.cap_eur"], draws["gdpr.cap_turnover_share"] * turnover_eur)
    _cap(cells, Regulation.GDPR, gdpr_cap_eur * draws["fx.usd_per_eur"])
    _cap(cells, Regulation.HIPAA, draws["hipaa.annual_cap_usd"])
    _add_sec(cells, profile=profile, draws=draws, rng=rng, scope=scopes[Regulation.SEC], trials=trials)
    return Simulation(trials, tuple(cells), dict(scopes), draws.as_dict())


def _add_sec(
    cells: list[CellLoss],
    *,
    profile: OrganisationProfile,
    draws: _Draws,
    rng: np.random.Generator,
    scope: Scope,
    trials: int,
) -> None:
    """A year whose loss is material, for a listed company, may bring an SEC action if disclosure is mishandled;
    the penalty is shared among the cells in proportion to their part of that year's loss."""
    mishandled = rng.random(trials) < draws["sec.p_mishandled"]
    if not scope.applies or not cells:
        for cell in cells:
            cell.by_regulation[Regulation.SEC] = np.zeros(trials)
        return
    totals = np.array([cell.total for cell in cells])
    year_total = totals.sum(axis=0)
    material = year_total >= profile.annual_revenue_usd * profile.materiality_share_of_revenue
    penalty = np.where(material & mishandled, draws["sec.penalty_usd"], 0.0)
    shares = np.divide(totals, year_total, out=np.zeros_like(totals), where=year_total > 0)
    for cell, share in zip(cells, shares, strict=True):
        cell.by_regulation[Regulation.SEC] = penalty * share
