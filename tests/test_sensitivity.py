"""Sensitivity and scenario discovery with answers known in closed form.

A linear model y = 4 x1 + 2 x2 + x3 of independent uniform parameters has Sobol' indices
S1_i = ST_i = a_i^2 / sum(a^2) (16/21, 4/21, 1/21), Morris elementary effects of exactly a_i
per unit of the (unit-cube) range, and one-at-a-time swings of a_i x (P90 - P10). PRIM must
find a box planted in the data.
"""

from __future__ import annotations

from typing import Any

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
import pytest
from matplotlib.patches import Rectangle

from sim.sweep import designs, labels, prim, sensitivity
from sim.sweep.analysis import features
from sim.sweep.sampling import draw_design
from sim.sweep.spec import SweepSpec

A = {"x1": 4.0, "x2": 2.0, "x3": 1.0}
EXPECTED_S1 = {k: v**2 / sum(a**2 for a in A.values()) for k, v in A.items()}


def spec(**extra: Any) -> SweepSpec:
    data: dict[str, Any] = {
        "name": "linear",
        "base": "unused.yaml",
        "parameters": {name: {"dist": "uniform", "low": 0, "high": 10} for name in A},
        "seed": 11,
        "samples": 4,
    }
    data.update(extra)
    return SweepSpec.model_validate(data)


def linear(row: dict[str, Any]) -> float:
    return sum(A[k] * float(row[k]) for k in A)


def test_saltelli_design_gives_the_sobol_indices_of_a_linear_model() -> None:
    s = spec(method="sobol", samples=1024)
    design = draw_design(s)
    assert len(design) == s.design_size == 1024 * (3 + 2)
    y = pd.Series([linear(row) for row in design])
    found = sensitivity.analyse(
        "y", "sobol", y, features(design, list(A)), None, len(design), seed=3
    )
    by_name = {r["parameter"]: r for r in found.rows}
    assert [r["parameter"] for r in found.rows] == ["x1", "x2", "x3"]
    for name, expected in EXPECTED_S1.items():
        row = by_name[name]
        assert row["index"] == pytest.approx(expected, abs=max(0.03, row["conf"]))
        assert row["total"] == pytest.approx(expected, abs=max(0.03, row["total_conf"]))
        assert 0 < row["conf"] < 0.1
    assert found.warnings == []


def test_a_small_saltelli_sample_is_flagged() -> None:
    s = spec(method="sobol", samples=8)
    design = draw_design(s)
    y = pd.Series([linear(row) for row in design])
    found = sensitivity.analyse("y", "sobol", y, features(design, list(A)), None, len(design), 3)
    assert any("N = 8 is small" in w for w in found.warnings)


def test_sobol_warnings_catch_inconsistent_indices() -> None:
    rows = {
        "a": {"index": 0.8, "conf": 0.02, "total": 0.5, "total_conf": 0.02},
        "b": {"index": 0.5, "conf": 0.02, "total": 0.6, "total_conf": 0.02},
    }
    found = sensitivity.sobol_warnings(rows, n=128)
    assert any("add up to 1.30" in w for w in found)
    assert any("total index below the first-order one" in w and "a" in w for w in found)


def test_morris_elementary_effects_of_a_linear_model_are_its_slopes() -> None:
    s = spec(method="morris", samples=20, levels=4)
    design = draw_design(s)
    assert len(design) == 20 * (3 + 1)
    # in the unit cube (what Morris moves along), y = sum of a_i * 10 u_i
    from sim.sweep.sampling import unit_design

    unit = unit_design(s)
    y = pd.Series(unit @ np.array([10 * a for a in A.values()]))
    found = sensitivity.analyse(
        "y", "morris", y, features(design, list(A)), unit, len(design), seed=3, levels=4
    )
    by_name = {r["parameter"]: r for r in found.rows}
    for name, slope in A.items():
        assert by_name[name]["index"] == pytest.approx(10 * slope)  # mu*
        assert by_name[name]["sigma"] == pytest.approx(0.0, abs=1e-9)
    assert [r["parameter"] for r in found.rows] == ["x1", "x2", "x3"]


def test_given_data_indices_adding_up_past_one_are_flagged() -> None:
    s = spec(
        method="latin_hypercube",
        samples=20,
        parameters={f"p{k}": {"dist": "uniform", "low": 0, "high": 1} for k in range(8)},
    )
    design = draw_design(s)
    noise = np.random.default_rng(5).normal(size=len(design))  # no parameter matters
    found = sensitivity.analyse(
        "y", "given_s1", pd.Series(noise), features(design, list(s.parameters)), None, 20, 3
    )
    total = sum(r["index"] for r in found.rows)
    assert total > 1.1
    assert any("add up to" in w and "use method: sobol" in w for w in found.warnings)


def test_one_at_a_time_swings_of_a_linear_model() -> None:
    s = spec(method="latin_hypercube", samples=4, tornado=True)
    design = draw_design(s)
    assert len(design) == 4 + s.swing_count
    assert s.swing_count == 1 + 2 * 3
    first = s.design_size
    centre_row = design[first]
    assert all(centre_row[k] == pytest.approx(5.0) for k in A)
    y = {i: linear(row) for i, row in enumerate(design)}
    centre, found = sensitivity.swings(dict(s.parameters), y, first, dict(enumerate(design)))
    assert centre == pytest.approx(35.0)
    assert [sw.parameter for sw in found] == ["x1", "x2", "x3"]
    for sw in found:  # P10 = 1, P90 = 9
        assert (sw.low_value, sw.high_value) == (pytest.approx(1.0), pytest.approx(9.0))
        assert sw.swing == pytest.approx(A[sw.parameter] * 8)


