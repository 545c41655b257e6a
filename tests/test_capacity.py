"""Capacity over time: a site's or processor's capacity path, and capacity_change events.

The small world (tests/builders.py): one site mining C = 100 t/day at full utilisation,
dispatched daily, one gate, one plant.
"""

from __future__ import annotations

from typing import Any

import pytest

from sim.errors import InputError
from sim.model.capacity import Capacity, ramped_days
from sim.model.clock import DAYS_PER_MONTH
from sim.model.engine import simulate
from sim.scenario.loader import OVERRIDE, Location, Provenance, validate_data
from tests.builders import RATE, build, mined, one_site

C = RATE
HORIZON = 366.0
APRIL = 91.0  # 2024-04-01


def change(start: str, factor: float, days: float | None = None, **targets: Any) -> dict[str, Any]:
    return {"kind": "capacity_change", "start": start, "days": days, "factor": factor, **targets}


def test_a_flat_path_scales_output_by_its_factor() -> None:
    scenario = build(
        one_site(), **{"sites.mine.capacity_path": [{"start": "2020-01-01", "factor": 0.4}]}
    )
    assert mined(simulate(scenario, seed=1, replication=0), 0, HORIZON) == pytest.approx(
        0.4 * C * HORIZON
    )


def test_a_linear_path_grows_output_along_it() -> None:
    # 0 on Jan 1, 1 on Jan 31 (day 30): 15 full days' worth in January, full after
    path = [{"start": "2024-01-01", "factor": 0.0}, {"start": "2024-01-31", "factor": 1.0}]
    rep = simulate(build(one_site(), **{"sites.mine.capacity_path": path}), seed=1, replication=0)
    assert mined(rep, 0, 30) == pytest.approx(15 * C)
    assert mined(rep, 30, HORIZON) == pytest.approx(C * (HORIZON - 30))


def test_a_path_that_began_before_the_run_is_in_force_from_its_start() -> None:
    # 0.2 on 2023-01-01 to 1.0 on 2025-01-01 (731 days): at 2024-01-01 (day 365 of the path)
    # the factor is 0.2 + 0.8 x 365/731; the year's output is the integral of the line.
    path = [{"start": "2023-01-01", "factor": 0.2}, {"start": "2025-01-01", "factor": 1.0}]
    rep = simulate(build(one_site(), **{"sites.mine.capacity_path": path}), seed=1, replication=0)
    f0 = 0.2 + 0.8 * 365 / 731
    f1 = 0.2 + 0.8 * (365 + HORIZON) / 731
    assert mined(rep, 0, HORIZON) == pytest.approx(C * HORIZON * (f0 + f1) / 2)


def test_a_capacity_change_multiplies_output_while_it_lasts() -> None:
    cut = change("2024-04-01", 0.5, days=30, sites=["mine"])
    rep = simulate(build(one_site(cut=cut)), seed=1, replication=0)
    assert mined(rep, APRIL, APRIL + 30) == pytest.approx(0.5 * C * 30)
    assert mined(rep, APRIL + 30, HORIZON) == pytest.approx(C * (HORIZON - APRIL - 30))
    assert [e[1] for e in rep.ledger.events] == ["capacity_change", "capacity_restored"]


def test_overlapping_capacity_changes_multiply() -> None:
    a = change("2024-04-01", 0.5, days=30, sites=["mine"])
    b = change("2024-04-11", 1.5, days=10, sites=["mine"])
    rep = simulate(build(one_site(a=a, b=b)), seed=1, replication=0)
    assert mined(rep, APRIL, APRIL + 30) == pytest.approx(C * (20 * 0.5 + 10 * 0.75))


def test_a_processor_cut_lowers_what_it_separates() -> None:
    # A plant of 1,000 t/month (mhree) fed 100 t/day works at capacity; cut by a quarter from
    # 2024-03-16 (day 75) to the end of March: March separates 15 days at full capacity and 16
    # at three quarters.
    cut = change("2024-03-16", 0.75, days=30, processors=["plant"])
    scenario = build(
        one_site(cut=cut), **{"processors.plant.capacity_tpm": {"mhree": 1000, "lree": 0}}
    )
    rep = simulate(scenario, seed=1, replication=0)
    by_month = {month: m for month, _, m, _ in rep.ledger.processed}
    per_day = 1000 / DAYS_PER_MONTH
    assert by_month[1] == pytest.approx(29 * per_day)
    assert by_month[2] == pytest.approx(per_day * (15 + 16 * 0.75))
    assert by_month[3] == pytest.approx(per_day * (14 * 0.75 + 16))


def test_a_processor_path_integrates_exactly_with_its_opening_ramp() -> None:
    capacity = Capacity([(0.0, 0.5), (100.0, 1.5)])
    # ramp from day 20 over 40 days; integral of opening(t) x path(t) over [0, 120]
    numeric = sum(
        min(1.0, max(0.0, (t - 20) / 40)) * capacity.along_path(t) * 0.001
        for t in (i * 0.001 + 0.0005 for i in range(120_000))
    )
    assert capacity.integral(0.0, 120.0, 20.0, 40.0) == pytest.approx(numeric, rel=1e-6)
    assert Capacity([]).integral(3.0, 50.0, 10.0, 15.0) == ramped_days(3.0, 50.0, 10.0, 15.0)


@pytest.mark.parametrize(
    ("overrides", "event", "message"),
    [
        ({}, change("2024-02-01", 0.5), "name sites, processors or both"),
        ({}, change("2024-02-01", 0.5, processors=["plnt"]), "did you mean 'plant'"),
        (
            {
                "sites.mine.capacity_path": [
                    {"start": "2024-02-01", "factor": 1},
                    {"start": "2024-01-01", "factor": 2},
                ]
            },
            None,
            "date order",
        ),
    ],
)
def test_capacity_mistakes_are_located(
    overrides: dict[str, Any], event: dict[str, Any] | None, message: str
) -> None:
    data = one_site(bad=event) if event else one_site()
    for path, value in overrides.items():
        site = data["sites"]["mine"]
        site[path.rsplit(".", 1)[1]] = value
    with pytest.raises(InputError, match=message):
        validate_data(data, Provenance(Location(OVERRIDE)))
