"""The Quad counted once: a tonne bound for the US crosses India first and is counted at both
borders by the importers, but only once, at its first Quad border, in every Quad figure."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.cli import main
from sim.compare import compare
from sim.compare.comparison import kpi_table, tables
from sim.results.kpis import first_quad_entries, quad_destinations, route_destination
from sim.results.runner import run
from sim.results.series import quad_from_myanmar
from tests.builders import build, one_site


def corridor() -> dict[str, Any]:
    """One KIA site selling only to the Quad: half its product by road to an Indian plant,
    half through the same Indian gate and on by sea to a US plant (each leg 20 t/day)."""
    data = one_site()
    data["name"] = "corridor"
    data["groups"]["kia"]["buyers"] = ["india", "us"]
    data["importers"]["us"] = {"name": "United States", "quad": True}
    data["crossings"]["pass"] = {"name": "Pass", "importer": "india", "capacity_tpd": 1000}
    data["crossings"]["port"] = {"name": "Port", "importer": "us", "capacity_tpd": 1000}
    for pid, country in (("india_plant", "india"), ("us_plant", "us")):
        data["processors"][pid] = {
            "name": pid,
            "country": country,
            "quad": True,
            "capacity_tpm": {"mhree": 1e6, "lree": 1e6},
            "price_usd_per_t": {"mhree": 2000, "lree": 2000},
        }
    data["routes"] = {
        "to_india": {
            "sites": ["mine"],
            "legs": [
                {"to": "pass", "days": 1, "capacity_tpd": 20},
                {"to": "india_plant", "days": 1},
            ],
        },
        "to_us": {
            "sites": ["mine"],
            "legs": [
                {"to": "pass", "days": 1, "capacity_tpd": 20},
                {"to": "port", "days": 10},
                {"to": "us_plant", "days": 1},
            ],
        },
    }
    return data


@pytest.fixture(scope="module")
def result() -> Any:
    return run(build(corridor()), seed=3, replications=2)


def test_routes_enter_the_quad_once_and_are_bound_for_their_plants_country() -> None:
    s = build(corridor())
    assert first_quad_entries(s) == {"to_india": "pass", "to_us": "pass"}
    assert route_destination(s, "to_india") == "india"
    assert route_destination(s, "to_us") == "us"
    assert quad_destinations(s) == ["india", "us"]


def test_quad_kpis_count_each_tonne_once_and_break_down_by_destination(result: Any) -> None:
    k = result.wide_kpis()
    india = k["imports.india.myanmar.all.2024"]
    us = k["imports.us.myanmar.all.2024"]
    quad = k["imports.quad.myanmar.all.2024"]
    assert (us > 1000).all(), "the US leg carries product"
    # every Quad tonne crossed the Indian pass: India's count is the Quad's, the US's is extra
    np.testing.assert_allclose(quad, india, rtol=1e-9)
    assert (india + us > quad + 1000).all()
    bound_india = k["quad_bound.india.myanmar.2024"]
    bound_us = k["quad_bound.us.myanmar.2024"]
    np.testing.assert_allclose(bound_india + bound_us, quad, rtol=1e-9)
    # a tonne counted at the US port crossed the pass 10 days before: same tonnes, shifted
    assert (abs(bound_us - us) < 20 * 10 + 1e-6).all()


def test_compare_tables_show_the_quad_once_with_its_breakdown(result: Any) -> None:
    c = compare([build(corridor())], seed=3, replications=2)
    kpis = kpi_table(c)
    annual = tables(c, kpis).annual.loc["corridor"]
    measures = list(annual.index)
    assert "Quad from Myanmar, each tonne once" in measures
    assert not any(m.startswith(("India from", "US from")) for m in measures)
    quad = annual.loc["Quad from Myanmar, each tonne once", "total"]
    india = annual.loc["  of which bound for India", "total"]
    us = annual.loc["  of which bound for United States", "total"]
    assert quad == pytest.approx(india + us)
    monthly = quad_from_myanmar(c.results[0]).sum(axis=1).mean()
    assert quad == pytest.approx(monthly)


def test_run_prints_the_quad_once(tmp_path: Any, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "corridor.yaml"
    import yaml

    path.write_text(yaml.safe_dump(corridor()))
    assert main(["run", str(path), "--out", str(tmp_path / "out"), "--no-plot"]) == 0
    out = capsys.readouterr().out
    assert "Quad from Myanmar, each tonne once" in out
    assert "of which bound for United States" in out
    assert "US from Myanmar" not in out
