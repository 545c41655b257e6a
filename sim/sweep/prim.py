"""Scenario discovery by patient rule induction (PRIM-like peeling), kept small and readable.

Given each run's parameter values X and whether it reached an outcome of interest y, find a box
(a range per parameter) where the outcome is common. Starting from the whole design, repeatedly
peel a slice of ``alpha`` of the remaining runs off one side of one parameter (or one category
off a categorical parameter), choosing the peel that raises the share of outcome runs in the box
the most per run removed, until no peel helps or the box would hold under ``min_mass`` of the
runs.

coverage  the share of all outcome runs that fall in the box (how much of the story it tells)
density   the share of runs in the box that reach the outcome (how reliable the rule is)
mass      the share of all runs in the box

The reported box is the densest on the peeling trajectory whose coverage is at least
``min_coverage``, then simplified: a restriction is dropped while dropping it costs at most
``TOLERANCE`` of density, so the rule names only the parameters that matter. The whole trajectory
is kept for the reader to pick another trade-off.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

ALPHA = 0.1
MIN_MASS = 0.05
MIN_COVERAGE = 0.5
TOLERANCE = 0.02


@dataclass(frozen=True)
class Feature:
    """One parameter as a column of numbers: ordered (numbers, dates) or categorical codes."""

    name: str
    values: np.ndarray
    categorical: bool = False
    labels: tuple[str, ...] = ()
    """Category labels (by code) or, for dates, empty: ``fmt`` formats a bound."""
    is_date: bool = False

    def fmt(self, value: float) -> str:
        """A bound as shown: a date, a rounded number or a category's label."""
        if self.is_date:
            from datetime import date

            return date.fromordinal(round(value)).isoformat()
        if abs(value) >= 1000:
            return f"{value:,.0f}"
        return f"{value:.4g}"


@dataclass(frozen=True)
class Box:
    """A box: bounds on ordered features, allowed codes on categorical ones."""

    bounds: dict[str, tuple[float, float]]
    allowed: dict[str, frozenset[int]]
    coverage: float
    density: float
    mass: float

    def rules(self, features: list[Feature]) -> list[str]:
        """The restrictions, readable: ``a >= 3``, ``2 <= b <= 5``, ``c in {x, y}``."""
        out = []
        for f in features:
            if f.categorical:
                allowed = self.allowed.get(f.name)
                if allowed is not None and len(allowed) < len(set(f.values.astype(int))):
                    names = ", ".join(f.labels[i] for i in sorted(allowed))
                    out.append(f"{f.name} in {{{names}}}")
                continue
            low, high = self.bounds[f.name]
            lo_cut, hi_cut = low > f.values.min(), high < f.values.max()
            if lo_cut and hi_cut:
                out.append(f"{f.fmt(low)} <= {f.name} <= {f.fmt(high)}")
            elif lo_cut:
                out.append(f"{f.name} >= {f.fmt(low)}")
            elif hi_cut:
                out.append(f"{f.name} <= {f.fmt(high)}")
        return out


def peel(
    features: list[Feature],
    y: np.ndarray,
    alpha: float = ALPHA,
    min_mass: float = MIN_MASS,
) -> list[Box]:
    """The peeling trajectory, from the whole design to the last box worth keeping."""
    y = np.asarray(y, dtype=bool)
    inside = np.ones(len(y), dtype=bool)
    bounds = {
        f.name: (float(f.values.min()), float(f.values.max()))
        for f in features
        if not f.categorical
    }
    allowed = {
        f.name: frozenset(int(v) for v in np.unique(f.values)) for f in features if f.categorical
    }
    trajectory = [_box(bounds, allowed, inside, y)]
    while True:
        best = _best_peel(features, y, inside, bounds, allowed, alpha, min_mass)
        if best is None:
            return trajectory
        inside, bounds, allowed = best
        trajectory.append(_box(bounds, allowed, inside, y))


def choose(trajectory: list[Box], min_coverage: float = MIN_COVERAGE) -> Box:
    """The densest box that still covers ``min_coverage`` of the outcome runs."""
    eligible = [b for b in trajectory if b.coverage >= min_coverage] or trajectory[:1]
    return max(eligible, key=lambda b: (round(b.density, 12), b.coverage))


