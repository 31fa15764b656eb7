"""Load the exposure parameters and an organisation's profile; apply its overrides (each with its justification)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from pydantic import BaseModel, ValidationError

from rules.exposure_schema import OrganisationProfile, Parameter, ParameterFile, ProfileFile
from rules.yaml_loading import RuleFileError, read_yaml

PARAMETER_FILE = Path(__file__).parent / "exposure" / "parameters.yaml"
DEFAULT_PROFILE_FILE = Path(__file__).parent / "exposure" / "default-organisation.yaml"
M = TypeVar("M", bound=BaseModel)


class ExposureRulesError(Exception):
    def __init__(self, problems: list[RuleFileError]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(problem) for problem in problems))


@dataclass(frozen=True, slots=True)
class ParameterSet:
    model_version: str
    parameters: Mapping[str, Parameter]
    overrides: Mapping[str, str]  # parameter id → the organisation's justification

    def __getitem__(self, parameter_id: str) -> Parameter:
        return self.parameters[parameter_id]


def _load(path: Path, model: type[M]) -> M:
    try:
        return model.model_validate(read_yaml(path))
    except RuleFileError as error:
        raise ExposureRulesError([error]) from error
    except ValidationError as error:
        problems = [
            RuleFileError(path, ".".join(str(part) for part in e["loc"]) or "file", e["msg"]) for e in error.errors()
        ]
        raise ExposureRulesError(problems) from error


def load_profile(path: Path = DEFAULT_PROFILE_FILE) -> OrganisationProfile:
    return _load(path, ProfileFile).organisation


def load_parameters(profile: OrganisationProfile | None = None, path: Path = PARAMETER_FILE) -> ParameterSet:
    shipped = _load(path, ParameterFile)
    parameters = {parameter.id: parameter for parameter in shipped.parameters}
    overrides: dict[str, str] = {}
    problems: list[RuleFileError] = []
    for parameter_id, override in (profile.overrides if profile else {}).items():
        if parameter_id not in parameters:
            problems.append(RuleFileError("organisation profile", f"overrides.{parameter_id}", "no such parameter"))
            continue
        parameters[parameter_id] = parameters[parameter_id].model_copy(update={"distribution": override.distribution})
        overrides[parameter_id] = override.justification
    if problems:
        raise ExposureRulesError(problems)
    return ParameterSet(shipped.model_version, parameters, overrides)
