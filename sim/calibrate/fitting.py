"""The fit: least squares over the parameters a scenario declares free, on the mean over K
replications of every in-sample target, each residual in units of its tolerance and weighted
by the confidence of its source.

Nothing here knows a target value: the figures come from the targets files and the fit can only
move declared parameters, within their declared bounds.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any

import numpy as np
from scipy.optimize import least_squares

from sim.calibrate.measures import Observed, observe, run_replications, values
from sim.calibrate.targets import Resolved
from sim.errors import InputError, Problem
from sim.model.engine import Replication
from sim.scenario import paths
from sim.scenario.loader import derive
from sim.scenario.schema import Scenario

DIFF_STEP = 1e-2
"""Finite-difference step, as a share of each parameter's range. The simulator is piecewise
smooth (weekly batches, stockpile limits), so a tiny step would measure noise, not slope."""
MAX_NFEV = 40
"""Least-squares iterations at most (each also costs one evaluation per free parameter for
the Jacobian, and every evaluation runs K replications)."""
ROUNDING = 500
"""Fitted values are rounded to 1/ROUNDING of their range, down to a power of ten
(a 1,500-6,000 t/month bound rounds to 1 t/month), so the world file stays readable."""
LOSSES = ("linear", "soft_l1")
"""The fit's two stages. Plain least squares first, from the scenario's values: it follows the
largest misses into the right basin even across plateaus (a release pace beyond which nothing
changes). Then a robust loss (``soft_l1``: quadratic within about one tolerance, linear beyond)
from there, so a figure the model cannot reach (a mechanism it lacks) pulls no harder than it
deserves and the fit works to bring as many figures as it can inside their tolerance rather than
to shave the largest misses."""
UNDEFINED_RESIDUAL = 10.0
"""Residual of a share, ratio or change whose denominator is empty in the model: far outside
any tolerance, but finite, so the fit can move away from it."""


@dataclass(frozen=True)
class Evaluation:
    """K replications of one candidate scenario, boiled down to what calibration needs."""

    scenario: Scenario
    targets: list[Resolved]
    observed: Observed
    values: np.ndarray
    """Each target's simulated value by (replication, target)."""
    first: Replication
    """Replication 0, for its event log in the figures."""

    @property
    def means(self) -> np.ndarray:
        """Each target's mean over the replications where it has a value (NaN in none)."""
        return finite_stat(self.values, np.mean)

    def percentile(self, q: float) -> np.ndarray:
        """Each target's q-th percentile over the replications where it has a value."""
        return finite_stat(self.values, lambda x: np.percentile(x, q))


def finite_stat(table: np.ndarray, stat: Callable[[np.ndarray], Any]) -> np.ndarray:
    """A statistic of each column over its finite entries; NaN for a column with none."""
    out = np.full(table.shape[1], np.nan)
    for j in range(table.shape[1]):
        column = table[:, j]
        column = column[np.isfinite(column)]
        if column.size:
            out[j] = float(stat(column))
    return out


def evaluate(scenario: Scenario, targets: Sequence[Resolved], k: int) -> Evaluation:
    """Run replications 0..k-1 with the scenario's seed and compute every target in each."""
    reps = run_replications(scenario, k)
    observed = observe(scenario, reps)
    table = np.array([values(observed, r.target) for r in targets]).T.reshape(k, len(targets))
    return Evaluation(scenario, list(targets), observed, table, reps[0])


def residual(resolved: Resolved, simulated: float) -> float:
    """Signed miss in units of the tolerance on that side: |residual| <= 1 passes.

    Scaling by the tolerance makes every target count comparably in the fit, whatever its
    unit or size; an asymmetric band scales each side by its own width.
    """
    if not math.isfinite(simulated):
        return UNDEFINED_RESIDUAL
    value = resolved.target.value
    low, high = resolved.limits()
    miss = simulated - value
    side = high - value if miss >= 0 else value - low
    return miss / side


