"""Schema of detection rules (rules/detections/*.yaml), in the manner of Sigma: a stable id, title, status, level,
description and references, then what to match, how to group and count, and how to fold repeats into one alert.

Three kinds of rule:

* `event` — events matching conditions (kind, labels, tool status, entity types); optionally at least `threshold`
  of them per group within `window`.
* `first_use` — the first time the organisation (or a group) is seen using a tool: a new value of `field`.
* `volume` — a group's upload volume to AI tools in `window` far above its own baseline over `baseline_windows`
  earlier windows (`factor` times the baseline and at least `min_bytes`).

Every rule carries cases — event sequences with how many alerts they must raise — checked when rules are loaded in
tests, so a rule change that stops catching (or starts crying wolf) fails loudly.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Literal
from uuid import UUID

from pydantic import BaseModel, ConfigDict, Field, HttpUrl, StringConstraints, model_validator

from events.labels import DataLabel

Duration = Annotated[str, StringConstraints(pattern=r"^[1-9][0-9]{0,4}[smhd]$")]
GroupField = Literal["client", "tool_id", "source_id", "department"]
EventKind = Literal["network_usage", "visit", "prompt", "paste", "upload"]
ToolStatus = Literal["sanctioned", "tolerated", "unsanctioned"]

_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def seconds(duration: str) -> int:
    return int(duration[:-1]) * _SECONDS[duration[-1]]


class RuleModel(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Match(RuleModel):
    kinds: tuple[EventKind, ...] = Field(default=(), description="Any of these kinds (empty: any).")
    labels_any: tuple[DataLabel, ...] = Field(default=(), description="At least one of these labels.")
    entity_types_any: tuple[str, ...] = Field(default=(), description="At least one of these entity types.")
    tool_status: tuple[ToolStatus, ...] = Field(default=(), description="The tool's status under the policy.")
    catalogued: bool | None = Field(default=None, description="True: a catalogued AI tool; False: unknown sites.")


class Suppression(RuleModel):
    """Repeats of the same rule and group within `window` of the open alert fold into it, raising its count."""

    window: Duration = "24h"


class CaseEvent(RuleModel):
    """An event as detection sees it: no text, only facts."""

    at: datetime
    kind: EventKind = "prompt"
    client: str = "u1"
    tool_id: str | None = "openai-chatgpt"
    tool_status: ToolStatus = "unsanctioned"
    labels: tuple[DataLabel, ...] = ()
    entity_types: tuple[str, ...] = ()
    bytes_up: int = Field(default=0, ge=0)
    department: str | None = None
    source_id: str = "dev-1"


class Case(RuleModel):
    description: str = Field(min_length=3, max_length=200)
    events: tuple[CaseEvent, ...] = Field(min_length=1)
    alerts: int = Field(ge=0, description="Alerts the events must raise (after suppression).")
    count: int | None = Field(default=None, ge=1, description="If given, the events folded into the first alert.")


class DetectionRule(RuleModel):
    id: UUID
    title: str = Field(min_length=5, max_length=120)
    status: Literal["experimental", "test", "stable", "deprecated"]
    level: Literal["low", "medium", "high", "critical"]
    description: str = Field(min_length=10, max_length=1000)
    references: tuple[HttpUrl, ...] = ()
    author: str = Field(default="ShadowScope", max_length=120)
    kind: Literal["event", "first_use", "volume"]
    match: Match = Match()
    group_by: tuple[GroupField, ...] = Field(default=("client", "tool_id"), min_length=1)
    threshold: int = Field(default=1, ge=1, le=100_000, description="`event`: events per group within the window.")
    window: Duration = "1h"
    field: Literal["tool_id"] = Field(default="tool_id", description="`first_use`: the value that is new.")
    baseline_windows: int = Field(default=7, ge=2, le=365, description="`volume`: earlier windows averaged.")
    factor: float = Field(default=5.0, gt=1.0, le=1000.0, description="`volume`: times the baseline.")
    min_bytes: int = Field(default=10_000_000, ge=0, description="`volume`: and at least this much.")
    suppression: Suppression = Suppression()
    cases: tuple[Case, ...] = Field(min_length=2, description="At least one that raises and one that must not.")

    @model_validator(mode="after")
    def _cases_both_ways(self) -> DetectionRule:
        if not any(case.alerts > 0 for case in self.cases) or not any(case.alerts == 0 for case in self.cases):
            raise ValueError("give cases that must raise an alert and cases that must not")
        return self


class DetectionFile(RuleModel):
    schema_: Literal["shadowscope/detections/v1"] = Field(alias="schema")
    rules: tuple[DetectionRule, ...] = Field(min_length=1)
