"""Schema of the browser extension's action table (rules/extension/actions.yaml): tool status x data label → action."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from events.labels import DataLabel
from events.models import PolicyAction
from rules.yaml_loading import RuleFileError, read_yaml

ACTIONS_FILE = Path(__file__).parent / "extension" / "actions.yaml"
Status = Literal["sanctioned", "tolerated", "unsanctioned"]


class ActionTable(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    schema_: Literal["shadowscope/extension-actions/v1"] = Field(alias="schema")
    actions: dict[Status, dict[DataLabel, PolicyAction]]


def load_action_table(path: Path = ACTIONS_FILE) -> ActionTable:
    """The table, with every status and every label present (a missing one is an error, not a silent allow)."""
    try:
        table = ActionTable.model_validate(read_yaml(path))
    except ValidationError as error:
        first = error.errors()[0]
        raise RuleFileError(path, ".".join(str(p) for p in first["loc"]), first["msg"]) from error
    for status in ("sanctioned", "tolerated", "unsanctioned"):
        missing = [label.value for label in DataLabel if label not in table.actions.get(status, {})]
        if missing:
            raise RuleFileError(path, f"actions.{status}", f"no action for {', '.join(missing)}")
    return table
