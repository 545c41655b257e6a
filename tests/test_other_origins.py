"""Supply from elsewhere: fixed levels, and suppliers that answer a shortfall of the modelled
origins within their capacity and ramp.

The small world (tests/builders.py): one site mining C = 100 t/day (3,044 t a month) for China.
"""

from __future__ import annotations

from dataclasses import fields
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim import load_scenario
from sim.errors import InputError
from sim.model import engine
from sim.model.agenda import Environment
from sim.model.clock import DAYS_PER_MONTH, Clock
from sim.model.draws import replication_seed
from sim.model.engine import simulate
from sim.model.market import Market
from sim.model.world import World
from sim.results.kpis import reduce
from sim.scenario.loader import OVERRIDE, Location, Provenance, validate_data
from tests.builders import RATE, build, china_ban, one_site

ROOT = Path(__file__).resolve().parent.parent

FULL = RATE * DAYS_PER_MONTH
"""The site's full-capacity output, t/month."""


def supplier(respond: bool = True, **response: Any) -> dict[str, Any]:
    """Laos: 100 t/month of medium/heavy, answering China's shortfall (unless not to respond):
    all of it, up to 1,000 t/month more, ramping by 1,200 t/month a year."""
    entry: dict[str, Any] = {
        "importer": "china",
        "origin": "laos",
        "levels": [{"start": "2024-01-01", "tpm": {"mhree": 100.0}}],
    }
    if respond:
        entry["response"] = {
            "share": 1.0,
            "capacity_tpm": {"mhree": 1000.0},
            "ramp_tpm_per_year": {"mhree": 1200.0},
            **response,
        }
    return entry


def world(*events: dict[str, Any], **suppliers: dict[str, Any]) -> dict[str, Any]:
    data = one_site(**{f"e{i}": e for i, e in enumerate(events)})
    data["supply_response"]["unsold_margin_share"] = 0.0
    data["other_supply"] = suppliers
    return data


def monthly_extra(rep: Any, supplier: int = 0, base: float = 100.0) -> list[float]:
    """The supplier's output above its level in each month, t/month (medium/heavy)."""
    days = np.diff(_bounds())
    out = []
    for month, index, mhree, _ in rep.ledger.supplied:
        if index == supplier:
            out.append(mhree * DAYS_PER_MONTH / days[month] - base)
    return out


def _bounds() -> np.ndarray:
    from datetime import date

    from sim.model.clock import Clock

    return Clock(date(2024, 1, 1), date(2024, 12, 31)).bounds


def test_fixed_levels_are_delivered_day_by_day() -> None:
    s = build(world(china_ban(1.0, "2024-02-01"), laos=supplier(respond=False)))
    rep = simulate(s, seed=1, replication=0)
    assert monthly_extra(rep) == pytest.approx([0.0] * 12, abs=1e-9)
    cube = reduce(s, rep).imports  # importer, origin, product, month
    assert cube[0, 0, 0].sum() == pytest.approx(100.0 * 366 / DAYS_PER_MONTH)


def test_without_a_shortfall_there_is_no_response() -> None:
    rep = simulate(build(world(laos=supplier(share=1.0))), seed=1, replication=0)
    assert max(abs(x) for x in monthly_extra(rep)) < 1e-6


def test_a_shortfall_draws_extra_output_at_the_ramp_rate() -> None:
    # From February China takes nothing: a shortfall of 3,044 t/month. Laos sees it once the
    # month is over and acts from April, adding 100 t/month each month (1,200 t/month a year).
    rep = simulate(build(world(china_ban(1.0, "2024-02-01"), laos=supplier())), 1, 0)
    extra = monthly_extra(rep)
    assert extra[:3] == pytest.approx([0.0, 0.0, 0.0], abs=1e-6)
    assert extra[3:] == pytest.approx([100.0 * k for k in range(1, 10)], rel=1e-9)


def test_the_response_is_capped_by_the_share_and_the_capacity() -> None:
    half = simulate(build(world(china_ban(1.0, "2024-02-01"), laos=supplier(share=0.1))), 1, 0)
    assert max(monthly_extra(half)) == pytest.approx(0.1 * FULL, rel=1e-6)
    capped = simulate(
        build(world(china_ban(1.0, "2024-02-01"), laos=supplier(capacity_tpm={"mhree": 250.0}))),
        1,
        0,
    )
    assert max(monthly_extra(capped)) == pytest.approx(250.0)


