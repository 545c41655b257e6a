"""Random draws: one seeded stream per replication and per named source of randomness.

Each source (an event, a route's interdiction) draws from its own stream, derived from the
replication's seed and the source's name. Adding an event to a scenario therefore leaves every
other source's draws unchanged, so paired scenarios share common random numbers and their
differences are the scenarios', not the noise's.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta

import numpy as np

from sim.scenario.distributions import (
    DateRange,
    LogUniform,
    NumberDistribution,
    Triangular,
    TruncNormal,
    Uniform,
)


def replication_seed(seed: int, replication: int) -> np.random.SeedSequence:
    """The seed sequence of one replication: ``SeedSequence(seed).spawn(n)[replication]``."""
    return np.random.SeedSequence(seed, spawn_key=(replication,))


def stream(root: np.random.SeedSequence, name: str) -> np.random.Generator:
    """A generator for one named source within a replication (stable across runs and Pythons)."""
    key = zlib.crc32(name.encode("utf-8"))
    return np.random.default_rng(
        np.random.SeedSequence(root.entropy, spawn_key=(*root.spawn_key, key))
    )


def draw_days(spec: float | NumberDistribution, rng: np.random.Generator) -> float:
    """A number of days: fixed, or drawn from the given distribution (the scenario's domain rule
    has checked that it gives numbers of days, 0 or more)."""
    if isinstance(spec, int | float):
        return float(spec)
    if isinstance(spec, Uniform):
        return float(rng.uniform(spec.low, spec.high))
    if isinstance(spec, LogUniform):
        return float(np.exp(rng.uniform(np.log(spec.low), np.log(spec.high))))
    if isinstance(spec, Triangular | TruncNormal) and spec.low == spec.high:
        return float(spec.low)  # a point: numpy and scipy refuse an empty width
    if isinstance(spec, Triangular):
        return float(rng.triangular(spec.low, spec.mode, spec.high))
    if isinstance(spec, TruncNormal):
        from scipy import stats  # imported here: scipy.stats costs ~65 MB in every worker

        a, b = (spec.low - spec.mean) / spec.sd, (spec.high - spec.mean) / spec.sd
        return float(stats.truncnorm.rvs(a, b, loc=spec.mean, scale=spec.sd, random_state=rng))
    weights = None
    if spec.weights is not None:
        w = np.asarray(spec.weights, dtype=float)
        with np.errstate(over="ignore"):
            if not np.isfinite(w.sum()):
                w = w / w.max()  # weights are relative: huge ones must not overflow the sum
        weights = w / w.sum()
    return float(rng.choice(np.asarray(spec.values, dtype=float), p=weights))


def draw_date(spec: date | DateRange, rng: np.random.Generator) -> date:
    """A date: fixed, or uniform to the day between two dates (both included)."""
    if isinstance(spec, date):
        return spec
    span = (spec.high - spec.low).days
    return spec.low + timedelta(days=int(rng.integers(0, span + 1)))
