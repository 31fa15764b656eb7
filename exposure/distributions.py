"""Sampling the parameter distributions with a seeded numpy Generator, and reading them back for people."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray
from scipy import stats

from rules.exposure_schema import Constant, Distribution, Lognormal90, Pert, Uniform

PERT_LAMBDA = 4.0  # Open FAIR's convention
_Z95 = float(stats.norm.ppf(0.95))

Floats = NDArray[np.float64]


def sample(distribution: Distribution, size: int, rng: np.random.Generator) -> Floats:
    if isinstance(distribution, Constant):
        return np.full(size, distribution.value)
    if isinstance(distribution, Pert):
        low, mode, high = distribution.low, distribution.mode, distribution.high
        alpha = 1 + PERT_LAMBDA * (mode - low) / (high - low)
        beta = 1 + PERT_LAMBDA * (high - mode) / (high - low)
        return low + rng.beta(alpha, beta, size) * (high - low)
    if isinstance(distribution, Lognormal90):
        mu, sigma = _lognormal_parameters(distribution)
        return rng.lognormal(mu, sigma, size)
    assert isinstance(distribution, Uniform)
    return rng.uniform(distribution.low, distribution.high, size)


def _lognormal_parameters(distribution: Lognormal90) -> tuple[float, float]:
    log_low, log_high = np.log(distribution.low), np.log(distribution.high)
    return float((log_low + log_high) / 2), float((log_high - log_low) / (2 * _Z95))


def describe(distribution: Distribution, unit: str) -> str:
    def money(value: float) -> str:
        prefix = {"usd": "$", "eur": "€", "usd_per_subject": "$"}.get(unit, "")
        return f"{prefix}{value:,.10g}"

    if isinstance(distribution, Constant):
        return money(distribution.value)
    if isinstance(distribution, Pert):
        return f"PERT({money(distribution.low)}, {money(distribution.mode)}, {money(distribution.high)})"
    if isinstance(distribution, Lognormal90):
        return f"lognormal, 90% in {money(distribution.low)} to {money(distribution.high)}"
    return f"uniform({money(distribution.low)}, {money(distribution.high)})"
