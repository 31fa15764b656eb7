"""ECH fronts and DNS-over-HTTPS resolvers (rules/sensor/hidden-names.yaml): names the sensor must not drop."""

from __future__ import annotations

from dataclasses import dataclass
from ipaddress import IPv4Address, IPv6Address, ip_address
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from rules.catalog_schema import DomainName
from rules.hostnames import normalize_host
from rules.yaml_loading import RuleFileError, read_yaml

HIDDEN_NAMES_FILE = Path(__file__).parent / "sensor" / "hidden-names.yaml"


class _Strict(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class DohResolvers(_Strict):
    names: tuple[DomainName, ...] = Field(min_length=1)
    addresses: tuple[IPv4Address | IPv6Address, ...] = ()


class Examples(_Strict):
    ech: tuple[str, ...]
    doh: tuple[str, ...]
    neither: tuple[str, ...]


class HiddenNamesFile(_Strict):
    schema_: Literal["shadowscope/hidden-names/v1"] = Field(alias="schema")
    ech_fronts: tuple[DomainName, ...]
    doh_resolvers: DohResolvers
    examples: Examples


@dataclass(frozen=True)
class HiddenNames:
    ech_fronts: frozenset[str]
    doh_names: frozenset[str]
    doh_addresses: frozenset[bytes]  # packed, as the sensor sees them

    def is_ech_front(self, host: str) -> bool:
        return normalize_host(host) in self.ech_fronts

    def is_doh(self, host: str) -> bool:
        return normalize_host(host) in self.doh_names


def load_hidden_names(path: Path = HIDDEN_NAMES_FILE) -> HiddenNames:
    raw = read_yaml(path)
    try:
        parsed = HiddenNamesFile.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        raise RuleFileError(path, ".".join(map(str, first["loc"])), first["msg"]) from error
    names = HiddenNames(
        ech_fronts=frozenset(parsed.ech_fronts),
        doh_names=frozenset(parsed.doh_resolvers.names),
        doh_addresses=frozenset(ip_address(a).packed for a in parsed.doh_resolvers.addresses),
    )
    for host in parsed.examples.ech:
        if not names.is_ech_front(host):
            raise RuleFileError(path, f"examples.ech[{host}]", "is not an ECH front")
    for host in parsed.examples.doh:
        if not names.is_doh(host):
            raise RuleFileError(path, f"examples.doh[{host}]", "is not a DoH resolver")
    for host in parsed.examples.neither:
        if names.is_doh(host) or names.is_ech_front(host):
            raise RuleFileError(path, f"examples.neither[{host}]", "is listed")
    return names
