"""Seasons (recurring monthly profiles of mining and haulage) and recurring events.

The small world (tests/builders.py): one site in region "kachin" mining C = 100 t/day, one gate
one day down the road, one plant; product is dispatched daily.
"""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest

from sim.errors import InputError
from sim.model.clock import Clock
from sim.model.engine import simulate
from sim.scenario.loader import validate_data
from sim.scenario.schema import Scenario
from tests.builders import RATE, build, closure, mined, one_site, passed

C = RATE
CLOCK = Clock(date(2024, 1, 1), date(2024, 12, 31))
APRIL = (CLOCK.day(date(2024, 4, 1)), CLOCK.day(date(2024, 5, 1)))
MAY = (CLOCK.day(date(2024, 5, 1)), CLOCK.day(date(2024, 6, 1)))


def season(affects: str, depth: dict[str, float], **more: Any) -> dict[str, Any]:
    return {"affects": affects, "depth": depth, **more}


def with_seasons(*seasons: dict[str, Any], **overrides: Any) -> Scenario:
    data = one_site()
    data["seasons"] = {f"s{i}": z for i, z in enumerate(seasons)}
    return build(data, **overrides)


@pytest.mark.parametrize("depth", [0.3, 1.0])
def test_a_mining_season_of_depth_d_lowers_that_month_by_d(depth: float) -> None:
    rep = simulate(with_seasons(season("mining", {"apr": depth})), seed=1, replication=0)
    a, b = APRIL
    assert mined(rep, a, b) == pytest.approx((1 - depth) * C * (b - a))
    assert mined(rep, b, b + 31) == pytest.approx(C * 31), "the next month is untouched"


def test_seasons_on_one_site_multiply() -> None:
    scenario = with_seasons(season("mining", {"apr": 0.5}), season("mining", {"apr": 0.2}))
    rep = simulate(scenario, seed=1, replication=0)
    a, b = APRIL
    assert mined(rep, a, b) == pytest.approx(0.5 * 0.8 * C * (b - a))


def test_a_season_recurs_only_in_its_years() -> None:
    for years, factor in [(None, 0.5), ([2024], 0.5), ([2023, 2025], 1.0)]:
        z = season("mining", {"apr": 0.5}, years=years)
        rep = simulate(with_seasons(z), seed=1, replication=0)
        a, b = APRIL
        assert mined(rep, a, b) == pytest.approx(factor * C * (b - a))


def test_a_season_applies_to_its_regions_and_sites_only() -> None:
    for where, factor in [({"regions": ["shan"]}, 1.0), ({"regions": ["kachin"]}, 0.5)]:
        z = season("mining", {"apr": 0.5}, **where)
        data = one_site()
        data["sites"]["other"] = {**data["sites"]["mine"], "name": "Other", "region": "shan"}
        data["seasons"] = {"z": z}
        rep = simulate(build(data), seed=1, replication=0)
        a, b = APRIL
        by_site = sum(
            r[4] + r[5] for r in rep.ledger.mined if r[2] == 0 and a <= r[0] and r[1] <= b
        )
        assert by_site == pytest.approx(factor * C * (b - a), rel=0.01)


def test_a_transport_season_lowers_the_haulage_by_its_depth() -> None:
    # Haulage (1 + 0.5) C, less 60% in May: 0.6 C a day leaves, the rest waits on site, then
    # leaves at the paced rate.
    scenario = with_seasons(season("transport", {"may": 0.6}), **{"haulage.release_surge": 0.5})
    rep = simulate(scenario, seed=1, replication=0)
    a, b = MAY
    assert passed(rep, a + 1, b) == pytest.approx(0.6 * C * (b - a - 1), rel=0.01)
    assert mined(rep, a, b) == pytest.approx(C * (b - a)), "mining goes on into stock"
    backlog = 0.4 * C * (b - a)
    assert passed(rep, b + 1, b + 1 + backlog / (0.5 * C)) == pytest.approx(
        1.5 * C * backlog / (0.5 * C), rel=0.03
    )


def test_a_transport_season_needs_a_finite_haulage() -> None:
    data = one_site()
    data["seasons"] = {"monsoon": season("transport", {"jul": 0.3})}
    with pytest.raises(InputError, match=r"seasons\.monsoon\.affects: .*release_surge"):
        validate_data(data, _provenance())


def test_an_unknown_region_is_a_located_problem_with_a_suggestion() -> None:
    data = one_site()
    data["seasons"] = {"monsoon": season("mining", {"jul": 0.3}, regions=["kachn"])}
    with pytest.raises(InputError, match=r"seasons\.monsoon\.regions\.0: .*did you mean 'kachin'"):
        validate_data(data, _provenance())


def _provenance() -> Any:
    from sim.scenario.loader import OVERRIDE, Location, Provenance

    return Provenance(Location(OVERRIDE))


def closed_reopened(rep: Any) -> list[tuple[float, str]]:
    return [(t, k) for t, k, *_ in rep.ledger.events if k in ("border_closed", "border_reopened")]


def test_a_recurring_event_happens_every_n_months_the_given_times() -> None:
    event = {**closure("2024-01-10", 5), "repeat": {"every_months": 3, "times": 3}}
    rep = simulate(build(one_site(shut=event)), seed=1, replication=0)
    starts = [t for t, k in closed_reopened(rep) if k == "border_closed"]
    expected = [CLOCK.day(date(2024, m, 10)) for m in (1, 4, 7)]
    assert starts == expected
    assert [o[0] for o in rep.ledger.outcomes] == ["shut", "shut#2", "shut#3"]


def test_a_recurring_event_without_times_recurs_to_the_horizon() -> None:
    event = {**closure("2024-01-31", None, end="2024-02-05"), "repeat": {"every_months": 1}}
    rep = simulate(build(one_site(shut=event)), seed=1, replication=0)
    events = closed_reopened(rep)
    starts = [t for t, k in events if k == "border_closed"]
    assert len(starts) == 12
    # the day is kept, or the month's last day: 31 Jan, 29 Feb, 31 Mar, 30 Apr, ...
    assert starts[1] == CLOCK.day(date(2024, 2, 29))
    reopens = [t for t, k in events if k == "border_reopened"]
    assert reopens[0] == CLOCK.day(date(2024, 2, 5))
    assert reopens[1] == CLOCK.day(date(2024, 3, 5))


def test_each_occurrence_draws_its_own_duration() -> None:
    event = {
        **closure("2024-01-10", None),
        "days": {"dist": "uniform", "low": 5, "high": 25},
        "repeat": {"every_months": 2, "times": 4},
    }
    rep = simulate(build(one_site(shut=event)), seed=3, replication=0)
    events = closed_reopened(rep)
    lengths = [b[0] - a[0] for a, b in zip(events[::2], events[1::2], strict=True)]
    assert len(set(lengths)) == 4
    # the first occurrence draws exactly as the same event without repeat
    once = simulate(build(one_site(shut={**event, "repeat": None})), seed=3, replication=0)
    first = closed_reopened(once)
    assert first[1][0] - first[0][0] == lengths[0]
