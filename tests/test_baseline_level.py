"""The forward baseline's level (docs/scenario_library.md, "The baseline's level"): one
calibration of the present state (the history's fit), the record's October 2024, no backlog
left for 2026, the KIA's tax biting through the margin model; IREL on its published path."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

import sim
from sim import load_scenario
from sim.model.engine import simulate
from sim.results.kpis import reduce

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def fitted(name: str) -> dict[str, float]:
    """The ``set:`` block of a calibration file."""
    return yaml.safe_load((SCENARIOS / name).read_text())["set"]


def test_the_forward_world_takes_every_calibrated_number_from_the_history_fit() -> None:
    history = fitted("history/fitted.yaml")
    # nothing the 2024-only calibration sets reaches the forward world: the history's fit
    # sets every one of its paths, and the forward chain applies the history's last
    assert set(fitted("world/calibrated.yaml")) <= set(history)
    s = load_scenario(SCENARIOS / "baseline.yaml")
    belt = s.sites["chipwe_pangwa"]
    assert belt.capacity_tpm.mhree == history["sites.chipwe_pangwa.capacity_tpm.mhree"]
    assert belt.capacity_tpm.lree == history["sites.chipwe_pangwa.capacity_tpm.lree"]
    june_2024 = belt.capacity_path[6]
    assert june_2024.start == date(2024, 6, 1)
    assert june_2024.factor == history["sites.chipwe_pangwa.capacity_path.6.factor"]
    assert belt.capacity_path[-1] == june_2024, "no later change: the forward belt is 2024's"


def china_from_myanmar(result: sim.Result) -> pd.Series:
    """Mean tonnes a month China imports from Myanmar."""
    i = result.imports
    rows = i[(i.importer == "china") & (i.origin == "myanmar")]
    return rows.groupby("month")["tonnes"].sum() / result.replications


def test_the_history_ships_the_belts_stock_between_the_two_fights_of_october_2024() -> None:
    # E 2024-09-29 offensive ends on 2024-10-03; the fight for Pangwa runs from 2024-10-15
    # (battalion HQ) to 2024-10-18: in between, the belt ships what it holds before the KIA
    # halts sales (2024-10-20) and China closes the gates (2024-10-22)
    s = load_scenario(
        SCENARIOS / "history.yaml", overrides={"start": "2024-07-01", "run_from": "2018-01-01"}
    )
    month = china_from_myanmar(sim.run(s, replications=1, plot=False))
    assert month["2024-10"] > 1000
    assert month["2024-11"] == pytest.approx(0.0, abs=1.0), "every Kachin gate shut"


def annual_kpis(overrides: dict[str, float] | None = None, seed: int = 7) -> pd.DataFrame:
    """Per replication (3): China's imports from Myanmar by year, 2026-2028, and the belt's
    mining over the three years."""
    s = load_scenario(
        SCENARIOS / "baseline.yaml", overrides={"end": "2028-12-31", **(overrides or {})}
    )
    rows = []
    for i in range(3):
        kpis = reduce(s, simulate(s, seed, i)).kpis
        rows.append({y: kpis[f"imports.china.myanmar.all.{y}"] for y in (2026, 2027, 2028)})
    return pd.DataFrame(rows)


def test_no_backlog_of_the_restricted_gates_is_left_for_2026() -> None:
    # the stock held while the gates were restricted (2024-12-13 to 2025-10-24) leaves in
    # November and December 2025 and with the end of the Bhamo fighting: 2026 is a normal year
    years = annual_kpis()
    assert np.allclose(years[2026], years[2027], rtol=0.02), years
    assert np.allclose(years[2028], years[2027], rtol=0.02), years


def test_the_kias_tax_lowers_the_forward_level_through_the_margin() -> None:
    taxed = annual_kpis()
    # the BGF's 1,000 USD/t of the world file: no rise of the levy in 2024-25
    untaxed = annual_kpis({"events.kia_stockpile_tax_2025.levy_cny_per_t": 7200})
    assert (untaxed[2027] > 1.02 * taxed[2027]).all(), (taxed, untaxed)
    # a higher full margin makes the same tax bite harder
    dearer = annual_kpis({"supply_response.full_margin_usd_per_t": 15000})
    assert (dearer[2027] < 0.95 * taxed[2027]).all(), (taxed, dearer)


def irel_capacity(year: int) -> float:
    """Tonnes IREL can separate in a year on its published path (both lines): 40 t/yr of Nd at
    the end of FY2024-25, 200 t at the end of FY26, 500 t at the end of FY27, linear between."""
    points = [date(2025, 3, 31), date(2026, 3, 31), date(2027, 3, 31)]
    days = pd.date_range(f"{year}-01-01", f"{year}-12-31", freq="D")
    x = [(p - date(2025, 1, 1)).days for p in points]
    t = [(d.date() - date(2025, 1, 1)).days + 0.5 for d in days]
    factor = np.interp(t, x, [0.08, 0.4, 1.0])
    return float(factor.sum() * (42 + 1) / (365.25 / 12))


def test_irel_separates_no_more_than_its_published_path_allows() -> None:
    assert irel_capacity(2028) == pytest.approx(43 * 12, rel=0.01)
    assert irel_capacity(2026) < 0.8 * irel_capacity(2028)
    s = load_scenario(
        SCENARIOS / "us_india_corridor.yaml",
        overrides={"end": "2028-12-31", "decisions.china_retaliates.probability": 0},
    )
    t = sim.run(s, replications=2, seed=3, plot=False).timeline
    rows = t[(t.measure == "processed") & (t.entity == "india_irel")]
    year = pd.PeriodIndex(rows.month.astype(str), freq="M").year
    per_year = rows.groupby([year, rows.replication])["tonnes"].sum()
    for (y, _), tonnes in per_year.items():
        assert tonnes <= irel_capacity(int(y)) * 1.0001 + 1e-6, (y, tonnes)
    assert per_year.loc[2028].min() > 0, "the corridor feeds IREL"
