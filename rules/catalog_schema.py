"""Schema of the AI tool catalog (rules/catalog/*.yaml): tools, their host names, and sourced risk facts.

A fact is either known — a value with the source that says so and the date it was read — or `unknown`. Nothing is
guessed: a reviewer defending a number must be able to open the source.
"""

from __future__ import annotations

from datetime import date
from enum import StrEnum
from typing import Annotated, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

CATALOG_SCHEMA = "shadowscope/catalog/v1"

ToolId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9]+(-[a-z0-9]+)*$", max_length=64)]
# Lower-case A-labels (punycode for IDNs), no trailing dot, at least two labels.
DomainName = Annotated[
    str,
    StringConstraints(
        min_length=4, max_length=253, pattern=r"^([a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z0-9-]{2,63}$"
    ),
]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
UrlPath = Annotated[str, StringConstraints(pattern=r"^/[A-Za-z0-9._~!$&'()*+,;=:@%/{}-]*$", max_length=256)]


class RuleModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class ProductKind(StrEnum):
    CONSUMER_APP = "consumer_app"
    ENTERPRISE_TIER = "enterprise_tier"
    API = "api"


class Category(StrEnum):
    CHAT_ASSISTANT = "chat_assistant"
    CODING_ASSISTANT = "coding_assistant"
    SEARCH = "search"
    WRITING_AND_TRANSLATION = "writing_and_translation"
    IMAGE_AND_VIDEO = "image_and_video"
    AUDIO_AND_MEETING_NOTES = "audio_and_meeting_notes"
    AGENTS_AND_AUTOMATION = "agents_and_automation"
    MODEL_HOSTING_AND_API_GATEWAYS = "model_hosting_and_api_gateways"
    COMPANIONS = "companions"
    PRODUCTIVITY_AND_DOCUMENTS = "productivity_and_documents"
    DESIGN_AND_PRESENTATIONS = "design_and_presentations"
    RESEARCH_AND_DATA_ANALYSIS = "research_and_data_analysis"


T = TypeVar("T")


class Fact(RuleModel, Generic[T]):
    """A known fact with its source, or `value: unknown` with neither."""

    value: T | Literal["unknown"]
    source: HttpUrl | None = None
    as_of: date | None = Field(default=None, description="When the source was read.")
    note: str | None = Field(default=None, max_length=400)

    @model_validator(mode="after")
    def _sourced_unless_unknown(self) -> Fact[T]:
        if self.value == "unknown":
            if self.source is not None or self.as_of is not None:
                raise ValueError("an unknown fact has no source or date")
        elif self.source is None or self.as_of is None:
            raise ValueError("a known fact needs its source and as_of date")
        return self

    @property
    def known(self) -> bool:
        return self.value != "unknown"


UNKNOWN: Fact[object] = Fact(value="unknown")


class RetentionDays(RuleModel):
    days: int = Field(ge=0, description="How long prompts are kept by default; 0 = not stored.")


Retention = RetentionDays | Literal["indefinite", "until_deleted"]


class RiskFacts(RuleModel):
    """What reviewers ask about a tool. Absent facts are unknown."""

    trains_on_input_by_default: Fact[bool] = Field(default_factory=lambda: Fact[bool](value="unknown"))
    training_opt_out: Fact[bool] = Field(default_factory=lambda: Fact[bool](value="unknown"))
    retention: Fact[Retention] = Field(default_factory=lambda: Fact[Retention](value="unknown"))
    enterprise_no_training: Fact[bool] = Field(
        default_factory=lambda: Fact[bool](value="unknown"),
        description="An enterprise/business tier whose inputs are not used for training.",
    )
    zero_data_retention: Fact[bool] = Field(
        default_factory=lambda: Fact[bool](value="unknown"), description="A zero-retention option exists."
    )
    soc2: Fact[bool] = Field(default_factory=lambda: Fact[bool](value="unknown"))
    iso27001: Fact[bool] = Field(default_factory=lambda: Fact[bool](value="unknown"))
    hipaa_baa: Fact[bool] = Field(default_factory=lambda: Fact[bool](value="unknown"))
    data_residency: Fact[tuple[CountryCode | Literal["EU"], ...]] = Field(
        default_factory=lambda: Fact[tuple[CountryCode | Literal["EU"], ...]](value="unknown"),
        description="Regions where customer data can be kept (ISO country codes, or EU).",
    )
    headquarters_country: Fact[CountryCode] = Field(default_factory=lambda: Fact[CountryCode](value="unknown"))


class Tool(RuleModel):
    id: ToolId
    name: str = Field(min_length=1, max_length=120)
    vendor: str = Field(min_length=1, max_length=120)
    kind: ProductKind
    category: Category
    suffixes: tuple[DomainName, ...] = Field(
        default=(), description="Names that belong to this tool with every subdomain (label boundary)."
    )
    exact: tuple[DomainName, ...] = Field(default=(), description="Names that belong to this tool exactly.")
    paths: tuple[UrlPath, ...] = Field(
        default=(), description="Browser side: URL paths a prompt or upload is sent to ({id} = any segment)."
    )
    facts: RiskFacts = Field(default_factory=RiskFacts)

    @model_validator(mode="after")
    def _has_a_name(self) -> Tool:
        if not self.suffixes and not self.exact:
            raise ValueError("a tool needs at least one host name in suffixes or exact")
        return self


class Examples(RuleModel):
    match: dict[str, ToolId] = Field(min_length=1, description="Host name -> the tool it must resolve to.")
    no_match: tuple[str, ...] = Field(min_length=1, description="Host names that must resolve to no tool.")


class CatalogFile(RuleModel):
    schema_: Literal["shadowscope/catalog/v1"] = Field(alias="schema")
    tools: tuple[Tool, ...] = Field(min_length=1)
    examples: Examples


class SharedPlatformsFile(RuleModel):
    """Domains shared by many products (clouds, CDNs, big platforms): never an AI tool as a whole."""

    schema_: Literal["shadowscope/shared-platforms/v1"] = Field(alias="schema")
    domains: tuple[DomainName, ...] = Field(min_length=1)
