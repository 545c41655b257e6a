"""``sim compare``: read the files, run them paired, write the figures, tables and report.

The command layer over ``sim.compare.comparison`` (the paired runs and tables), ``.plots`` and
``.report``; kept apart so that those modules never import each other in a circle.
"""

from __future__ import annotations

import argparse
import contextlib
from collections.abc import Iterator
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd

from sim.compare import plots as compare_plots
from sim.compare import report
from sim.compare.comparison import (
    Comparison,
    check_comparable,
    compare,
    format_tables,
    kpi_table,
    tables,
)
from sim.errors import InputError, Problem


def command(args: argparse.Namespace) -> int:
    """``sim compare FILE... [--replications R] [--seed N] [--workers W] [--out DIR] [--force]``.

    Every file is read and checked before anything runs; bad input raises InputError (exit 2).
    """
    from sim.io.outputs import atomic_folder, choose_folder
    from sim.scenario.limits import check_budget
    from sim.scenario.loader import load_scenario

    _check_arguments(args)
    scenarios, problems = [], []
    for file in args.files:
        try:
            scenarios.append(load_scenario(file))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    check_comparable(scenarios, list(args.files))
    if not getattr(args, "allow_large", False):
        for file, scenario in zip(args.files, scenarios, strict=True):
            check_budget(scenario, args.replications, file)
    target = choose_folder(args.out, "compare", args.force)
    with _executor(args.workers) as executor:
        comparison = compare(
            scenarios, args.seed, args.replications, executor, files=list(args.files)
        )
    table = kpi_table(comparison)
    with atomic_folder(target) as folder:
        write_outputs(comparison, table, folder)
    for result in comparison.results:
        print(
            f"{result.scenario.name}: {result.replications} replication(s) in "
            f"{result.wall_seconds:.2f} s"
        )
    print(format_tables(comparison, table))
    print(f"-> {target}/")
    return 0


def _check_arguments(args: argparse.Namespace) -> None:
    problems = []
    if args.replications is not None and args.replications < 1:
        problems.append(Problem("--replications must be at least 1", file="<command line>"))
    if args.seed is not None and args.seed < 0:
        problems.append(Problem("--seed must not be negative", file="<command line>"))
    if args.workers < 1:
        problems.append(Problem("--workers must be at least 1", file="<command line>"))
    if problems:
        raise InputError(problems)


@contextlib.contextmanager
def _executor(workers: int) -> Iterator[Executor | None]:
    if workers <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool


# --- monthly series ------------------------------------------------------------------------


def write_outputs(comparison: Comparison, kpis: pd.DataFrame, folder: Path) -> None:
    """Figures (PNG and SVG), the KPI CSV and the report, into an (atomic) folder."""

    kpis.to_csv(folder / "compare_kpis.csv", index=False, float_format="%.6f")
    figures = {
        "compare_imports": compare_plots.imports_figure(comparison),
        "compare_annual": compare_plots.annual_figure(comparison, kpis),
    }
    for stem, figure in figures.items():
        compare_plots.save_both(figure, folder / stem)
    page = report.render(comparison, kpis, tables(comparison, kpis), folder)
    (folder / "report.html").write_text(page, encoding="utf-8")
