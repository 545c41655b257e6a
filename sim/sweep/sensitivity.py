"""Sensitivity of a sweep's KPIs to its parameters, by the method its design was drawn for.

Every index is computed on each sample's mean over its replications (the replications share
their random streams across samples, so their noise does not pose as a parameter's effect).

sobol            Saltelli's design: Sobol' first-order (S1) and total (ST) indices with
                 bootstrap 95% intervals (``SALib.analyze.sobol``, no second order). S1: the
                 share of the KPI's variance a parameter explains alone; ST: with all its
                 interactions. Their sums check each other: S1 adds up to at most 1, and each
                 ST is at least its S1.
morris           Morris trajectories: mu* (the mean absolute elementary effect, in the KPI's
                 units per swing of the parameter across its range), its 95% interval, and
                 sigma (interactions or non-linearity). A screening method: it ranks.
latin_hypercube, random
                 no design for Sobol' indices: S1 estimated from the given sample
                 (``SALib.analyze.delta``, method "sobol", binned), biased upwards at small
                 sample sizes; the analysis warns when they add up to more than 1. Below
                 ``S1_MIN_SAMPLES`` samples: |Spearman rho|.
grid             the correlation ratio eta^2 (the exact main effect of a full factorial).

Categorical parameters (texts) always get eta^2 over their levels. Spearman's rho is reported
for every ordered parameter, for the direction of the effect. ``warnings`` says when a sample
is too small for its method or the indices contradict each other.

Tornado charts come from one-at-a-time swings (``tornado: true``): the KPI with every
parameter at its median, and with one parameter at a time at its 10th and 90th percentile
(``swings``); bars are ordered by the swing, the distance between the two.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import logging
import math
import warnings as python_warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.sweep import prim
from sim.sweep.designs import problem, quiet_salib
from sim.sweep.spec import swing_values

log = logging.getLogger(__name__)

S1_MIN_SAMPLES = 20
"""Below this many samples a given-data variance index is too unstable: |rho| instead."""
SOBOL_MIN_N = 64
"""Saltelli base samples below which the intervals are too wide to rank on (a warning)."""
MORRIS_MIN_R = 10
"""Morris trajectories below which screening is rough (a warning)."""
CONF_WIDE = 0.1
"""A 95% interval wider than +/- this (in index units) is called wide."""
SUM_TOLERANCE = 0.1
"""First-order indices may add up to 1 + this before they are called inconsistent."""
RESAMPLES = 200

METHOD_TEXT = {
    "sobol": "Sobol' indices from Saltelli's design (SALib): S1, the share of the KPI's "
    "variance a parameter explains alone, and ST, with all its interactions; ± is the "
    "bootstrap 95% interval",
    "morris": "Morris screening (SALib): mu*, the mean absolute effect of moving a parameter "
    "across its range, in the KPI's units, ± its 95% interval; sigma, how much that effect "
    "varies (interactions, non-linearity). It ranks; it does not split variance",
    "given_s1": "first-order index S1 estimated from the given sample (SALib's binned "
    "estimator); ± is its bootstrap 95% interval. For S1 and ST with dependable intervals, "
    "use method: sobol",
    "eta2": "the correlation ratio eta^2: the share of the KPI's variance between the "
    "parameter's levels",
    "spearman": "|Spearman rho| (too few samples for a variance-based index)",
}


@dataclass
class Finding:
    """One KPI's sensitivity: a row per parameter, ranked, and what to beware of."""

    kpi: str
    method: str
    rows: list[dict[str, Any]]
    warnings: list[str] = field(default_factory=list)


def method_for(design: str, samples: int) -> str:
    """The index the design allows (see the module doc); |rho| when SALib (the
    ``sensitivity`` extra) is not installed."""
    if design == "grid":
        return "eta2"
    if not has_salib():
        log.warning(
            "SALib is not installed (pip install 'rare-earth-sim[sensitivity]'): sensitivity "
            "is shown as |Spearman rho|"
        )
        return "spearman"
    if design in {"sobol", "morris"}:
        return design
    return "given_s1" if samples >= S1_MIN_SAMPLES else "spearman"


def has_salib() -> bool:
    """Whether SALib (the ``sensitivity`` extra) can be imported."""
    return importlib.util.find_spec("SALib") is not None


# --- the estimators ----------------------------------------------------------------------------


def sobol_indices(
    y: np.ndarray, names: list[str], seed: int
) -> dict[str, tuple[float, float, float, float]]:
    """Name -> (S1, S1 interval, ST, ST interval) from Saltelli's design, in its order."""
    from SALib.analyze import sobol

    with quiet_salib(), contextlib.redirect_stdout(io.StringIO()):
        found = sobol.analyze(
            problem(names),
            np.asarray(y, dtype=float),
            calc_second_order=False,
            num_resamples=RESAMPLES,
            seed=seed,
        )
    return {
        name: (
            float(found["S1"][k]),
            float(found["S1_conf"][k]),
            float(found["ST"][k]),
            float(found["ST_conf"][k]),
        )
        for k, name in enumerate(names)
    }