def _box(
    bounds: dict[str, tuple[float, float]],
    allowed: dict[str, frozenset[int]],
    inside: np.ndarray,
    y: np.ndarray,
) -> Box:
    hits = y.sum()
    n_in = inside.sum()
    return Box(
        bounds=dict(bounds),
        allowed=dict(allowed),
        coverage=float(y[inside].sum() / hits) if hits else 0.0,
        density=float(y[inside].mean()) if n_in else 0.0,
        mass=float(n_in / len(y)) if len(y) else 0.0,
    )


Candidate = tuple[np.ndarray, dict[str, tuple[float, float]], dict[str, frozenset[int]]]


def _best_peel(
    features: list[Feature],
    y: np.ndarray,
    inside: np.ndarray,
    bounds: dict[str, tuple[float, float]],
    allowed: dict[str, frozenset[int]],
    alpha: float,
    min_mass: float,
) -> Candidate | None:
    """The peel with the largest gain in density per run removed (Friedman and Fisher's
    objective: a discrete parameter cannot win by throwing half the box away at once)."""
    current, count = y[inside].mean(), inside.sum()
    best: Candidate | None = None
    best_gain = 0.0
    for candidate in _candidates(features, inside, bounds, allowed, alpha):
        kept = candidate[0]
        n = kept.sum()
        if n < max(1, min_mass * len(y)) or n == count:
            continue
        gain = (y[kept].mean() - current) / (count - n)
        if gain > best_gain + 1e-15:
            best, best_gain = candidate, gain
    return best


def _candidates(
    features: list[Feature],
    inside: np.ndarray,
    bounds: dict[str, tuple[float, float]],
    allowed: dict[str, frozenset[int]],
    alpha: float,
) -> list[Candidate]:
    out: list[Candidate] = []
    for f in features:
        x = f.values
        if f.categorical:
            for code in sorted(allowed[f.name]):
                kept = inside & (x != code)
                if kept.sum() < inside.sum():
                    out.append((kept, bounds, {**allowed, f.name: allowed[f.name] - {code}}))
            continue
        box_x = x[inside]
        low, high = bounds[f.name]
        new_low = _cut(box_x, alpha, lower=True)
        if new_low is not None:
            out.append((inside & (x >= new_low), {**bounds, f.name: (new_low, high)}, allowed))
        new_high = _cut(box_x, alpha, lower=False)
        if new_high is not None:
            out.append((inside & (x <= new_high), {**bounds, f.name: (low, new_high)}, allowed))
    return out


def _cut(x: np.ndarray, alpha: float, lower: bool) -> float | None:
    """The new bound that peels about ``alpha`` of x off one side (at least one distinct value)."""
    distinct = np.unique(x)
    if len(distinct) < 2:
        return None
    if lower:
        q = float(np.quantile(x, alpha))
        above = distinct[distinct > distinct[0]]
        return float(max(q, above[0])) if q <= distinct[0] else q
    q = float(np.quantile(x, 1 - alpha))
    below = distinct[distinct < distinct[-1]]
    return float(min(q, below[-1])) if q >= distinct[-1] else q


def members(features: list[Feature], box: Box) -> np.ndarray:
    """Which runs a box holds."""
    inside = np.ones(len(features[0].values), dtype=bool) if features else np.ones(0, bool)
    for f in features:
        if f.categorical:
            codes = box.allowed.get(f.name)
            if codes is not None:
                inside &= np.isin(f.values.astype(int), sorted(codes))
        else:
            low, high = box.bounds[f.name]
            inside &= (f.values >= low) & (f.values <= high)
    return inside


def simplify(features: list[Feature], y: np.ndarray, box: Box, tolerance: float = TOLERANCE) -> Box:
    """Drop restrictions, one at a time, while the box keeps its density to ``tolerance``."""
    y = np.asarray(y, dtype=bool)
    floor = box.density - tolerance  # against the chosen box, so drops cannot add up
    while True:
        best: Box | None = None
        for f in features:
            wider = _without(box, f)
            if wider is None:
                continue
            scored = _box(wider.bounds, wider.allowed, members(features, wider), y)
            if scored.density >= floor and (best is None or scored.density > best.density):
                best = scored
        if best is None:
            return box
        box = best


