"""Cross-check: the names ShadowScope reads from a capture (the dpkt path) against the names tshark's dissectors find.

A name only tshark found is a name the sensor missed, a decoder bug or a gap worth knowing; a name only we found
is usually tshark being stricter (or a reassembly tshark does not attempt). Names are compared per file as
(signal, host) pairs. The sensor reports an SNI that names an ECH front or a DoH resolver as `ech` / `doh`; for the
comparison those count as the SNI they were read from (`tls_sni` over TCP, `quic_sni` over UDP).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from sensor.capture.base import PacketSource
from sensor.capture.files import CaptureFile
from sensor.capture.tshark import Name, tshark_names
from sensor.names import NameResolver
from sensor.observations import Observation, ObservedSignal
from sensor.pipeline import Pipeline
from sensor.runner import build_resolver

_HIDDEN = (ObservedSignal.ECH, ObservedSignal.DOH)


@dataclass(frozen=True, slots=True)
class Comparison:
    path: str
    both: frozenset[Name]
    only_ours: frozenset[Name]
    only_tshark: frozenset[Name]
    tshark_problem: str | None = None

    @property
    def missed(self) -> bool:
        """tshark found a name the sensor did not."""
        return bool(self.only_tshark)

    def lines(self) -> list[str]:
        out = [
            f"{self.path}: {len(self.both)} names found by both, {len(self.only_ours)} only by ShadowScope, "
            f"{len(self.only_tshark)} only by tshark"
        ]
        out += [f"  missed (only tshark): {signal.value} {host}" for signal, host in sorted(self.only_tshark)]
        out += [f"  only ShadowScope: {signal.value} {host}" for signal, host in sorted(self.only_ours)]
        if self.tshark_problem:
            out.append(f"  note: tshark stopped early: {self.tshark_problem}")
        return out


def names_of(observations: Iterable[Observation]) -> set[Name]:
    names: set[Name] = set()
    for observation in observations:
        if observation.host is None:
            continue
        signal = observation.signal
        if signal in _HIDDEN:
            signal = ObservedSignal.TLS_SNI if observation.transport == "tcp" else ObservedSignal.QUIC_SNI
        names.add((signal, observation.host))
    return names


def compare(path: str, ours: Iterable[Name], theirs: Iterable[Name], tshark_problem: str | None = None) -> Comparison:
    mine, other = frozenset(ours), frozenset(theirs)
    return Comparison(path, mine & other, mine - other, other - mine, tshark_problem)


def our_names(source: PacketSource, resolver: NameResolver | None = None) -> set[Name]:
    pipeline = Pipeline(resolver or build_resolver(), on_flow=lambda _flow: None)
    return names_of(pipeline.run(source.frames()))


def crosscheck(path: str, resolver: NameResolver | None = None) -> Comparison:
    """Raises CaptureError when either side cannot read the file (or tshark is missing).

    Pass one resolver when checking many files: loading the catalog takes longer than reading a small capture.
    """
    theirs = tshark_names(path)
    return compare(path, our_names(CaptureFile(path), resolver), theirs.names, theirs.problem)
