"""The risk score: bounded, explained, and never rewarding ignorance."""

from __future__ import annotations

from typing import Any

from rules.catalog_schema import RiskFacts
from rules.risk import score

SOURCE = {"source": "https://vendor.example/privacy", "as_of": "2026-11-24"}


def facts(**known: Any) -> RiskFacts:
    return RiskFacts.model_validate({name: {"value": value, **SOURCE} for name, value in known.items()})


def test_when_nothing_is_known_then_the_score_is_high_but_below_the_worst() -> None:
    unknown = score(RiskFacts()).total
    worst = score(
        facts(
            trains_on_input_by_default=True,
            training_opt_out=False,
            retention="indefinite",
            enterprise_no_training=False,
            zero_data_retention=False,
            soc2=False,
            iso27001=False,
            hipaa_baa=False,
            headquarters_country="XX",
        )
    ).total
    best = score(
        facts(
            trains_on_input_by_default=False,
            retention={"days": 0},
            enterprise_no_training=True,
            zero_data_retention=True,
            soc2=True,
            iso27001=True,
            hipaa_baa=True,
            headquarters_country="DE",
        )
    ).total

    assert (best, worst) == (0, 100)
    assert best < unknown < worst
    assert unknown > 50, "unknown must not look safe"


def test_every_component_explains_its_points() -> None:
    result = score(facts(trains_on_input_by_default=True, training_opt_out=True, headquarters_country="CN"))

    by_name = {c.name: c for c in result.components}
    assert by_name["data use"].reasons == ("trains on input by default; users can opt out",)
    assert by_name["jurisdiction"].points == 15
    assert "CN" in by_name["jurisdiction"].reasons[0]
    assert result.total == round(sum(c.points for c in result.components))
    assert all(0 <= c.points <= c.maximum for c in result.components)


def test_shorter_retention_scores_lower() -> None:
    points = [score(facts(retention=value)).total for value in ({"days": 0}, {"days": 30}, {"days": 365}, "indefinite")]

    assert points == sorted(points)
    assert len(set(points)) == 4