def _without(box: Box, f: Feature) -> Box | None:
    """The box with one parameter's restriction lifted (None when it has none)."""
    if f.categorical:
        full = frozenset(int(v) for v in np.unique(f.values))
        if box.allowed.get(f.name, full) == full:
            return None
        return Box(box.bounds, {**box.allowed, f.name: full}, 0.0, 0.0, 0.0)
    full_range = (float(f.values.min()), float(f.values.max()))
    if box.bounds[f.name] == full_range:
        return None
    return Box({**box.bounds, f.name: full_range}, box.allowed, 0.0, 0.0, 0.0)


# --- for people ----------------------------------------------------------------------------


NICE = (1.0, 2.0, 5.0)
STEPS_PER_RANGE = 40
"""A bound is rounded to a nice step (1, 2 or 5 times a power of ten) of about 1/40 of its
parameter's range."""


def nice_step(span: float) -> float:
    """A round step (1, 2 or 5 times a power of ten) of about ``span`` / 40."""
    if span <= 0 or not math.isfinite(span):
        return 0.0
    target = span / STEPS_PER_RANGE
    power = 10.0 ** math.floor(math.log10(target))
    return max(n * power for n in NICE if n * power <= target * 1.0000001)


DISCRETE = 10
"""A parameter with at most this many distinct values keeps its bounds exact (its values)."""


def rounded(features: list[Feature], y: np.ndarray, box: Box) -> Box:
    """The box with each bound rounded outwards to a nice step of its parameter's range (whole
    days for dates; a parameter of few distinct values keeps its own), so that it keeps every
    run it held; its coverage, density and mass are recomputed for the rounded bounds."""
    bounds = {}
    for f in features:
        if f.categorical:
            continue
        low, high = box.bounds[f.name]
        full_low, full_high = float(f.values.min()), float(f.values.max())
        step = nice_step(full_high - full_low)
        if f.is_date:
            step = max(1.0, step)
        if len(np.unique(f.values)) <= DISCRETE:
            step = 0.0
        bounds[f.name] = (
            full_low if low <= full_low else _round(low, step, math.floor),
            full_high if high >= full_high else _round(high, step, math.ceil),
        )
    shaped = Box(bounds, box.allowed, 0.0, 0.0, 0.0)
    return _box(bounds, box.allowed, members(features, shaped), np.asarray(y, dtype=bool))


def _round(value: float, step: float, direction: Any) -> float:
    """``value`` moved outwards (``math.floor`` or ``math.ceil``) to a multiple of ``step``."""
    if step <= 0:
        return value
    return round(float(direction(round(value / step, 9))) * step, 10)


def describe(box: Box, features: list[Feature], labels: dict[str, str]) -> list[str]:
    """The box's restrictions in words, with each parameter's human name: ``china ultimatum:
    share refused is at least 0.6``, ``... is between 30 and 95``, ``... is one of 365, 730``."""
    out = []
    for f in features:
        name = labels.get(f.name, f.name)
        if f.categorical:
            allowed = box.allowed.get(f.name)
            if allowed is not None and len(allowed) < len(set(f.values.astype(int))):
                out.append(f"{name} is one of {', '.join(f.labels[i] for i in sorted(allowed))}")
            continue
        low, high = box.bounds[f.name]
        lo_cut, hi_cut = low > f.values.min(), high < f.values.max()
        after, before = ("on or after", "on or before") if f.is_date else ("at least", "at most")
        if lo_cut and hi_cut and f.fmt(low) == f.fmt(high):
            out.append(f"{name} is {f.fmt(low)}")
        elif lo_cut and hi_cut:
            out.append(f"{name} is between {f.fmt(low)} and {f.fmt(high)}")
        elif lo_cut:
            out.append(f"{name} is {after} {f.fmt(low)}")
        elif hi_cut:
            out.append(f"{name} is {before} {f.fmt(high)}")
    return out