REQUIRED_STEEPNESS = 10.0
"""How much faster a required target's residual grows once it is outside its tolerance."""


def residuals(evaluation: Evaluation, fitted: Sequence[bool] | None = None) -> np.ndarray:
    """Weighted residuals of the targets the fit uses (all, or those marked in ``fitted``):
    sqrt(weight) x residual, so the cost is the weighted sum of squares. A required target
    (one that must pass for its file to pass) costs the same inside its tolerance and
    REQUIRED_STEEPNESS times more per unit beyond it: the fit treats it as a near-constraint
    rather than trading it, a little outside, against many others a little inside."""
    out = []
    for i, (r, mean) in enumerate(zip(evaluation.targets, evaluation.means, strict=True)):
        if fitted is None or fitted[i]:
            miss = residual(r, float(mean))
            if r.target.required:
                miss = steepened(miss)
            out.append(math.sqrt(r.weight) * miss)
    return np.array(out)


def steepened(miss: float) -> float:
    """A residual unchanged within +-1 (inside the tolerance), REQUIRED_STEEPNESS times
    steeper beyond: continuous, so the fit sees no jump at the edge."""
    if abs(miss) <= 1.0:
        return miss
    return math.copysign(1.0 + REQUIRED_STEEPNESS * (abs(miss) - 1.0), miss)


def in_sample(targets: Sequence[Resolved], train_until: date | None) -> list[bool]:
    """Which targets the fit may use: those whose figure ends on or before ``train_until``
    (all when it is None). The others are out of sample: reported, never fitted."""
    return [train_until is None or r.target.end <= train_until for r in targets]


@dataclass(frozen=True)
class Space:
    """The free parameters, in declaration order, mapped to the unit cube by their bounds."""

    paths: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, scenario: Scenario) -> Space:
        """The free parameters of a scenario, with their bounds, in the order declared."""
        free = scenario.free
        return cls(
            tuple(free),
            np.array([p.low for p in free.values()], dtype=float),
            np.array([p.high for p in free.values()], dtype=float),
        )

    def unit(self, values: np.ndarray) -> np.ndarray:
        """Values as shares of their ranges, clipped into the bounds."""
        return np.asarray(np.clip((values - self.low) / (self.high - self.low), 0.0, 1.0))

    def values(self, x: np.ndarray) -> np.ndarray:
        """Parameter values from points of the unit cube (shares of their ranges)."""
        return np.asarray(self.low + np.asarray(x) * (self.high - self.low))

    def overrides(self, x: np.ndarray) -> dict[str, float]:
        """A point of the unit cube as dotted-path overrides of the scenario."""
        return {p: float(v) for p, v in zip(self.paths, self.values(x), strict=True)}


def current_values(scenario: Scenario, file: str = "<scenario>") -> dict[str, float]:
    """Each free parameter's value in the scenario as it stands (the fit's starting point)."""
    data = scenario.model_dump(mode="python")
    out, problems = {}, []
    for path in scenario.free:
        try:
            value = paths.get(data, path)
        except KeyError as exc:
            problems.append(Problem(f"free parameter: {exc.args[0]}", file, None, f"free.{path}"))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem("free parameter is not a number", file, None, f"free.{path}"))
            continue
        out[path] = float(value)
    if problems:
        raise InputError(problems)
    return out


@dataclass(frozen=True)
class Fit:
    """What least squares found (values not yet rounded) and how it got there."""

    start: dict[str, float]
    fitted: dict[str, float]
    evaluations: int
    cost: float
    message: str
    inert: tuple[str, ...] = ()
    """Free parameters that no fitted figure responds to anywhere in their bounds: kept at
    their start values, not fitted (with ``--train-until``, those that only act later)."""