def test_extra_output_declines_when_the_modelled_origins_recover() -> None:
    ban = {**china_ban(1.0, "2024-02-01"), "days": 120}  # lifted on 31 May
    decline = {"mhree": 2400.0}
    rep = simulate(build(world(ban, laos=supplier(decline_tpm_per_year=decline))), 1, 0)
    extra = monthly_extra(rep)
    peak = int(np.argmax(extra))
    after = extra[peak:]
    assert after[-1] == pytest.approx(0.0, abs=1e-6)
    steps = np.diff(after)
    assert steps.min() >= -200.0 - 1e-6, "falls by at most 2,400 / 12 a month"


def test_domestic_supply_feeds_the_market_but_is_not_an_import() -> None:
    home = {**supplier(), "origin": "china", "domestic": True}
    s = build(world(home=home))
    rep = simulate(s, seed=1, replication=0)
    assert sum(r[2] for r in rep.ledger.supplied) == pytest.approx(100.0 * 366 / DAYS_PER_MONTH)
    cube = reduce(s, rep).imports
    assert cube.shape[1] == 1, "only Myanmar is an origin of imports"


def test_response_shares_of_one_importer_add_up_to_at_most_one() -> None:
    data = world(laos=supplier(share=0.7), malaysia={**supplier(share=0.6), "origin": "malaysia"})
    with pytest.raises(InputError, match=r"add up to 1\.3"):
        validate_data(data, Provenance(Location(OVERRIDE)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    start=st.integers(1, 11),
    days=st.integers(0, 300),
    share=st.floats(0, 1),
    cap=st.floats(0, 3000),
    ramp=st.floats(1, 5000),
)
def test_extra_output_stays_within_capacity_and_ramp(
    start: int, days: int, share: float, cap: float, ramp: float
) -> None:
    ban = {**china_ban(1.0, f"2024-{start + 1:02d}-01"), "days": days}
    laos = supplier(share=share, capacity_tpm={"mhree": cap}, ramp_tpm_per_year={"mhree": ramp})
    rep = simulate(build(world(ban, laos=laos)), seed=1, replication=0)
    extra = np.array(monthly_extra(rep))
    assert extra.min() >= -1e-6
    assert extra.max() <= cap + 1e-6
    assert np.abs(np.diff(extra)).max(initial=0.0) <= ramp / 12 + 1e-6


def test_a_market_s_shared_references_are_read_only_while_its_capacity_is_as_declared() -> None:
    """``Market.memo``: references worked out by one replication are read by the next only
    while no capacity change has touched a reference site; after one, the market works its
    references out, as a market without a memo does."""
    scenario = load_scenario(ROOT / "scenarios" / "kia_offensive.yaml")
    clock = Clock(scenario.first_day, scenario.end)
    months = range(2, len(clock.month_starts))
    shared: dict[int, list[tuple[float, float] | None]] = {}

    def market(references: dict[int, list[tuple[float, float] | None]] | None) -> Market:
        world = World(scenario, Environment(), clock, replication_seed(1, 0), references)
        return world.markets[0]

    first = market(shared)
    declared = [first.reference(m) for m in months]  # fills the memo
    assert all(shared[first.importer][m] is not None for m in months)
    later, alone = market(shared), market(None)
    assert [later.reference(m) for m in months] == declared
    for each in (later, alone):  # the same capacity change in both
        each.sites[0].capacity.change(clock.bounds[40], "cut", 0.5)
    assert [later.reference(m) for m in months] == [alone.reference(m) for m in months]
    assert [later.reference(m) for m in months] != declared


def test_a_replication_gives_the_same_after_others_shared_its_scenario_s_figures() -> None:
    """The figures replications of a scenario share (``engine.Shared``: the clock, season
    factors, markets' references while no capacity change touched a reference site) give
    each replication what it works out alone: kia_offensive's capacity changes and seasons,
    a replication run first (nothing shared yet) and again after four others."""
    scenario = load_scenario(ROOT / "scenarios" / "kia_offensive.yaml")
    engine.LAST[0] = (None, None)
    alone = simulate(scenario, 3, 4)
    for replication in range(4):
        simulate(scenario, 3, replication)
    again = simulate(scenario, 3, 4)
    assert engine.LAST[0][0] is scenario
    for part in fields(alone.ledger):
        assert getattr(again.ledger, part.name).rows() == getattr(alone.ledger, part.name).rows()
    assert again.final_stock == alone.final_stock
