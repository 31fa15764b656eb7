"""The exposure model's math: closed-form cases, caps, exemptions, no double counting, reproducibility."""

from __future__ import annotations

from dataclasses import replace
from datetime import date

import numpy as np
import pytest

from exposure.inventory import Category, Exposure, Inventory, Tool
from exposure.report import Regulation
from exposure.run import distribution_of, exceedance_curve, run_exposure
from exposure.simulation import simulate
from rules.exposure_parameters import ExposureRulesError, load_parameters
from rules.exposure_schema import Constant, OrganisationProfile, Override, SubjectShares

CHATBOT = Tool("chatbot", "Chatbot", "Vendor", "unsanctioned", trains_on_input=True, hipaa_baa=False)
YEAR = (date(2025, 1, 1), date(2025, 12, 31))  # 365 days: nothing is annualised away


def _exposure(category: Category, *, users: int = 1, people: int = 100, events: int = 1) -> Exposure:
    return Exposure(
        category,
        CHATBOT,
        events,
        users,
        distinct_texts=users,
        identified_subjects=people,
        unidentified_texts=0,
        events_by_month={"2025-06": events},
        events_by_department={"ops": events},
        subjects_by_department={"ops": people},
    )


def _inventory(*exposures: Exposure) -> Inventory:
    events = sum(e.events for e in exposures)
    return Inventory(
        *YEAR,
        exposures=exposures,
        events=events,
        labelled_events=events,
        distinct_subjects=sum(e.identified_subjects for e in exposures),
        users=1,
        events_by_month={"2025-06": (events, events)},
    )


def _constant(value: float) -> Override:
    return Override(distribution=Constant(value=value), justification="fixed for a closed-form test of the math")


# Every uncertain input fixed: one vendor-side loss event a year per cell, no reportable incidents.
DETERMINISTIC = {
    "p_loss_event.personal_data": 0.0,
    "p_loss_event.health_without_baa": 0.0,
    "p_loss_event.payment_card": 0.0,
    "p_loss_event.bank_account": 0.0,
    "p_loss_event.corporate": 0.0,
    "p_training_leak": 0.0,
    "p_vendor_compromise.consumer": 1.0,
    "response.fixed_usd": 50_000.0,
    "response.notice_usd": 2.0,
    "response.monitoring_usd": 30.0,
    "response.monitoring_takeup": 0.1,
    "response.other_per_subject_usd": 5.0,
    "response.scale_exponent": 1.0,
    "gdpr.p_fine": 0.0,
    "hipaa.p_penalty": 0.0,
    "ccpa.p_enforcement": 0.0,
    "ccpa.p_suit": 0.0,
    "glba.p_action": 0.0,
    "state.p_late_notice": 0.0,
    "sec.p_mishandled": 0.0,
    "pci.per_card_usd": 5.0,
    "pci.brand_fine_usd": 20_000.0,
    "fx.usd_per_eur": 1.1,
}


def _profile(**changes: object) -> OrganisationProfile:
    fixed = {key: _constant(value) for key, value in DETERMINISTIC.items()}
    base = OrganisationProfile(
        name="Test Org",
        annual_revenue_usd=1e9,
        employees=1000,
        subjects=SubjectShares(eu_uk=0.2, california=0.3, other_us=0.5),
        overrides=fixed,
    )
    return base.model_copy(update=changes)


def _with(profile: OrganisationProfile, **values: float) -> OrganisationProfile:
    return profile.model_copy(
        update={"overrides": {**profile.overrides, **{k: _constant(v) for k, v in values.items()}}}
    )


def test_when_frequency_and_amounts_are_constant_then_the_loss_is_their_exact_product() -> None:
    profile = _profile()
    simulation = simulate(
        _inventory(_exposure(Category.PERSONAL_DATA, people=100)),
        profile,
        load_parameters(profile),
        trials=1000,
        seed=1,
    )

    per_person = 2.0 + 0.1 * 30.0 + 5.0
    assert np.all(simulation.response_total == 50_000.0 + per_person * 100)
    assert np.all(simulation.total == simulation.response_total)


def test_when_a_card_cell_loses_then_pci_is_cards_times_recovery_plus_the_brand_fine() -> None:
    profile = _profile(pci_merchant_level=1)
    simulation = simulate(
        _inventory(_exposure(Category.PAYMENT_CARD, people=300)), profile, load_parameters(profile), trials=100, seed=1
    )

    assert np.all(simulation.regulation_total(Regulation.PCI_DSS) == 300 * 5.0 + 20_000.0)


def test_when_hipaa_penalties_pile_up_then_the_calendar_year_cap_holds() -> None:
    profile = _with(
        _profile(hipaa="covered_entity"),
        **{"hipaa.p_penalty": 1.0, "hipaa.penalty_usd": 5e6, "p_loss_event.health_without_baa": 1.0},
    )
    inventory = _inventory(_exposure(Category.HEALTH, users=20, people=50))
    hipaa = simulate(inventory, profile, load_parameters(profile), trials=500, seed=3).regulation_total(
        Regulation.HIPAA
    )

    assert hipaa.max() == pytest.approx(2_190_294)
    assert np.all(hipaa <= 2_190_294 + 1e-6)


