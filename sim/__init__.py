"""sim: a discrete-event simulator of rare-earth supply from Myanmar under disruption.

Every command is a Python function taking plain arguments (files or ``Scenario`` objects,
seeds, counts, folders) and returning objects with DataFrames and paths:

    import sim
    result = sim.run("scenarios/baseline.yaml", replications=20)
    result.imports                       # monthly tonnes by importer, origin and product
    comparison = sim.compare(["scenarios/baseline.yaml", "scenarios/kia_offensive.yaml"])
    comparison.kpis                      # tidy KPIs, paired against the first scenario
    sweep = sim.sweep("scenarios/sweeps/ci_smoke.yaml", out="results/sweeps/smoke")
    sweep.kpis, sweep.verdicts

``sim.compare``, ``sim.sweep`` and ``sim.calibrate`` are packages that can be called (see
sim/callable_package.py); typed code imports the functions: ``from sim.compare import compare``.
Everything is imported on first use, so ``import sim`` stays cheap for workers and the CLI.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"
__all__ = [
    "InputError",
    "Result",
    "RunError",
    "Scenario",
    "SimError",
    "analyze",
    "derive",
    "load_scenario",
    "run",
    "schema",
    "show",
    "validate",
]

if TYPE_CHECKING:
    from sim.api import run, schema, show, validate
    from sim.errors import InputError, RunError, SimError
    from sim.results.result import Result
    from sim.scenario.loader import derive, load_scenario
    from sim.scenario.schema import Scenario
    from sim.sweep.commands import analyze

_HOMES = {
    "run": "sim.api",
    "validate": "sim.api",
    "schema": "sim.api",
    "show": "sim.api",
    "analyze": "sim.sweep.commands",
    "load_scenario": "sim.scenario.loader",
    "derive": "sim.scenario.loader",
    "Scenario": "sim.scenario.schema",
    "Result": "sim.results.result",
    "InputError": "sim.errors",
    "RunError": "sim.errors",
    "SimError": "sim.errors",
}
"""Where each public name lives; ``compare``, ``sweep`` and ``calibrate`` are subpackages."""


def __getattr__(name: str) -> Any:
    """Import lazily, so ``import sim`` stays cheap for worker processes and the CLI."""
    import importlib

    if name in {"compare", "sweep", "calibrate"}:
        return importlib.import_module(f"sim.{name}")
    if name in _HOMES:
        return getattr(importlib.import_module(_HOMES[name]), name)
    raise AttributeError(f"module 'sim' has no attribute {name!r}")
