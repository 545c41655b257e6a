"""Simulated values of reported figures: the model's monthly series, read the way each figure
counts (importer, origin, product class, customs scope, period), for every replication.

Units: tonnes (t) per month; a share or ratio is a plain number; a change is in percent.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Sequence
from concurrent.futures import Executor
from contextvars import ContextVar
from dataclasses import dataclass

import numpy as np

from sim.calibrate.targets import Quantity, Target
from sim.errors import Problem
from sim.model.clock import Clock
from sim.model.engine import Replication, simulate
from sim.results.kpis import (
    PRODUCTS,
    SCOPES,
    Axes,
    import_cube,
    mined_by_origin,
    peak_stock_by_origin,
    scope_shares,
    scoped_imports,
)
from sim.scenario.schema import Scenario

SCOPE_SETS: dict[str, list[str]] = {
    "oxide": ["oxide"],
    "carbonate": ["carbonate"],
    "other_compound": ["other_compound"],
    "compounds": ["oxide", "carbonate", "other_compound"],
    "ore": ["ore"],
    "all": list(SCOPES),
}
"""Which customs scopes of the model each target scope sums."""


@dataclass(frozen=True)
class Observed:
    """Monthly series of K replications of one scenario, as the targets read them."""

    axes: Axes
    imports: np.ndarray
    """Tonnes by (replication, importer, origin, product, scope, month)."""
    mined: np.ndarray
    """Tonnes by (replication, origin, product, month)."""
    stock: np.ndarray
    """Peak tonnes held at sites by (replication, origin, month)."""

    @property
    def replications(self) -> int:
        """How many replications were observed."""
        return int(self.imports.shape[0])


def observe(scenario: Scenario, reps: Sequence[Replication]) -> Observed:
    """The series every target reads, from finished replications of a scenario."""
    clock = Clock(scenario.start, scenario.end)
    axes = Axes.of(scenario, clock)
    shares = scope_shares(scenario, clock, axes)
    imports = np.stack(
        [scoped_imports(import_cube(scenario, rep, clock, axes), shares) for rep in reps]
    )
    mined = np.stack([mined_by_origin(rep, clock, axes) for rep in reps])
    stock = np.stack([peak_stock_by_origin(rep, clock, axes) for rep in reps])
    return Observed(axes, imports, mined, stock)


_EXECUTOR: ContextVar[Executor | None] = ContextVar("calibration_executor", default=None)
"""Where a calibration's replications run (``replications_on``); None: here."""


@contextlib.contextmanager
def replications_on(executor: Executor | None) -> Iterator[None]:
    """Run the replications of every evaluation inside this block on ``executor`` (a process
    pool, a Dask cluster's executor); the results are the same as here."""
    token = _EXECUTOR.set(executor)
    try:
        yield
    finally:
        _EXECUTOR.reset(token)


def run_replications(scenario: Scenario, k: int) -> list[Replication]:
    """Replications 0..k-1 with the scenario's own seed: the same random numbers at every
    parameter value (common random numbers), so a fit sees the parameters, not the noise."""
    executor = _EXECUTOR.get()
    if executor is None:
        return [simulate(scenario, scenario.seed, i) for i in range(k)]
    return list(executor.map(simulate, [scenario] * k, [scenario.seed] * k, range(k)))


def monthly(observed: Observed, q: Quantity) -> np.ndarray:
    """A quantity's monthly series by (replication, month): tonnes, or peak tonnes held."""
    axes = observed.axes
    origins = (
        list(range(len(axes.origins))) if q.origin == "all" else [axes.origins.index(q.origin)]
    )
    products = [0, 1] if q.product == "all" else [PRODUCTS.index(q.product)]
    if q.measure == "stock":
        return np.asarray(observed.stock[:, origins].sum(axis=1))
    if q.measure == "mined":
        return np.asarray(observed.mined[:, origins][:, :, products].sum(axis=(1, 2)))
    assert q.scope is not None
    scopes = [SCOPES.index(s) for s in scope_members(q)]
    x = observed.imports[:, axes.importers.index(q.importer)]
    return np.asarray(x[:, origins][:, :, products][:, :, :, scopes].sum(axis=(1, 2, 3)))


def scope_members(q: Quantity) -> list[str]:
    """The model's customs scopes a quantity sums."""
    if isinstance(q.scope, list):
        return list(dict.fromkeys(q.scope))
    assert q.scope is not None
    return SCOPE_SETS[q.scope]


def months_mask(axes: Axes, q: Quantity) -> np.ndarray:
    """Which months of the horizon a quantity's period covers."""
    wanted = set(q.span.months)
    return np.array([m in wanted for m in axes.months], dtype=bool)


def amount(observed: Observed, q: Quantity) -> np.ndarray:
    """A quantity over its period, per replication: tonnes summed, or a stock's peak."""
    series = monthly(observed, q)[:, months_mask(observed.axes, q)]
    return np.asarray(series.max(axis=1) if q.measure == "stock" else series.sum(axis=1))


def rate(observed: Observed, q: Quantity) -> np.ndarray:
    """A quantity per month of its period (a stock: its peak), per replication."""
    total = amount(observed, q)
    return total if q.measure == "stock" else total / q.span.length


def values(observed: Observed, target: Target) -> np.ndarray:
    """A target's simulated value in each replication, in the target's unit. A share, ratio
    or change over an empty denominator is NaN (reported as such, never passing)."""
    if target.kind == "level":
        return amount(observed, target.quantity)
    top, bottom = rate(observed, target.quantity), rate(observed, target.denominator)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(bottom > 0, top / np.where(bottom > 0, bottom, 1.0), np.nan)
    return 100.0 * (ratio - 1.0) if target.kind == "change" else ratio


def quantity_problems(q: Quantity, scenario: Scenario, axes: Axes) -> list[tuple[str, str]]:
    """Why a quantity cannot be read from a scenario's outputs, as (field, message) pairs:
    unknown importer or origin, a period not wholly inside the horizon, a scoped figure from an
    origin whose customs scopes the scenario does not declare."""
    out = []
    if q.importer not in axes.importers:
        out.append(
            ("importer", f"unknown importer {q.importer!r}; expected one of {axes.importers}")
        )
    if q.origin != "all" and q.origin not in axes.origins:
        out.append(
            ("origin", f"unknown origin {q.origin!r}; expected all or one of {axes.origins}")
        )
    if int(months_mask(axes, q).sum()) != q.span.length:
        horizon = f"{axes.months[0]}..{axes.months[-1]}"
        out.append(("period", f"period {q.period} is not wholly inside the horizon {horizon}"))
    if q.scope is not None and q.scope != "all":
        named = axes.origins if q.origin == "all" else [q.origin]
        missing = [o for o in named if o in axes.origins and o not in scenario.customs_scopes]
        if missing:
            message = (
                f"scope {q.scope} needs customs_scopes for {', '.join(missing)} in the scenario"
            )
            out.append(("scope", message))
    return out


def check_quantities(
    scenario: Scenario, quantities: Sequence[tuple[Problem, Quantity]]
) -> list[Problem]:
    """Problems of every quantity against the scenario, each located by its template."""
    axes = Axes.of(scenario, Clock(scenario.start, scenario.end))
    problems = []
    for where, q in quantities:
        for field, message in quantity_problems(q, scenario, axes):
            path = f"{where.path}.{field}" if where.path else field
            problems.append(Problem(message, where.file, where.line, path))
    return problems
