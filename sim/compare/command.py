"""``sim.compare``: read the scenarios, run them paired, write the figures, tables and report.

The Python API of ``sim compare``, over ``sim.compare.comparison`` (the paired runs and tables),
``.plots``, ``.headline``, ``.branches`` and ``.report``; kept apart so that those modules never
import each other in a circle.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence
from concurrent.futures import Executor
from pathlib import Path

import pandas as pd

from sim.compare import branches, headline, report
from sim.compare import plots as compare_plots
from sim.compare.comparison import (
    Comparison,
    Tables,
    check_comparable,
    format_tables,
    run_paired,
    tables,
)
from sim.errors import InputError, Problem
from sim.io.exports import write_workbook
from sim.scenario.loader import Source, load_scenarios, source_name

RESULTS = Path("results") / "compare"
"""Where ``sim compare`` writes by default."""


def compare(
    scenarios: Sequence[Source],
    *,
    seed: int | None = None,
    replications: int | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    scheduler: str | None = None,
    out: str | os.PathLike[str] | None = None,
    force: bool = False,
    xlsx: bool = False,
    allow_large: bool = False,
) -> Comparison:
    """Run scenarios (files or ``Scenario`` objects) paired, the first being the reference.

    Every scenario runs with the same master ``seed`` and replication indices (default: the
    first scenario's), so differences are the scenarios', not the noise's. Replications run on
    ``executor``, else a Dask cluster (``scheduler``, tcp://host:port), else ``workers`` local
    processes, else here; the results are the same. With ``out`` the figures (PNG and
    SVG), the CSV tables (and with ``xlsx`` a workbook), report.html and manifest.json are
    written there all at once (an existing folder is kept and the next free ``out-2`` used;
    ``force`` replaces an earlier comparison's folder); ``comparison.folder`` says where. Every
    scenario is read and checked, and the folder claimed, before anything runs; bad input
    raises InputError.
    """
    from sim.io.claim import claim_output
    from sim.results.runner import executor_for
    from sim.scenario.limits import check_budget
    from sim.scenario.options import check_options

    check_options(
        seed=seed, replications=replications, workers=workers, out=out, scheduler=scheduler
    )
    if isinstance(scenarios, str | os.PathLike):
        raise InputError([Problem("compare takes a list of scenarios", file="<command line>")])
    loaded = load_scenarios(scenarios)
    files = [source_name(s) for s in scenarios]
    if not loaded:
        raise InputError([Problem("compare needs at least one scenario", file="<command line>")])
    check_comparable(loaded, files)
    if not allow_large:
        for file, scenario in zip(files, loaded, strict=True):
            check_budget(scenario, replications, file)
    if out is None:
        with executor_for(workers, executor, scheduler) as chosen:
            return run_paired(loaded, seed, replications, chosen, files=files)
    with claim_output(out, RESULTS, "compare", force) as claim:
        with executor_for(workers, executor, scheduler) as chosen:
            comparison = run_paired(loaded, seed, replications, chosen, files=files)
        with claim.writing() as folder:
            write_outputs(comparison, comparison.kpis, folder, xlsx=xlsx)
            write_manifest(comparison, files, folder)
    return dataclasses.replace(comparison, folder=claim.path)


def summary(comparison: Comparison) -> str:
    """What ``sim compare`` prints: the headline, the KPI tables and the outcome splits."""
    lines = headline.headline(comparison)
    reference = comparison.titles[comparison.names[0]]
    consequences = branches.consequences(comparison)
    printed = [
        headline.text(lines, reference, comparison.span),
        "",
        format_tables(comparison, comparison.kpis),
    ]
    if consequences:
        printed += ["", "Outcome splits (replications grouped by how a random event turned out)"]
        printed += [f"  {comparison.titles[c.scenario]}: {c.sentence}" for c in consequences]
    return "\n".join(printed)


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


# --- files -------------------------------------------------------------------------------------


def write_outputs(
    comparison: Comparison, kpis: pd.DataFrame, folder: Path, xlsx: bool = False
) -> None:
    """Figures (PNG and SVG), the tables (CSV, and a workbook with ``xlsx``) and the report,
    into an (atomic) folder."""
    lines = headline.headline(comparison)
    found = [split for result in comparison.results for split in branches.splits(result)]
    consequences = branches.consequences(comparison)
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
