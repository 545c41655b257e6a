"""Parameter sweeps: many runs of a scenario with varied parameters, locally or on a cluster.

The package only produces scenarios (``spec``, ``sampling``) and consumes results (``store``,
``analysis``, ``expectations``); the model itself is untouched. See docs/sweeps.md.

    spec          the sweep file: models, loading, validation of every sample before any run
    sampling      grid, Latin hypercube and random designs; the distributions
    execute       run_one / run_batch (what workers run), backends and the streaming loop
    store         the sweep folder: Parquet parts written atomically as runs finish
    analysis      fan charts, KPI distributions, sensitivity, tornado charts, summary.md
    prim          scenario discovery by PRIM-like peeling
    expressions   the small, safe expression language of KPIs, expectations and outcomes
    expectations  judging expectations; JUnit XML for CI
    commands      ``sim sweep`` and ``sim analyze``
"""

from __future__ import annotations

import argparse


def command(args: argparse.Namespace) -> int:
    """``sim sweep SPEC``: see sim.sweep.commands.command."""
    from sim.sweep.commands import command as run

    return run(args)


def analyze_command(args: argparse.Namespace) -> int:
    """``sim analyze DIR``: see sim.sweep.commands.analyze_command."""
    from sim.sweep.commands import analyze_command as run

    return run(args)