def test_a_categorical_parameter_swings_over_its_levels() -> None:
    s = spec(
        method="random",
        samples=2,
        tornado=True,
        parameters={
            "x1": {"dist": "uniform", "low": 0, "high": 10},
            "mode": {"dist": "choice", "values": ["road", "river", "air"]},
        },
    )
    design = draw_design(s)
    assert s.swing_count == 1 + 2 + 3
    effect = {"road": 0.0, "river": 10.0, "air": -3.0}
    y = {i: float(row["x1"]) + effect[row["mode"]] for i, row in enumerate(design)}
    _, found = sensitivity.swings(dict(s.parameters), y, s.design_size, dict(enumerate(design)))
    swing = {sw.parameter: sw for sw in found}
    assert (swing["mode"].low_value, swing["mode"].high_value) == ("air", "river")
    assert swing["mode"].swing == pytest.approx(13.0)
    assert [sw.parameter for sw in found] == ["mode", "x1"]


def test_tornado_bars_both_show_and_follow_the_swings(tmp_path: Any) -> None:
    from sim.sweep.analysis import tornado
    from sim.sweep.findings import Data

    found = [
        sensitivity.Swing("x1", 1.0, 9.0, 40.0, 44.0),  # both above the centre (30)
        sensitivity.Swing("x2", 1.0, 9.0, 28.0, 33.0),
        sensitivity.Swing("x3", 1.0, 9.0, 29.0, 31.0),
    ]
    data = Data(spec(), {}, [], pd.DataFrame(), pd.DataFrame(), [], 0)
    figures: list[Any] = []
    original = plt.Figure.savefig

    def keep(fig: Any, *args: Any, **kwargs: Any) -> None:
        figures.append(fig)
        original(fig, *args, **kwargs)

    plt.Figure.savefig = keep  # type: ignore[method-assign]
    try:
        tornado(data, "y", 30.0, found, tmp_path / "t.png")
    finally:
        plt.Figure.savefig = original  # type: ignore[method-assign]
    ax = figures[0].axes[0]
    bars = [p for p in ax.patches if isinstance(p, Rectangle) and p.get_height() < 0.5]
    assert len(bars) == 6
    assert all(abs(b.get_width()) > 0 for b in bars)
    # x1's two bars point the same way, side by side: neither hides the other
    x1 = sorted((b for b in bars if b.get_y() > 1.5), key=lambda b: b.get_y())
    assert x1[0].get_y() + x1[0].get_height() <= x1[1].get_y() + 1e-9
    ticks = [t.get_text().split("\n")[0] for t in ax.get_yticklabels()]
    assert ticks == ["x3", "x2", "x1"]  # bottom to top: the largest swing on top
    figures[0].canvas.draw()
    label = ax.xaxis.label.get_window_extent()
    assert label.y0 >= 0, "the x label is not cut off"
    assert label.x0 >= 0, "the x label is not cut off"


def test_prim_recovers_a_planted_box() -> None:
    rng = np.random.default_rng(1)
    x = rng.random((2000, 3))
    y = (x[:, 0] > 0.6) & (x[:, 1] < 0.3)
    feats = [prim.Feature(f"x{k + 1}", x[:, k]) for k in range(3)]
    box = prim.simplify(feats, y, prim.choose(prim.peel(feats, y)))
    box = prim.rounded(feats, y, box)
    low1, high1 = box.bounds["x1"]
    low2, high2 = box.bounds["x2"]
    assert low1 == pytest.approx(0.6, abs=0.05)
    assert high1 == pytest.approx(x[:, 0].max())
    assert high2 == pytest.approx(0.3, abs=0.05)
    assert low2 == pytest.approx(x[:, 1].min())
    assert box.bounds["x3"] == (x[:, 2].min(), x[:, 2].max())
    assert box.density > 0.85
    assert box.coverage > 0.85
    words = prim.describe(box, feats, {"x1": "KIA offensive: length (days)"})
    assert words[0].startswith("KIA offensive: length (days) is at least 0.")
    assert len(words) == 2
    assert words[1].startswith("x2 is at most")


def test_rounded_bounds_are_round() -> None:
    assert prim.nice_step(160) == 2.0
    assert prim.nice_step(0.8) == 0.02
    assert prim.nice_step(1.0) == 0.02
    assert prim.nice_step(4000) == 100.0


def test_kpis_and_parameters_have_human_names_and_units() -> None:
    s = spec(kpis={"total": "imports.china.myanmar.all.2025 + imports.china.myanmar.all.2026"})
    assert labels.kpi_title("imports.china.myanmar.all.2026", s) == (
        "China's imports from Myanmar, all products, 2026 (t)"
    )
    assert labels.kpi_title("imports.quad.myanmar.mhree.2028", s) == (
        "Quad imports (each tonne once) from Myanmar, medium/heavy, 2028 (t)"
    )
    assert labels.kpi_unit("months_below_half.china.myanmar", s) == "months"
    assert labels.kpi_unit("total", s) == "t"
    assert labels.kpi_title("peak_stockpile_t", s) == "Peak stockpile on mining sites (t)"
    assert labels.parameter_label("events.china_ultimatum.fraction", s) == (
        "china ultimatum: share refused"
    )
    named = spec(labels={"x1": "Gate closure (days)"})
    assert labels.parameter_label("x1", named) == "Gate closure (days)"


def test_designs_leave_numpys_global_generator_alone() -> None:
    np.random.seed(123)
    before = np.random.random()
    np.random.seed(123)
    designs.saltelli(8, ["a", "b"], seed=1)
    designs.morris(4, ["a", "b"], 4, seed=1)
    assert np.random.random() == before