def fit(
    scenario: Scenario,
    targets: Sequence[Resolved],
    k: int,
    max_nfev: int = MAX_NFEV,
    progress: Callable[[float], None] | None = None,
    fitted: Sequence[bool] | None = None,
) -> Fit:
    """Least squares over the free parameters (normalised to [0, 1] by their bounds), starting
    from the scenario's current values, on the mean over k replications of the targets marked
    in ``fitted`` (default all).

    Every candidate is built with ``derive`` (re-validated like a file), so a fitted value can
    never bypass the scenario's own checks; a candidate that fails them (two shares summing
    over one) scores far outside every tolerance. ``progress(cost)`` is called per evaluation.
    """
    space = Space.of(scenario)
    start = current_values(scenario)
    count = 0

    n_fitted = sum(fitted) if fitted is not None else len(targets)

    def objective(x: np.ndarray) -> np.ndarray:
        nonlocal count
        count += 1
        try:
            candidate = derive(scenario, space.overrides(x))
        except InputError:  # e.g. customs shares summing over 1: far off, but finite
            res = np.full(n_fitted, UNDEFINED_RESIDUAL)
        else:
            res = residuals(evaluate(candidate, targets, k), fitted)
        if progress is not None:
            progress(0.5 * float(res @ res))
        return res

    x = space.unit(np.array(list(start.values())))
    active = responsive(objective, x)
    if not active.any():
        message = "no fitted figure responds to any free parameter within its bounds"
        return Fit(start, dict(start), count, 0.0, message, space.paths)

    def reduced(z: np.ndarray) -> np.ndarray:
        full = x.copy()
        full[active] = z
        return objective(full)

    z = x[active]
    for loss in LOSSES:
        solution = least_squares(
            reduced,
            z,
            bounds=(0.0, 1.0),
            diff_step=DIFF_STEP,
            max_nfev=max_nfev,
            method="trf",
            loss=loss,
            f_scale=1.0,
        )
        z = solution.x
    x = x.copy()
    x[active] = z
    fitted_values = space.overrides(x)
    for path, on in zip(space.paths, active, strict=True):
        if not on:  # exactly the start value, not its round trip through the unit cube
            fitted_values[path] = start[path]
    return Fit(
        start=start,
        fitted=fitted_values,
        evaluations=count,
        cost=float(solution.cost),
        message=str(solution.message),
        inert=tuple(p for p, on in zip(space.paths, active, strict=True) if not on),
    )


def responsive(objective: Callable[[np.ndarray], np.ndarray], x: np.ndarray) -> np.ndarray:
    """Which parameters move the fitted residuals: each is set to its lower and then its upper
    bound, the others kept at ``x`` (2 evaluations a parameter). One that changes no fitted
    figure at either bound is inert for these figures (a reopening's pace when only earlier
    figures are fitted, with ``--train-until``): nothing identifies it, so it keeps its value
    rather than wander wherever the optimiser's steps in the other parameters take it."""
    base = objective(x)
    active = np.zeros(x.size, dtype=bool)
    for i in range(x.size):
        for bound in (0.0, 1.0):
            if x[i] == bound:
                continue
            probe = x.copy()
            probe[i] = bound
            if not np.allclose(objective(probe), base, rtol=0.0, atol=1e-9):
                active[i] = True
                break
    return active


def rounded(scenario: Scenario, values: Mapping[str, float]) -> dict[str, float]:
    """Fitted values rounded to 1/ROUNDING of each range (down to a power of ten), in bounds."""
    out: dict[str, float] = {}
    for path, value in values.items():
        bound = scenario.free[path]
        step = 10.0 ** math.floor(math.log10((bound.high - bound.low) / ROUNDING))
        snapped = min(max(round(value / step) * step, bound.low), bound.high)
        out[path] = float(round(snapped)) if step >= 1 else round(snapped, -int(math.log10(step)))
    return out


def max_evaluations(scenario: Scenario) -> int:
    """Evaluations a fit may make at most, each of K replications: the probe of which
    parameters the figures respond to (one, then two per parameter), MAX_NFEV steps per stage,
    each with one evaluation per free parameter for the Jacobian, and the final check."""
    free = len(scenario.free)
    return 1 + 2 * free + len(LOSSES) * MAX_NFEV * (1 + free) + 1