def morris_effects(
    unit: np.ndarray, y: np.ndarray, names: list[str], levels: int, seed: int
) -> dict[str, tuple[float, float, float, float]]:
    """Name -> (mu*, its interval, sigma, mu) from Morris trajectories (unit-cube points)."""
    from SALib.analyze import morris

    with quiet_salib(), contextlib.redirect_stdout(io.StringIO()):
        found = morris.analyze(
            problem(names),
            np.asarray(unit, dtype=float),
            np.asarray(y, dtype=float),
            num_resamples=RESAMPLES,
            num_levels=levels,
            seed=seed,
        )
    return {
        name: (
            float(found["mu_star"][k]),
            float(found["mu_star_conf"][k]),
            float(found["sigma"][k]),
            float(found["mu"][k]),
        )
        for k, name in enumerate(names)
    }


def given_data_s1(
    columns: list[np.ndarray], y: np.ndarray, names: list[str], seed: int
) -> dict[str, tuple[float, float]]:
    """Name -> (S1, interval) estimated from any sample (SALib's delta module, "sobol"); empty
    when SALib cannot bin the sample. Notices (bin merges) are not printed."""
    from SALib.analyze import delta

    matrix = np.column_stack(columns)
    bounds = [[float(c.min()), float(c.max())] for c in columns]
    state = np.random.get_state()
    try:
        with python_warnings.catch_warnings(record=True), contextlib.redirect_stdout(io.StringIO()):
            found = delta.analyze(
                {"num_vars": len(names), "names": names, "bounds": bounds},
                matrix,
                np.asarray(y, dtype=float),
                num_resamples=100,
                seed=seed % 2**32 or 1,
                method="sobol",
                print_to_console=False,
            )
    except Exception:  # too little spread for SALib's bins
        return {}
    finally:
        np.random.set_state(state)
    return {
        name: (float(found["S1"][k]), float(found["S1_conf"][k])) for k, name in enumerate(names)
    }


def bins(column: np.ndarray, categorical: bool) -> np.ndarray:
    """Levels for discrete parameters, fifths (by rank) for continuous ones."""
    distinct = np.unique(column)
    if categorical or len(distinct) <= 10:
        return np.searchsorted(distinct, column)
    ranks = stats.rankdata(column, method="ordinal") - 1
    return np.asarray(np.floor(ranks * 5 / len(column)).astype(int))


def eta2(column: np.ndarray, y: np.ndarray, categorical: bool) -> float:
    """Correlation ratio: the share of y's variance between the parameter's bins."""
    groups = bins(column, categorical)
    total = ((y - y.mean()) ** 2).sum()
    if total == 0:
        return math.nan
    between = sum(
        (groups == b).sum() * (y[groups == b].mean() - y.mean()) ** 2 for b in np.unique(groups)
    )
    return float(between / total)


def spearman(column: np.ndarray, y: np.ndarray) -> float:
    """Spearman's rank correlation of a parameter with a KPI (NaN when either is constant)."""
    if np.ptp(column) == 0 or np.ptp(y) == 0:
        return math.nan
    return float(stats.spearmanr(column, y).statistic)


# --- one KPI -----------------------------------------------------------------------------------


