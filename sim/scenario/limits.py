"""Soft limits on the work a command may start, checked before any work starts.

A typo (an end date in 2205, a million replications, a dispatch every minute, a sweep of a
million samples) should get a clear message at once, not a run that never ends. Each limit can
be lifted on purpose with ``--allow-large``.

Work is counted in site dispatches (sites x horizon / dispatch_days): the engine's events grow
with them, so they measure a run's cost before it runs.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError, Problem
from sim.scenario import schema as spec

if TYPE_CHECKING:
    from sim.scenario.loader import Location

HINT = "; pass --allow-large if you mean it"
"""Ends every soft-limit message: the way to lift it."""


@dataclass(frozen=True)
class Budget:
    """Largest horizon, replication count and simulated work accepted without --allow-large."""

    max_years: float = 100.0
    max_replications: int = 20_000
    """Replications of one scenario (``sim run``, ``sim compare``; seeds of ``sim calibrate``)."""
    max_runs: int = 200_000
    """Runs of one sweep: samples x replications, plus the paired baseline's replications."""
    max_dispatches: int = 1_000_000
    """Site dispatches in one replication: sites x horizon / dispatch_days (~ SimPy events / 3)."""
    max_total_dispatches: int = 500_000_000
    """Site dispatches over all replications (about an hour of computing on one core)."""


def horizon_years(scenario: spec.Scenario) -> float:
    """The scenario's run in years (its prefix included)."""
    return (scenario.end - scenario.first_day).days / 365.25


def dispatches(scenario: spec.Scenario) -> float:
    """Site dispatches in one replication: the measure of a run's cost."""
    return len(scenario.sites) * (scenario.end - scenario.first_day).days / scenario.dispatch_days


@dataclass(frozen=True)
class Count:
    """How many replications of a scenario are simulated, and where that number was given."""

    value: int
    file: str
    key: str
    limit: int
    evaluations: int = 1
    """Times the ``value`` replications are run (calibration repeats them per evaluation)."""


Excess = tuple[str, str, str]
"""(message, file, key path) of one limit exceeded."""


def excesses(scenario: spec.Scenario, count: Count, file: str, budget: Budget) -> list[Excess]:
    """Every soft limit a scenario simulated ``count`` times would exceed (no locating)."""
    years = horizon_years(scenario)
    per_run = dispatches(scenario)
    total = per_run * count.value * count.evaluations
    found: list[Excess] = []
    if years > budget.max_years:
        found.append((f"horizon of {years:.0f} years exceeds {budget.max_years:.0f}", file, "end"))
    if count.value > count.limit:
        message = f"{count.value:,} replications exceed {count.limit:,}"
        found.append((message, count.file, count.key))
    if per_run > budget.max_dispatches:
        message = f"{per_run:,.0f} dispatches per replication exceed {budget.max_dispatches:,}"
        found.append((message, file, "dispatch_days"))
    elif total > budget.max_total_dispatches:
        message = f"{total:,.0f} dispatches in all exceed {budget.max_total_dispatches:,}"
        if count.evaluations > 1:
            message += f" ({count.value:,} replications x up to {count.evaluations} evaluations)"
        found.append((message, count.file, count.key))
    return found


def check_budget(
    scenario: spec.Scenario,
    replications: int | None,
    file: str = "<scenario>",
    budget: Budget = Budget(),
    flag: str = "--replications",
    evaluations: int = 1,
    overrides: Mapping[str, Any] | None = None,
    origin: Location | None = None,
) -> None:
    """Raise InputError (exit 2) when a run would exceed the budget; lists every excess.

    ``replications`` given on the command line (as ``flag``) override the scenario's (None:
    the scenario's), and a problem with them is reported against the command line.
    ``evaluations`` multiplies the work: calibration runs its replications once per evaluation.
    ``overrides`` (from ``origin``, say ``--set``) are the ones the scenario was loaded with,
    so that a limit exceeded by an overridden value is reported where that value was given.
    """
    value, at = (
        (scenario.replications, (file, "replications"))
        if replications is None
        else (replications, ("<command line>", flag))
    )
    count = Count(value, *at, limit=budget.max_replications, evaluations=evaluations)
    found = excesses(scenario, count, file, budget)
    if found:
        located = [
            _located(Problem(m + HINT, file=f, path=k), overrides, origin) for m, f, k in found
        ]
        raise InputError(located)


def _located(
    problem: Problem, overrides: Mapping[str, Any] | None, origin: Location | None
) -> Problem:
    """The problem at the file and line where its key is written (maybe a parent file), or at
    the override that set it."""
    from sim.scenario.loader import FROM_CODE, load_document
    from sim.scenario.paths import split

    if not Path(problem.file).is_file():
        return problem
    _, provenance = load_document(problem.file, overrides=overrides, origin=origin or FROM_CODE)
    where = provenance.locate(split(problem.path))
    path = where.key_prefix + problem.path
    return Problem(problem.message, file=where.file, line=where.line, path=path)
