"""Parameter sweeps: many runs of a scenario with varied parameters, locally or on a cluster.

``sim.sweep(spec_file, ...)`` runs one (this package is callable: see sim/callable_package.py;
typed code imports ``from sim.sweep import sweep``) and ``sim.analyze(folder)`` rebuilds its
analysis; both return a ``SweepResult``. The package only produces scenarios (``spec``,
``sampling``) and consumes results (``store``, ``analysis``, ``expectations``); the model itself
is untouched. See docs/sweeps.md.

    spec          the sweep file: models, loading, validation of every sample before any run
    sampling      grid, Latin hypercube and random designs: inverse CDFs of the distributions
    execute       backends and the streaming loop
    worker        what workers run: run_one / run_batch (imports only the engine and numpy)
    store         the sweep folder: Parquet parts written atomically as runs finish
    analysis      fan charts, KPI distributions, sensitivity, tornado charts, summary.md
    prim          scenario discovery by PRIM-like peeling
    expressions   the small, safe expression language of KPIs, expectations and outcomes
    expectations  judging expectations; JUnit XML for CI
    commands      ``sweep`` and ``analyze``: the Python API of ``sim sweep`` and ``sim analyze``

Importing the package is cheap (the functions are imported on first use), so that sweep worker
processes, which import ``sim.sweep.worker``, load neither pandas nor matplotlib.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from sim.callable_package import make_callable

__all__ = ["SweepInterrupted", "SweepResult", "analyze", "sweep"]

if TYPE_CHECKING:
    from sim.sweep.commands import SweepInterrupted, SweepResult, analyze, sweep


def __getattr__(name: str) -> Any:
    if name in __all__:
        from sim.sweep import commands

        return getattr(commands, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


make_callable(__name__, "sweep")
