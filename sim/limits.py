"""Soft limits on the work a command may start, checked before any work starts.

A typo (an end date in 2205, a million replications, a dispatch every minute) should get a
clear message at once, not a run that never ends. Each limit can be lifted on purpose with
``--allow-large``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sim import scenario as spec
from sim.errors import InputError, Problem


@dataclass(frozen=True)
class Budget:
    """Largest horizon, replication count and simulated work accepted without --allow-large."""

    max_years: float = 100.0
    max_replications: int = 20_000
    max_dispatches: int = 1_000_000
    """Site dispatches in one replication: sites x horizon / dispatch_days (~ SimPy events / 3)."""
    max_total_dispatches: int = 500_000_000
    """Site dispatches over all replications (about an hour of computing on one core)."""


def check_budget(
    scenario: spec.Scenario,
    replications: int | None,
    file: str = "<scenario>",
    budget: Budget = Budget(),
) -> None:
    """Raise InputError (exit 2) when a run would exceed the budget; lists every excess.

    ``replications`` given on the command line override the scenario's (None: the scenario's),
    and a problem with them is reported against the command line.
    """
    count = scenario.replications if replications is None else replications
    count_at = ("<command line>", "--replications") if replications else (file, "replications")
    years = (scenario.end - scenario.start).days / 365.25
    dispatches = len(scenario.sites) * (years * 365.25) / scenario.dispatch_days
    hint = "; pass --allow-large if you mean it"
    excess: list[tuple[str, str, str]] = []
    if years > budget.max_years:
        excess.append((f"horizon of {years:.0f} years exceeds {budget.max_years:.0f}", file, "end"))
    if count > budget.max_replications:
        excess.append((f"{count} replications exceed {budget.max_replications}", *count_at))
    if dispatches > budget.max_dispatches:
        excess.append(
            (
                f"{dispatches:,.0f} dispatches per replication exceed {budget.max_dispatches:,}",
                file,
                "dispatch_days",
            )
        )
    elif dispatches * count > budget.max_total_dispatches:
        excess.append(
            (
                f"{dispatches * count:,.0f} dispatches in all exceed "
                f"{budget.max_total_dispatches:,}",
                *count_at,
            )
        )
    if excess:
        raise InputError([_located(Problem(m + hint, file=f, path=k)) for m, f, k in excess])


def _located(problem: Problem) -> Problem:
    """The problem at the file and line where its key is written (maybe a parent file)."""
    from sim.loader import load_document
    from sim.paths import split

    if not Path(problem.file).is_file():
        return problem
    _, provenance = load_document(problem.file)
    where = provenance.locate(split(problem.path))
    return Problem(problem.message, file=where.file, line=where.line, path=problem.path)
