"""Random draws: one seeded stream per replication and per named source of randomness.

Each source (an event, a route's interdiction) draws from its own stream, derived from the
replication's seed and the source's name. Adding an event to a scenario therefore leaves every
other source's draws unchanged, so paired scenarios share common random numbers and their
differences are the scenarios', not the noise's.
"""

from __future__ import annotations

import zlib
from datetime import date, timedelta
from typing import Any

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


class Stream:
    """A named source's generator (``stream``), made on first use: making one costs tens of
    microseconds, and most sources (a fixed-date closure, a route nobody interdicts) never
    draw. A draw whose outcome is certain (``chance`` of 0 or 1) is skipped rather than made,
    and counted, so that the draws after it are the ones the generator would have given.

    Other methods (``uniform``, ``integers``...) are the generator's.
    """

    __slots__ = ("_generator", "_name", "_root", "_skipped")

    def __init__(self, root: np.random.SeedSequence, name: str) -> None:
        self._root = root
        self._name = name
        self._generator: np.random.Generator | None = None
        self._skipped = 0

    @property
    def generator(self) -> np.random.Generator:
        """The stream's generator, made on first use (the draws skipped until then replayed)."""
        if self._generator is None:
            generator = stream(self._root, self._name)
            if self._skipped:
                generator.random(self._skipped)  # the draws skipped, in order
            self._generator = generator
        return self._generator

    def random(self, size: int | None = None) -> Any:
        """Uniform draws in [0, 1) from the stream."""
        return self.generator.random(size)

    def chance(self, probability: float) -> bool:
        """``random() < probability``: one draw, skipped when the answer is certain."""
        if self._generator is None and (probability >= 1 or probability <= 0):
            self._skipped += 1
            return probability >= 1
        return bool(self.generator.random() < probability)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.generator, name)


Rng = np.random.Generator | Stream
"""What draws take: a generator, or a stream that makes one when first drawn from."""


def _generator(rng: Rng) -> np.random.Generator:
    return rng.generator if isinstance(rng, Stream) else rng


def draw_days(spec: float | NumberDistribution, rng: Rng) -> float:
    """A number of days: fixed, or drawn from the given distribution (the scenario's domain rule
    has checked that it gives numbers of days, 0 or more)."""
    if isinstance(spec, int | float):
        return float(spec)
    rng = _generator(rng)
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


def draw_date(spec: date | DateRange, rng: Rng) -> date:
    """A date: fixed, or uniform to the day between two dates (both included)."""
    if isinstance(spec, date):
        return spec
    rng = _generator(rng)
    span = (spec.high - spec.low).days
    return spec.low + timedelta(days=int(rng.integers(0, span + 1)))
