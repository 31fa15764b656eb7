"""A tool's risk score, 0 (least) to 100 (most), from its catalog facts — with the reasons behind each point.

Five components, each with a fixed maximum; an unknown fact scores between the good and the bad answer (closer to
bad), so a tool cannot look safe merely because nothing is known about it:

| component            | max | facts                                                        |
|----------------------|-----|--------------------------------------------------------------|
| data use             | 30  | trains_on_input_by_default, training_opt_out                 |
| retention            | 15  | retention                                                    |
| enterprise controls  | 20  | enterprise_no_training, zero_data_retention                  |
| attestations         | 20  | soc2, iso27001, hipaa_baa                                    |
| jurisdiction         | 15  | headquarters_country (adequacy of its data-protection regime) |
"""

from __future__ import annotations

from dataclasses import dataclass

from rules.catalog_schema import Fact, RetentionDays, RiskFacts

# Countries whose data-protection regime the EU recognises as adequate (Art. 45 GDPR decisions) plus the EEA
# itself; the US counts through the EU-US Data Privacy Framework. Elsewhere, data that leaves is harder to reach.
_EEA = "AT BE BG HR CY CZ DK EE FI FR DE GR HU IE IT LV LT LU MT NL PL PT RO SK SI ES SE IS LI NO"
_ADEQUACY_DECISIONS = "GB CH AD AR CA FO GG IL IM JP JE NZ KR UY US"
ADEQUATE_JURISDICTIONS = frozenset(f"{_EEA} {_ADEQUACY_DECISIONS}".split())


@dataclass(frozen=True, slots=True)
class Component:
    name: str
    points: float
    maximum: float
    reasons: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class RiskScore:
    total: int
    components: tuple[Component, ...]


def _bool_points(fact: Fact[bool], name: str, if_true: float, if_false: float, if_unknown: float) -> tuple[float, str]:
    if not fact.known:
        return if_unknown, f"{name}: unknown"
    return (if_true, f"{name}: yes") if fact.value is True else (if_false, f"{name}: no")


def _data_use(facts: RiskFacts) -> Component:
    trains = facts.trains_on_input_by_default
    if not trains.known:
        points, reason = 20.0, "trains on input by default: unknown"
    elif trains.value is False:
        points, reason = 0.0, "does not train on input by default"
    elif facts.training_opt_out.known and facts.training_opt_out.value is True:
        points, reason = 22.0, "trains on input by default; users can opt out"
    else:
        points, reason = 30.0, "trains on input by default, no opt-out known"
    return Component("data use", points, 30, (reason,))


def _retention(facts: RiskFacts) -> Component:
    value = facts.retention.value
    if not facts.retention.known:
        return Component("retention", 10, 15, ("retention: unknown",))
    if isinstance(value, RetentionDays):
        points = 0.0 if value.days == 0 else 5.0 if value.days <= 30 else 10.0
        return Component("retention", points, 15, (f"retention: {value.days} days",))
    return Component("retention", 15, 15, (f"retention: {value}",))


def _enterprise(facts: RiskFacts) -> Component:
    no_training = _bool_points(facts.enterprise_no_training, "enterprise tier without training", 0, 10, 7)
    zero_retention = _bool_points(facts.zero_data_retention, "zero-retention option", 0, 10, 7)
    return Component("enterprise controls", no_training[0] + zero_retention[0], 20, (no_training[1], zero_retention[1]))


def _attestations(facts: RiskFacts) -> Component:
    parts = (
        _bool_points(facts.soc2, "SOC 2", 0, 7, 5),
        _bool_points(facts.iso27001, "ISO 27001", 0, 7, 5),
        _bool_points(facts.hipaa_baa, "HIPAA BAA", 0, 6, 4),
    )
    return Component("attestations", sum(p for p, _ in parts), 20, tuple(r for _, r in parts))


def _jurisdiction(facts: RiskFacts) -> Component:
    country = facts.headquarters_country
    if not country.known:
        return Component("jurisdiction", 10, 15, ("headquarters: unknown",))
    adequate = country.value in ADEQUATE_JURISDICTIONS
    reason = f"headquarters {country.value}: {'adequate' if adequate else 'no'} data-protection adequacy"
    return Component("jurisdiction", 0 if adequate else 15, 15, (reason,))


def score(facts: RiskFacts) -> RiskScore:
    components = (_data_use(facts), _retention(facts), _enterprise(facts), _attestations(facts), _jurisdiction(facts))
    return RiskScore(total=round(sum(c.points for c in components)), components=components)
