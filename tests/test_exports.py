"""What a spreadsheet user and a reader of ``sim run``'s figure get: wide annual tables, a
workbook with a sheet per table, and a figure in the scenario's own names with a baseline."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from sim import load_scenario
from sim.cli import main
from sim.io.plots import imports_figure
from sim.results.runner import run

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_run_writes_a_wide_annual_table_outcomes_and_a_workbook(tmp_path: Path) -> None:
    out = tmp_path / "run"
    args = ["run", str(SCENARIOS / "us_india_corridor.yaml"), "--replications", "3"]
    args += ["--seed", "12", "--set", "end=2028-12-31", "--out", str(out), "--xlsx", "--no-plot"]
    assert main(args) == 0
    annual = pd.read_csv(out / "annual.csv")
    assert list(annual.columns) == [
        "series", "importer", "origin", "product", "statistic", "unit",
        "2026", "2027", "2028",
    ]  # fmt: skip
    kpis = pd.read_json(out / "kpis.json").loc["imports.quad.myanmar.all.2028", "kpis"]
    quad = annual[(annual.series == "Quad from Myanmar (each tonne once)")]
    quad = quad[(quad["product"] == "all") & (quad.statistic == "mean")]
    assert quad["2028"].iloc[0] == pytest.approx(kpis["mean"], abs=1e-3)
    bound = annual[annual.series.str.startswith("Quad from Myanmar, bound for")]
    assert set(bound.series) == {
        "Quad from Myanmar, bound for India",
        "Quad from Myanmar, bound for Malaysia",
        "Quad from Myanmar, bound for United States",
    }
    outcomes = pd.read_csv(out / "outcomes.csv")
    assert list(outcomes.columns) == ["replication", "event", "aspect", "outcome"]
    assert set(outcomes.event) >= {"china_retaliates"}
    from openpyxl import load_workbook

    book = load_workbook(out / "results.xlsx", read_only=True)
    assert book.sheetnames == ["about", "annual", "kpis", "monthly imports", "events", "outcomes"]
    header = next(book["annual"].iter_rows(max_row=1, values_only=True))
    assert header[:2] == ("series", "importer")
    assert header[-1] == "2028"
    book.close()


def test_run_figure_names_things_and_draws_the_baseline() -> None:
    scenario = load_scenario(SCENARIOS / "us_india_corridor.yaml", overrides={"end": "2028-12-31"})
    baseline = load_scenario(SCENARIOS / "baseline.yaml", overrides={"end": "2028-12-31"})
    result = run(scenario, seed=12, replications=2)
    fig = imports_figure(result, run(baseline, seed=12, replications=2))
    top, events = fig.axes
    labels = [str(line.get_label()) for line in top.get_lines()]
    assert "China from Myanmar" in labels
    assert "Quad from Myanmar (each tonne once)" in labels
    assert not any(
        label.startswith(("India from", "Us from", "United States from")) for label in labels
    )
    assert any(label.startswith("baseline, China from Myanmar") for label in labels)
    assert "US-India corridor" in top.get_title(loc="left")
    lanes = [t.get_text() for t in events.get_yticklabels()]
    assert "China ban on Kachin Independence Army" in lanes
    assert "all 2 replications" in events.get_title(loc="left")
