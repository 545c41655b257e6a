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

from sim.compare import branches, headline, report
from sim.compare import plots as compare_plots
from sim.compare.comparison import (
    Comparison,
    Tables,
    check_comparable,
    compare,
    format_tables,
    kpi_table,
    tables,
)
from sim.errors import InputError
from sim.io.exports import write_workbook


def command(args: argparse.Namespace) -> int:
    """``sim compare FILE... [--replications R] [--seed N] [--workers W] [--out DIR] [--force]
    [--xlsx]``.

    Every file is read and checked before anything runs; bad input raises InputError (exit 2).
    """
    from sim.io.claim import claim_output
    from sim.scenario.limits import check_budget
    from sim.scenario.loader import load_scenario
    from sim.scenario.options import check_options

    check_options(
        seed=args.seed, replications=args.replications, workers=args.workers, out=args.out
    )
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
    with claim_output(args.out, Path("results/compare"), "compare", args.force) as claim:
        with _executor(args.workers) as executor:
            comparison = compare(
                scenarios, args.seed, args.replications, executor, files=list(args.files)
            )
        table = kpi_table(comparison)
        with claim.writing() as folder:
            printed = write_outputs(comparison, table, folder, xlsx=getattr(args, "xlsx", False))
            write_manifest(comparison, list(args.files), folder)
    for result in comparison.results:
        print(
            f"{result.scenario.name}: {result.replications} replication(s) in "
            f"{result.wall_seconds:.2f} s"
        )
    print()
    print(printed)
    print(f"-> {claim.path}/")
    return 0


def write_manifest(comparison: Comparison, files: list[str], folder: Path) -> None:
    """manifest.json: what was compared, with which seed; it marks the folder as ``sim
    compare``'s, so that ``--force`` may replace it (and nothing else)."""
    import json

    from sim import __version__

    document = {
        "command": "compare",
        "scenarios": comparison.names,
        "files": files,
        "seed": comparison.seed,
        "replications": comparison.replications,
        "package_version": __version__,
    }
    (folder / "manifest.json").write_text(json.dumps(document, indent=2) + "\n")


@contextlib.contextmanager
def _executor(workers: int) -> Iterator[Executor | None]:
    if workers <= 1:
        yield None
        return
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool


# --- files -------------------------------------------------------------------------------------


def write_outputs(
    comparison: Comparison, kpis: pd.DataFrame, folder: Path, xlsx: bool = False
) -> str:
    """Figures (PNG and SVG), the tables (CSV, and a workbook with ``xlsx``) and the report,
    into an (atomic) folder; returns the text to print (headline, tables, outcome splits)."""
    lines = headline.headline(comparison)
    found = [split for result in comparison.results for split in branches.splits(result)]
    consequences = branches.consequences(comparison)
    reference = comparison.titles[comparison.names[0]]
    people = tables(comparison, kpis)
    csvs = {
        "compare_kpis": kpis,
        "compare_headline": headline.table(lines, comparison.names[0]),
        "compare_outcomes": branches.branch_table(comparison),
        "compare_annual": annual_wide(people),
    }
    for stem, frame in csvs.items():
        frame.to_csv(folder / f"{stem}.csv", index=False, float_format="%.6f")
    figures = {
        "compare_imports": compare_plots.imports_figure(comparison),
        "compare_annual": compare_plots.annual_figure(comparison, kpis),
    }
    if found:
        figures["compare_outcomes"] = compare_plots.outcomes_figure(comparison, found)
    for stem, figure in figures.items():
        compare_plots.save_both(figure, folder / stem)
    contents = report.Contents(comparison, kpis, people, lines, consequences, folder)
    (folder / "report.html").write_text(report.render(contents), encoding="utf-8")
    if xlsx:
        write_workbook(
            folder / "compare.xlsx",
            {
                "headline": csvs["compare_headline"],
                "outcome splits": csvs["compare_outcomes"],
                "annual": csvs["compare_annual"],
                "summary": people.summary.reset_index(),
                "kpis": kpis,
            },
            WORKBOOK_SHEETS,
            f"Scenario comparison: {', '.join(comparison.names)} (seed {comparison.seed}, "
            f"{comparison.replications} paired replications)",
        )
    printed = [
        headline.text(lines, reference, comparison.span),
        "",
        format_tables(comparison, kpis),
    ]
    if consequences:
        printed += ["", "Outcome splits (replications grouped by how a random event turned out)"]
        printed += [f"  {comparison.titles[c.scenario]}: {c.sentence}" for c in consequences]
    return "\n".join(printed)


WORKBOOK_SHEETS = {
    "headline": "Scenarios ranked by the shortfall of China's imports from Myanmar against the "
    "reference (paired by replication): mean and 5-95%, worst month and depth, chance of a "
    "shortfall over 10/25/50%, months to recover, tonnes reaching Quad processors.",
    "outcome splits": "Replications grouped by the discrete outcome of a random event: each "
    "branch's share, the probability the scenario sets, and what follows in it.",
    "annual": "Annual tonnes per scenario and measure (mean over replications), years as "
    "columns; the Quad counted once with where its tonnes are bound.",
    "summary": "Horizon totals per scenario (mean over replications).",
    "kpis": "Every KPI of every scenario with its 5th and 95th percentile (compare_kpis.csv).",
}


def annual_wide(people: Tables) -> pd.DataFrame:
    """The annual table (scenario, measure; years and total as columns) for a spreadsheet."""
    frame = people.annual.reset_index()
    frame["measure"] = frame["measure"].str.strip()
    frame.columns = [str(c) for c in frame.columns]
    return frame