def analyse(
    kpi: str,
    method: str,
    y: pd.Series,
    feats: list[prim.Feature],
    unit: np.ndarray | None,
    planned: int,
    seed: int,
    levels: int = 4,
) -> Finding:
    """A KPI's sensitivity. ``y`` is indexed by design sample (means over replications);
    ``unit`` holds the design's unit-cube points (Sobol' and Morris need them, in order);
    ``planned`` is the number of design samples (Sobol' and Morris need every one)."""
    index = y.index.to_numpy(dtype=int)
    values = y.to_numpy(dtype=float)
    names = [f.name for f in feats]
    found = Finding(kpi, method, [])
    if method in {"sobol", "morris"} and len(y) < planned:
        found.warnings.append(
            f"{planned - len(y)} of {planned} design samples have no result (failed runs): "
            f"{method} needs every one, so |Spearman rho| is shown instead"
        )
        method = found.method = "spearman"
    rows = [_base_row(kpi, f, f.values[index], values) for f in feats]
    by_name = dict(zip(names, rows, strict=True))
    if method == "sobol":
        n = planned // (len(names) + 2)
        for name, (s1, s1c, st, stc) in sobol_indices(values, names, seed).items():
            by_name[name].update(index=s1, conf=s1c, total=st, total_conf=stc, method="S1")
        found.warnings += sobol_warnings(by_name, n)
    elif method == "morris":
        assert unit is not None
        r = planned // (len(names) + 1)
        for name, (mu_star, conf, sigma, mu) in morris_effects(
            unit, values, names, levels, seed
        ).items():
            by_name[name].update(index=mu_star, conf=conf, sigma=sigma, mu=mu, method="mu*")
        if r < MORRIS_MIN_R:
            found.warnings.append(
                f"{r} Morris trajectories (fewer than {MORRIS_MIN_R}): the ranking is rough"
            )
    else:
        _other(method, feats, index, values, seed, by_name, found)
    rows.sort(key=lambda r: -_sort_key(r["index"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    found.rows = rows
    return found


def _base_row(kpi: str, f: prim.Feature, column: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    return {
        "kpi": kpi,
        "parameter": f.name,
        "method": "",
        "index": math.nan,
        "conf": math.nan,
        "total": math.nan,
        "total_conf": math.nan,
        "sigma": math.nan,
        "mu": math.nan,
        "spearman": math.nan if f.categorical else spearman(column, y),
    }


def _other(
    method: str,
    feats: list[prim.Feature],
    index: np.ndarray,
    values: np.ndarray,
    seed: int,
    by_name: dict[str, dict[str, Any]],
    found: Finding,
) -> None:
    """Given-data S1, eta^2 or |rho|; categorical parameters get eta^2 whatever the method."""
    ordered = [f for f in feats if not f.categorical and np.ptp(f.values[index]) > 0]
    s1: dict[str, tuple[float, float]] = {}
    if method == "given_s1" and ordered:
        columns = [f.values[index] for f in ordered]
        s1 = given_data_s1(columns, values, [f.name for f in ordered], seed)
    for f in feats:
        row = by_name[f.name]
        if f.name in s1:
            row.update(index=s1[f.name][0], conf=s1[f.name][1], method="S1 (given data)")
        elif method == "spearman" and not f.categorical:
            row.update(index=abs(row["spearman"]), method="|rho|")
        else:
            row.update(index=eta2(f.values[index], values, f.categorical), method="eta^2")
    if method == "given_s1":
        total = sum(r["index"] for r in by_name.values() if r["method"] == "S1 (given data)")
        if total > 1 + SUM_TOLERANCE:
            found.warnings.append(
                f"first-order indices add up to {total:.2f}, more than 1: estimated from "
                f"{len(values)} given samples they are biased upwards; read them as a ranking, "
                "or use method: sobol (Saltelli's design) for S1 and ST with intervals"
            )


def sobol_warnings(rows: dict[str, dict[str, Any]], n: int) -> list[str]:
    """What makes Sobol' indices untrustworthy: a small base sample, wide intervals, first-order
    indices adding up to more than 1, a total index below its first-order one."""
    out = []
    if n < SOBOL_MIN_N:
        out.append(
            f"Saltelli's base sample N = {n} is small (fewer than {SOBOL_MIN_N}): the intervals "
            "are wide; use samples: 64 or more (a power of 2)"
        )
    wide = [p for p, r in rows.items() if max(r["conf"], r["total_conf"]) > CONF_WIDE]
    if wide:
        out.append(
            f"95% intervals wider than ±{CONF_WIDE} for {len(wide)} of {len(rows)} parameters: "
            "indices that differ by less than their intervals are not told apart"
        )
    total = sum(r["index"] for r in rows.values())
    if total > 1 + SUM_TOLERANCE:
        out.append(
            f"first-order indices add up to {total:.2f}, more than 1: not consistent; the "
            "sample is too small for this KPI"
        )
    below = [p for p, r in rows.items() if r["total"] + r["total_conf"] < r["index"] - r["conf"]]
    if below:
        out.append(
            "total index below the first-order one (beyond their intervals) for "
            + ", ".join(below)
            + ": not consistent; the sample is too small for this KPI"
        )
    return out


def _sort_key(value: Any) -> float:
    """NaN (no index) ranks last."""
    return -1.0 if value is None or math.isnan(float(value)) else float(value)


# --- one-at-a-time swings ----------------------------------------------------------------------


@dataclass(frozen=True)
class Swing:
    """One parameter's swing: the KPI at its low and high end (every other at its median)."""

    parameter: str
    low_value: Any
    high_value: Any
    kpi_low: float
    kpi_high: float

    @property
    def swing(self) -> float:
        """How far the KPI moves between the parameter's low and high swing."""
        return abs(self.kpi_high - self.kpi_low)


def swings(
    parameters: dict[str, Any], y: dict[int, float], first: int, values: dict[int, dict[str, Any]]
) -> tuple[float, list[Swing]]:
    """The centre's KPI and each parameter's swing, largest first.

    The swing samples come in the order ``sim.sweep.designs.swings`` makes them: the centre
    (sample ``first``), then each parameter's in the spec's order (low, high; or one per
    level). ``y`` is the KPI by sample id (mean over replications), ``values`` the samples'
    parameter values by sample id. A parameter swung to each of several levels reports the
    levels with its lowest and highest KPI.
    """
    centre = y.get(first, math.nan)
    out = []
    k = first + 1
    for name, parameter in parameters.items():
        points = swing_values(parameter)
        ids = list(range(k, k + len(points)))
        k += len(points)
        known = [(y[i], values[i][name]) for i in ids if i in y]
        if len(known) < 2:
            continue
        if points[0] is not None:  # the 10th, then the 90th percentile
            (k_low, v_low), (k_high, v_high) = known[0], known[-1]
        else:
            (k_low, v_low), (k_high, v_high) = min(known, key=_first), max(known, key=_first)
        out.append(Swing(name, v_low, v_high, float(k_low), float(k_high)))
    out.sort(key=lambda s: -s.swing)
    return centre, out


def _first(pair: tuple[float, Any]) -> float:
    return pair[0]
