"""The design of a sweep: which parameter values each sample gets.

grid             every combination of the listed values (the first parameter varies slowest)
latin_hypercube  n samples; each parameter's range is cut into n equally likely strata and
                 every stratum is hit exactly once (scipy.stats.qmc.LatinHypercube)
random           n independent draws
sobol, morris    SALib's designs for their sensitivity methods (``sim.sweep.designs``)

With ``tornado: true`` the one-at-a-time swing samples follow the design's.

Latin hypercube and random designs draw points u in the unit cube, then map each coordinate
through the inverse CDF of its parameter's distribution, so the strata are equally likely under
the distribution, not equally wide. The generator is seeded from the sweep's master seed alone
(with its own key, so it never shares a stream with any replication): the same spec gives the
same design on every machine.
"""

from __future__ import annotations

import itertools
import math
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any

import numpy as np
from scipy import stats
from scipy.stats import qmc

from sim.scenario import distributions as d

if TYPE_CHECKING:
    from sim.sweep.spec import Parameter, SweepSpec

SAMPLING_KEY = 0x53574545
"""Mixed into the master seed for the design's generator ("SWEE")."""


def design_rng(seed: int) -> np.random.Generator:
    """The design's generator: independent of every replication stream of the same seed."""
    return np.random.default_rng(np.random.SeedSequence([seed, SAMPLING_KEY]))


def draw_design(spec: SweepSpec) -> list[dict[str, Any]]:
    """Each sample's parameter values, by dotted path, in the spec's parameter order: the
    design (``spec.design_size`` samples), then the tornado swings (``spec.swing_count``)."""
    names = list(spec.parameters)
    if spec.method == "grid":
        levels = [_levels(spec.parameters[name]) for name in names]
        design = [dict(zip(names, combo, strict=True)) for combo in itertools.product(*levels)]
    else:
        design = _rows(spec, names, unit_design(spec))
    return design + swing_design(spec)


def _rows(spec: SweepSpec, names: list[str], unit: np.ndarray) -> list[dict[str, Any]]:
    columns = [transform(spec.parameters[name], unit[:, j]) for j, name in enumerate(names)]
    return [dict(zip(names, row, strict=True)) for row in zip(*columns, strict=True)]


def unit_design(spec: SweepSpec) -> np.ndarray:
    """The design's points in the unit cube (not for grids): what SALib's analyses read."""
    from sim.sweep import designs

    assert spec.samples is not None
    names = list(spec.parameters)
    rng = design_rng(spec.seed)
    if spec.method == "sobol":
        return designs.saltelli(spec.samples, names, int(rng.integers(2**31)))
    if spec.method == "morris":
        return designs.morris(spec.samples, names, spec.levels, int(rng.integers(2**31)))
    return unit_points(spec.method, spec.samples, len(names), rng)


def swing_design(spec: SweepSpec) -> list[dict[str, Any]]:
    """The tornado's one-at-a-time swing samples (none unless ``tornado: true``)."""
    from sim.sweep import designs

    if not spec.tornado:
        return []
    out = []
    for point in designs.swings(dict(spec.parameters)):
        row = {}
        for name, u in point.items():
            parameter = spec.parameters[name]
            if isinstance(u, int):  # a level of a parameter that is neither number nor date
                row[name] = _level(parameter, u)
            else:
                row[name] = transform(parameter, np.array([float(u)]))[0]
        out.append(row)
    return out


def _level(parameter: Any, k: int) -> Any:
    values = parameter if isinstance(parameter, list) else parameter.values
    return _plain(values[k])


def unit_points(method: str, n: int, d: int, rng: np.random.Generator) -> np.ndarray:
    """The design's ``n`` points in [0, 1)^d: a Latin hypercube or independent uniforms."""
    if method == "latin_hypercube":
        return np.asarray(qmc.LatinHypercube(d=d, rng=rng).random(n))
    return rng.random((n, d))


def _levels(parameter: Parameter) -> list[Any]:
    assert isinstance(parameter, list)
    return [_plain(v) for v in parameter]


def transform(parameter: Parameter, u: np.ndarray) -> list[Any]:
    """Values of one parameter at unit-interval points u (the inverse CDF of its distribution)."""
    if isinstance(parameter, list):
        return [_plain(parameter[i]) for i in _indices(u, len(parameter), None)]
    if isinstance(parameter, d.Uniform):
        return _floats(parameter.low + u * (parameter.high - parameter.low), parameter)
    if isinstance(parameter, d.LogUniform):
        low, high = math.log(parameter.low), math.log(parameter.high)
        return _floats(np.exp(low + u * (high - low)), parameter)
    if isinstance(parameter, d.Triangular):
        width = parameter.high - parameter.low
        c = (parameter.mode - parameter.low) / width
        return _floats(stats.triang.ppf(u, c, loc=parameter.low, scale=width), parameter)
    if isinstance(parameter, d.TruncNormal):
        a = (parameter.low - parameter.mean) / parameter.sd
        b = (parameter.high - parameter.mean) / parameter.sd
        values = stats.truncnorm.ppf(u, a, b, loc=parameter.mean, scale=parameter.sd)
        return _floats(values, parameter)
    if isinstance(parameter, d.Choice):
        chosen = _indices(u, len(parameter.values), parameter.weights)
        return [_plain(parameter.values[i]) for i in chosen]
    assert isinstance(parameter, d.DateRange)
    return _dates(u, parameter.low, parameter.high)


def _floats(values: np.ndarray, parameter: Any) -> list[float]:
    """Plain floats, clipped to the bounds (the inverse CDF may overshoot by rounding)."""
    clipped = np.clip(np.asarray(values, dtype=float), parameter.low, parameter.high)
    return [float(v) for v in clipped]


def _indices(u: np.ndarray, k: int, weights: list[float] | None) -> list[int]:
    """Index of the value whose share of [0, 1) holds each u (equal shares without weights)."""
    w = np.ones(k) if weights is None else np.asarray(weights, dtype=float)
    with np.errstate(over="ignore"):
        overflows = not np.isfinite(w.sum())
    if overflows:
        w = w / w.max()  # weights are relative: huge ones must not overflow the sum
    edges = np.cumsum(w) / w.sum()
    chosen = np.searchsorted(edges, u, side="right")
    return [int(i) for i in np.minimum(chosen, k - 1)]


def _dates(u: np.ndarray, low: date, high: date) -> list[str]:
    span = (high - low).days + 1
    offsets = np.minimum(np.floor(u * span).astype(int), span - 1)
    return [(low + timedelta(days=int(k))).isoformat() for k in offsets]


def _plain(value: Any) -> Any:
    """A JSON-able value: dates as ISO strings, numpy scalars as Python ones, nested too."""
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value
