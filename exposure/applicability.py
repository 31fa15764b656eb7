"""Which regulation reaches which data category, for this organisation: the exemptions and precedence rules.

* HIPAA PHI is outside the CCPA altogether (including the private right of action), and a HIPAA notice satisfies
  state breach-notification laws, so health data of a covered entity or business associate goes to HIPAA only
  (plus GDPR for EU/UK people: different sovereigns stack).
* GLBA customer information is outside the CCPA except the breach private right of action (handled in the model).
* PCI DSS stacks with state law (a different payer); GDPR and the CCPA stack (different sovereigns).
* Corporate financials, legal material and credentials carry no per-person fines; they reach the SEC question for
  a listed company through the year's total, and state breach laws for credentials (a username with its password
  is a notifiable data element in most states).
"""

from __future__ import annotations

from dataclasses import dataclass

from exposure.inventory import Category
from exposure.report import Regulation
from rules.exposure_schema import OrganisationProfile

_PEOPLE = frozenset({Category.PERSONAL_DATA, Category.HEALTH, Category.PAYMENT_CARD, Category.BANK_ACCOUNT})


@dataclass(frozen=True, slots=True)
class Scope:
    applies: bool
    categories: frozenset[Category]
    why: str


def _scope(applies: bool, categories: frozenset[Category], yes: str, no: str) -> Scope:
    return Scope(True, categories, yes) if applies else Scope(False, frozenset(), no)


def regulation_scope(profile: OrganisationProfile) -> dict[Regulation, Scope]:
    shares = profile.subjects
    hipaa = profile.hipaa != "none"
    us = shares.california + shares.other_us > 0
    without_phi = _PEOPLE - {Category.HEALTH} if hipaa else _PEOPLE
    return {
        Regulation.GDPR: _scope(
            shares.eu_uk > 0, _PEOPLE, f"{shares.eu_uk:.0%} of data subjects are in the EU/UK", "no EU/UK data subjects"
        ),
        Regulation.HIPAA: _scope(
            hipaa,
            frozenset({Category.HEALTH}),
            f"the organisation is a HIPAA {profile.hipaa.replace('_', ' ')}",
            "not a HIPAA covered entity or business associate",
        ),
        Regulation.CCPA: _scope(
            shares.california > 0,
            without_phi,
            f"{shares.california:.0%} of data subjects are Californians" + ("; HIPAA PHI is exempt" if hipaa else ""),
            "no California data subjects",
        ),
        Regulation.PCI_DSS: _scope(
            profile.pci_merchant_level > 0,
            frozenset({Category.PAYMENT_CARD}),
            f"PCI merchant level {profile.pci_merchant_level}",
            "the organisation does not accept cards",
        ),
        Regulation.GLBA: _scope(
            profile.glba_financial_institution,
            frozenset({Category.PERSONAL_DATA, Category.BANK_ACCOUNT}),
            "a financial institution under the FTC Safeguards Rule",
            "not a GLBA financial institution",
        ),
        Regulation.SEC: _scope(
            profile.listed_company,
            frozenset(Category),
            f"listed company; material above {profile.materiality_share_of_revenue:.1%} of revenue",
            "not a listed company",
        ),
        Regulation.STATE_BREACH: _scope(
            us,
            without_phi | {Category.CREDENTIALS},
            "US data subjects" + ("; PHI notice goes through HIPAA" if hipaa else ""),
            "no US data subjects",
        ),
    }
