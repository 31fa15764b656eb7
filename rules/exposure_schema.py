"""Schema of the exposure model's parameters (rules/exposure/parameters.yaml) and of an organisation's profile.

Every parameter is data with its value or range, unit, source, year and confidence grade (A primary, B a primary
source restated, C judgement). An organisation may replace any of them, but only with a justification note, which
every export then prints next to the figure.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

ParameterId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9_]+(\.[a-z0-9_]+)*$", max_length=80)]


class RuleModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Constant(RuleModel):
    kind: Literal["constant"] = "constant"
    value: float


class Pert(RuleModel):
    """BetaPERT from minimum, most likely and maximum (Open FAIR's calibrated estimate, lambda 4)."""

    kind: Literal["pert"] = "pert"
    low: float
    mode: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Pert:
        if not self.low <= self.mode <= self.high or self.low == self.high:
            raise ValueError("need low <= mode <= high and low < high")
        return self


class Lognormal90(RuleModel):
    """Lognormal whose 5th and 95th percentiles are `low` and `high` (a 90% interval, Hubbard's convention)."""

    kind: Literal["lognormal90"] = "lognormal90"
    low: float = Field(gt=0)
    high: float = Field(gt=0)

    @model_validator(mode="after")
    def _ordered(self) -> Lognormal90:
        if not self.low < self.high:
            raise ValueError("need low < high")
        return self


class Uniform(RuleModel):
    kind: Literal["uniform"] = "uniform"
    low: float
    high: float

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("need low < high")
        return self


Distribution = Annotated[Constant | Pert | Lognormal90 | Uniform, Field(discriminator="kind")]


class Source(RuleModel):
    title: str = Field(min_length=3, max_length=300)
    url: HttpUrl | None = None
    year: int = Field(ge=1990, le=2100)
    grade: Literal["A", "B", "C"]


class Parameter(RuleModel):
    id: ParameterId
    description: str = Field(min_length=3, max_length=300)
    unit: Literal["usd", "eur", "probability", "fraction", "count", "exponent", "usd_per_subject", "usd_per_eur"]
    distribution: Distribution
    source: Source


class ParameterFile(RuleModel):
    schema_: Literal["shadowscope/exposure-parameters/v1"] = Field(alias="schema")
    model_version: Annotated[str, StringConstraints(pattern=r"^\d+\.\d+\.\d+$")]
    parameters: tuple[Parameter, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> ParameterFile:
        ids = [parameter.id for parameter in self.parameters]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"parameter ids repeat: {', '.join(duplicates)}")
        return self


class Override(RuleModel):
    distribution: Distribution
    justification: str = Field(min_length=10, max_length=600, description="Why; printed in every export.")


class SubjectShares(RuleModel):
    """Where the people in the data live (shares of data subjects; the rest is elsewhere)."""

    eu_uk: float = Field(default=0.0, ge=0, le=1)
    california: float = Field(default=0.0, ge=0, le=1)
    other_us: float = Field(default=1.0, ge=0, le=1)

    @model_validator(mode="after")
    def _at_most_one(self) -> SubjectShares:
        if self.eu_uk + self.california + self.other_us > 1.0 + 1e-9:
            raise ValueError("shares add up to more than 1")
        return self


class OrganisationProfile(RuleModel):
    name: str = Field(min_length=1, max_length=200)
    industry: str = Field(default="unspecified", max_length=100)
    annual_revenue_usd: float = Field(gt=0)
    employees: int = Field(gt=0)
    subjects: SubjectShares = SubjectShares()
    hipaa: Literal["none", "covered_entity", "business_associate"] = "none"
    pci_merchant_level: Literal[0, 1, 2, 3, 4] = Field(default=0, description="0: does not accept cards.")
    glba_financial_institution: bool = False
    listed_company: bool = False
    materiality_share_of_revenue: float = Field(default=0.005, gt=0, le=0.2)
    departments: dict[str, str] = Field(
        default_factory=dict, description="User → department (pseudonymous ids unless names are wanted)."
    )
    overrides: dict[ParameterId, Override] = Field(default_factory=dict)


class ProfileFile(RuleModel):
    schema_: Literal["shadowscope/organisation/v1"] = Field(alias="schema")
    organisation: OrganisationProfile
