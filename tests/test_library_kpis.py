"""KPIs the scenario library briefs from: China's heavy-RE dependence on Myanmar and what Quad
plants separate as well as receive."""

from __future__ import annotations

from pathlib import Path

import numpy as np

from sim import load_scenario
from sim.model.engine import simulate
from sim.results.kpis import reduce

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_heavy_dependence_is_myanmar_heavy_imports_over_the_ionic_clay_quota() -> None:
    s = load_scenario(SCENARIOS / "history.yaml")
    kpis = reduce(s, simulate(s, 1, 0)).kpis
    quota = 12 * s.other_supply["china_ionic_clay"].levels[0].tpm.mhree
    for year in (2023, 2024):
        ratio = kpis[f"heavy_dependence.china.{year}"]
        imported = kpis[f"imports.china.myanmar.mhree.{year}"]
        # the domestic response adds at most its capacity to the quota's level
        assert imported / (quota + 12 * 80) - 1e-9 <= ratio <= imported / quota + 1e-9
    # seed 003: Myanmar's medium/heavy imports were 1.6 times the domestic quota in 2024
    assert 1.0 < kpis["heavy_dependence.china.2024"] < 2.2


def test_baseline_has_no_quad_tonnes_and_every_year_reported() -> None:
    s = load_scenario(SCENARIOS / "baseline.yaml")
    kpis = reduce(s, simulate(s, 3, 0)).kpis
    years = range(s.start.year, s.end.year + 1)
    assert all(kpis[f"quad_delivered.{y}"] == 0 == kpis[f"quad_processed.{y}"] for y in years)
    assert kpis["quad_processed_t"] == 0
    assert np.isfinite([kpis[f"heavy_dependence.china.{y}"] for y in years]).all()


def test_the_bundled_sweeps_validate() -> None:
    # the library's sensitivity sweep is run by hand (docs/scenario_library.md), validated here
    import sim

    files = sorted((SCENARIOS / "sweeps").glob("*.yaml"))
    checked = sim.validate(files)
    assert {c.kind for c in checked} == {"sweep"}
    assert any(c.summary.startswith("sweep library_assumptions:") for c in checked)
