"""Soft limits on the work a command may start, checked before any work starts.

A typo (an end date in 2205, a million replications, a dispatch every minute) should get a
clear message at once, not a run that never ends. Each limit can be lifted on purpose with
``--allow-large``.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    scenario: spec.Scenario, replications: int, file: str = "<scenario>", budget: Budget = Budget()
) -> None:
    """Raise InputError (exit 2) when a run would exceed the budget; lists every excess."""
    years = (scenario.end - scenario.start).days / 365.25
    dispatches = len(scenario.sites) * (years * 365.25) / scenario.dispatch_days
    hint = "; pass --allow-large if you mean it"
    problems = []
    if years > budget.max_years:
        problems.append(
            Problem(
                f"horizon of {years:.0f} years exceeds {budget.max_years:.0f}{hint}",
                file=file,
                path="end",
            )
        )
    if replications > budget.max_replications:
        problems.append(
            Problem(
                f"{replications} replications exceed {budget.max_replications}{hint}",
                file=file,
                path="replications",
            )
        )
    if dispatches > budget.max_dispatches:
        problems.append(
            Problem(
                f"{dispatches:,.0f} dispatches per replication exceed "
                f"{budget.max_dispatches:,}{hint}",
                file=file,
                path="dispatch_days",
            )
        )
    elif dispatches * replications > budget.max_total_dispatches:
        problems.append(
            Problem(
                f"{dispatches * replications:,.0f} dispatches in all exceed "
                f"{budget.max_total_dispatches:,}{hint}",
                file=file,
                path="replications",
            )
        )
    if problems:
        raise InputError(problems)