def test_when_gdpr_fines_pile_up_then_art_83_caps_the_year_at_the_higher_of_the_fixed_sum_and_the_turnover_share() -> (
    None
):
    profile = _with(
        _profile(subjects=SubjectShares(eu_uk=1.0, california=0.0, other_us=0.0)),
        **{"gdpr.p_fine": 1.0, "gdpr.fine_eur": 9e7, "p_loss_event.personal_data": 1.0},
    )
    inventory = _inventory(_exposure(Category.PERSONAL_DATA, users=30))
    gdpr = simulate(inventory, profile, load_parameters(profile), trials=200, seed=5).regulation_total(Regulation.GDPR)

    # turnover €909M: 2% is €18.2M, above the €10M fixed ceiling
    assert gdpr.max() == pytest.approx(0.02 * (1e9 / 1.1) * 1.1)


def test_when_the_organisation_is_a_hipaa_entity_then_phi_is_outside_ccpa_and_state_law() -> None:
    profile = _with(
        _profile(hipaa="covered_entity"), **{"ccpa.p_enforcement": 1.0, "ccpa.p_suit": 1.0, "state.p_late_notice": 1.0}
    )
    simulation = simulate(_inventory(_exposure(Category.HEALTH)), profile, load_parameters(profile), trials=200, seed=1)

    assert not simulation.regulation_total(Regulation.CCPA).any()
    assert not simulation.regulation_total(Regulation.STATE_BREACH).any()
    without_hipaa = _with(_profile(), **{"ccpa.p_enforcement": 1.0, "state.p_late_notice": 1.0})
    again = simulate(
        _inventory(_exposure(Category.HEALTH)), without_hipaa, load_parameters(without_hipaa), trials=200, seed=1
    )
    assert again.regulation_total(Regulation.CCPA).all()


def test_when_the_same_people_are_pasted_ten_times_then_the_exposure_is_the_same_as_once() -> None:
    profile = _with(_profile(), **{"p_loss_event.personal_data": 0.3, "gdpr.p_fine": 0.2})
    parameters = load_parameters(profile)
    once = simulate(_inventory(_exposure(Category.PERSONAL_DATA, events=1)), profile, parameters, trials=5000, seed=9)
    tenfold = simulate(
        _inventory(_exposure(Category.PERSONAL_DATA, events=10)), profile, parameters, trials=5000, seed=9
    )

    assert np.array_equal(once.total, tenfold.total)


def test_when_losses_are_allocated_then_regulations_and_response_add_up_to_the_total_in_every_trial() -> None:
    profile = _with(_profile(pci_merchant_level=1, listed_company=True), **{"gdpr.p_fine": 0.5, "p_training_leak": 0.1})
    inventory = _inventory(_exposure(Category.PERSONAL_DATA), _exposure(Category.PAYMENT_CARD))
    simulation = simulate(inventory, profile, load_parameters(profile), trials=2000, seed=2)

    parts = simulation.response_total + sum(simulation.regulation_total(r) for r in Regulation)
    assert np.allclose(parts, simulation.total)


def test_when_the_seed_is_the_same_then_every_figure_is_identical_and_another_seed_differs() -> None:
    profile = OrganisationProfile(name="Org", annual_revenue_usd=2e8, employees=500)
    parameters = load_parameters(profile)
    inventory = _inventory(_exposure(Category.PERSONAL_DATA, users=12), _exposure(Category.HEALTH, users=3))
    first = run_exposure(inventory, profile, parameters, trials=20_000, seed=7)
    second = run_exposure(inventory, profile, parameters, trials=20_000, seed=7)
    other = run_exposure(inventory, profile, parameters, trials=20_000, seed=8)

    assert replace(first, generated_at=second.generated_at) == second
    assert other.total != first.total


def test_when_losses_are_summarised_then_percentiles_are_ordered_and_the_exceedance_curve_falls() -> None:
    losses = np.random.default_rng(1).lognormal(12, 1.5, 50_000)
    summary = distribution_of(losses)
    curve = exceedance_curve(losses)

    assert summary.p10 <= summary.p50 <= summary.p90 <= summary.p95 <= summary.p99
    probabilities = [p for _, p in curve]
    assert probabilities == sorted(probabilities, reverse=True)
    assert exceedance_curve(np.zeros(10)) == ()


def test_when_an_override_names_no_parameter_then_loading_says_which() -> None:
    profile = OrganisationProfile(
        name="Org", annual_revenue_usd=1e8, employees=10, overrides={"gdpr.no_such": _constant(1.0)}
    )
    with pytest.raises(ExposureRulesError, match=r"overrides\.gdpr\.no_such: no such parameter"):
        load_parameters(profile)


def test_when_there_is_nothing_to_model_then_the_report_is_zero_not_an_error() -> None:
    profile = OrganisationProfile(name="Org", annual_revenue_usd=1e8, employees=10)
    report = run_exposure(_inventory(), profile, load_parameters(profile), trials=1000, seed=1)

    assert report.total.mean == 0.0
    assert report.exceedance == ()
    assert report.tools == ()
