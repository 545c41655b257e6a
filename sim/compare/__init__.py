"""Comparing scenarios: paired runs on common random numbers, figures, KPIs and a report.

``sim.compare([...files or Scenarios], replications=20, out="results/compare")`` runs one
(this package is callable: see sim/callable_package.py; typed code imports
``from sim.compare import compare``) and returns a ``Comparison``.

    comparison  the paired runs (``run_paired``), the KPI table and the text tables
    plots       the figures: monthly imports, annual totals
    report      the self-contained HTML report
    command     ``compare``: the Python API of ``sim compare`` (reads, checks, runs, writes)
"""

from __future__ import annotations

from sim.callable_package import make_callable
from sim.compare.command import compare
from sim.compare.comparison import Comparison

__all__ = ["Comparison", "compare"]

make_callable(__name__, "compare")
