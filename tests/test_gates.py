"""Partial, goods-specific, leaky and gradual closures, and closures with an end date.

The small world (tests/builders.py): one site mining C = 100 t/day, one gate passing K = 300
t/day one day down the road, one plant; product is dispatched daily.
"""

from __future__ import annotations

from typing import Any

import pytest

from sim.model.engine import simulate
from tests.builders import RATE, build, closure, mined, one_site, passed

C, K = RATE, 300.0
SHUT, D = 60.0, 60.0  # 2024-03-01 for 60 days


def run(*events: dict[str, Any], **overrides: Any) -> Any:
    data = one_site(**{f"e{i}": e for i, e in enumerate(events)})
    return simulate(build(data, **overrides), seed=1, replication=0)


@pytest.mark.parametrize("share", [0.1, 0.25])
def test_a_gate_at_fraction_f_passes_f_of_its_capacity(share: float) -> None:
    # f K < C: the gate passes f K a day while the closure lasts, the rest waits on site
    rep = run(closure("2024-03-01", D, capacity_share=share))
    assert passed(rep, SHUT + 5, SHUT + D) == pytest.approx(share * K * (D - 5), rel=0.01)


def test_a_partial_gate_above_the_flow_does_not_bind() -> None:
    rep = run(closure("2024-03-01", D, capacity_share=0.5))
    assert passed(rep, SHUT + 5, SHUT + D) == pytest.approx(C * (D - 5), rel=0.01)


def test_smuggling_through_a_shut_gate_passes_the_leak_share() -> None:
    rep = run(closure("2024-03-01", D, leak_share=0.05))
    assert passed(rep, SHUT + 5, SHUT + D) == pytest.approx(0.05 * K * (D - 5), rel=0.01)


def test_a_closure_for_reagents_only_lets_product_through_but_stops_mining() -> None:
    rep = run(
        closure("2024-03-01", D, goods=["reagents"]),
        **{"sites.mine.reagent_crossing": "gate", "sites.mine.reagent_stock_days": 10},
    )
    assert mined(rep, SHUT, SHUT + D) == pytest.approx(10 * C)
    assert passed(rep, SHUT + 1, SHUT + 11) == pytest.approx(10 * C, rel=0.01)


def test_a_closure_for_rare_earths_only_leaves_reagents_flowing() -> None:
    rep = run(
        closure("2024-03-01", D, goods=["rare_earths"]),
        **{"sites.mine.reagent_crossing": "gate", "sites.mine.reagent_stock_days": 10},
    )
    assert mined(rep, SHUT, SHUT + D) == pytest.approx(D * C), "mines into stock throughout"
    assert passed(rep, SHUT + 1, SHUT + D) == pytest.approx(0.0)


def test_fuel_runs_out_like_reagents() -> None:
    rep = run(
        closure("2024-03-01", D, goods=["fuel"]),
        **{"sites.mine.fuel_crossing": "gate", "sites.mine.fuel_stock_days": 7},
    )
    assert mined(rep, SHUT, SHUT + D) == pytest.approx(7 * C)
    assert mined(rep, SHUT + D, SHUT + D + 30) == pytest.approx(30 * C), "refilled on reopening"


def test_the_scarcer_input_binds() -> None:
    rep = run(
        closure("2024-03-01", D),
        **{
            "sites.mine.reagent_crossing": "gate",
            "sites.mine.reagent_stock_days": 20,
            "sites.mine.fuel_crossing": "gate",
            "sites.mine.fuel_stock_days": 5,
        },
    )
    assert mined(rep, SHUT, SHUT + D) == pytest.approx(5 * C)


def test_a_partial_closure_does_not_cut_inputs() -> None:
    rep = run(
        closure("2024-03-01", D, capacity_share=0.2),
        **{"sites.mine.reagent_crossing": "gate", "sites.mine.reagent_stock_days": 5},
    )
    assert mined(rep, SHUT, SHUT + D) == pytest.approx(D * C)


def test_a_gradual_reopening_passes_the_integral_of_its_ramp() -> None:
    # Shut for 60 days (backlog 6,000 t), then back to full capacity over R = 20 days from 0:
    # while the backlog lasts the gate passes K t / R a day at day t of the ramp, K R / 2 in all.
    ramp = 20.0
    rep = run(closure("2024-03-01", D, ramp_days=ramp))
    reopen = SHUT + D
    assert passed(rep, reopen, reopen + ramp) == pytest.approx(K * ramp / 2, rel=0.01)
    assert passed(rep, reopen, reopen + ramp / 2) == pytest.approx(K * ramp / 8, rel=0.01)
    assert passed(rep, reopen + ramp, reopen + ramp + 5) == pytest.approx(5 * K, rel=0.01)


def test_a_ramp_starts_from_the_closures_share() -> None:
    # From a 20% share to full over 20 days: K (0.2 + 0.8 t / 20) a day, K 20 (0.2 + 0.4) in all.
    rep = run(closure("2024-03-01", D, capacity_share=0.2, ramp_days=20.0))
    reopen = SHUT + D
    assert passed(rep, reopen, reopen + 20) == pytest.approx(K * 20 * 0.6, rel=0.01)


def test_overlapping_restrictions_take_the_smaller_share() -> None:
    rep = run(
        closure("2024-03-01", D, capacity_share=0.25),
        closure("2024-03-11", 20, capacity_share=0.1),
    )
    assert passed(rep, SHUT + 15, SHUT + 30) == pytest.approx(0.1 * K * 15, rel=0.02)
    assert passed(rep, SHUT + 35, SHUT + 55) == pytest.approx(0.25 * K * 20, rel=0.02)


def test_a_closure_with_an_end_date_equals_one_with_days() -> None:
    by_days = run(closure("2024-03-01", 30))
    by_end = run(closure("2024-03-01", None, end="2024-03-31"))
    assert by_end.ledger.passed == by_days.ledger.passed
    assert [e[1] for e in by_end.ledger.events] == ["border_closed", "border_reopened"]


def test_smuggling_cost_ranks_an_open_route_first() -> None:
    # A second gate on a dearer road: while the first gate only leaks (at USD 1,000/t on top),
    # the open road is better and carries the flow.
    data = one_site(shut=closure("2024-03-01", D, leak_share=0.5, leak_cost_usd_per_t=1000))
    data["crossings"]["side_gate"] = {"name": "Side", "importer": "china", "capacity_tpd": 300}
    data["routes"]["side_road"] = {
        "sites": ["mine"],
        "legs": [
            {"to": "side_gate", "days": 1, "cost_usd_per_t": 500},
            {"to": "plant", "days": 2},
        ],
    }
    rep = simulate(build(data), seed=1, replication=0)
    by_gate = {0: 0.0, 1: 0.0}
    for t0, _, gate, *_, m, lr in rep.ledger.passed:
        if SHUT + 5 <= t0 < SHUT + D:
            by_gate[gate] += m + lr
    assert by_gate[0] == pytest.approx(0.0)
    assert by_gate[1] == pytest.approx(C * (D - 5), rel=0.02)
