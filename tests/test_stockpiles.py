"""Mining into stock when sales stop, and the paced release of a backlog.

The small world (tests/builders.py): one site mining C = 100 t/day, one gate passing K = 300
t/day one day down the road, one plant; product is dispatched daily.
"""

from __future__ import annotations

from typing import Any

import pytest

from sim.model.engine import simulate
from tests.builders import RATE, build, closure, mined, one_site, passed

C = RATE
HALT_START, D = 91.0, 20.0  # 2024-04-01, for D days


def halt(days: float = D) -> dict[str, Any]:
    """The KIA sells to no one for ``days`` from 2024-04-01 (a sales halt)."""
    return {
        "kind": "buyers_change",
        "group": "kia",
        "buyers": [],
        "start": "2024-04-01",
        "days": days,
    }


def peak_stock(rep: Any) -> float:
    """Largest stock held on site after any dispatch."""
    return max(h for _, _, h in rep.ledger.stock)


@pytest.mark.parametrize("limit", [1000.0, 1e9])
def test_a_stall_fills_the_stockpile_to_the_lesser_of_limit_and_output(limit: float) -> None:
    # Dispatched daily, the site holds D days of output at its last dispatch of the halt.
    scenario = build(one_site(stop=halt()), **{"sites.mine.stockpile_limit_t": limit})
    rep = simulate(scenario, seed=1, replication=0)
    assert peak_stock(rep) == pytest.approx(min(limit, C * D))
    assert passed(rep, HALT_START + 1, HALT_START + D) == pytest.approx(0.0)


def test_without_expected_margin_mining_stops_with_sales() -> None:
    scenario = build(one_site(stop=halt()), **{"supply_response.unsold_margin_share": 0.0})
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, HALT_START, HALT_START + D) == pytest.approx(0.0)


def test_unsold_product_is_mined_at_the_utilisation_of_the_discounted_margin() -> None:
    # price 2000, levy 1000: margin 1000 = full margin -> utilisation 1 while selling;
    # counting half of it for unsold product -> utilisation 0.5 during the halt.
    scenario = build(
        one_site(stop=halt()),
        **{"groups.kia.levy_usd_per_t": 1000.0, "supply_response.unsold_margin_share": 0.5},
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 10, 90) == pytest.approx(80 * C)
    assert mined(rep, HALT_START, HALT_START + D) == pytest.approx(0.5 * C * D)


@pytest.mark.parametrize("surge", [0.5, 1.0])
def test_a_backlog_leaves_at_the_paced_rate(surge: float) -> None:
    # The halt leaves S = C D on site; afterwards the site ships (1 + surge) C a day, so the
    # backlog drains at surge C a day, over S / (surge C) days; then the flow is C again.
    # (A batch sent on day n passes the gate over [n, n + 1]: see Crossing.book.)
    scenario = build(one_site(stop=halt()), **{"haulage.release_surge": surge})
    rep = simulate(scenario, seed=1, replication=0)
    drain = C * D / (surge * C)
    arrive = HALT_START + D
    assert passed(rep, arrive + 1, arrive + drain - 1) == pytest.approx(
        (1 + surge) * C * (drain - 2), rel=0.01
    )
    assert passed(rep, arrive + drain + 2, arrive + drain + 22) == pytest.approx(20 * C, rel=0.01)


def test_the_release_after_a_closure_is_paced_too() -> None:
    # A closure of 30 days leaves 30 days of output on site; with surge 0.5 it leaves over 60
    # days at 150 t/day instead of at the gate's 300 t/day.
    scenario = build(one_site(shut=closure("2024-03-01", 30)), **{"haulage.release_surge": 0.5})
    rep = simulate(scenario, seed=1, replication=0)
    reopen = 90.0
    assert passed(rep, reopen + 3, reopen + 50) == pytest.approx(1.5 * C * 47, rel=0.01)


def test_no_pacing_by_default_a_backlog_leaves_at_gate_capacity() -> None:
    rep = simulate(build(one_site(stop=halt())), seed=1, replication=0)
    arrive = HALT_START + D
    drain = C * D / (300.0 - C)
    assert passed(rep, arrive + 1, arrive + drain - 1) == pytest.approx(
        300.0 * (drain - 2), rel=0.02
    )


def test_product_held_at_a_shut_gate_is_counted_as_stock_at_gates() -> None:
    # The batch sent on day 59 reaches the gate as it closes for good on day 60 and waits there.
    shut = {"kind": "border_closure", "crossing": "gate", "start": "2024-03-01"}
    rep = simulate(build(one_site(shut=shut)), seed=1, replication=0)
    assert rep.at_gates[0] == pytest.approx(C)
    assert rep.in_transit[0] == pytest.approx(C), "stock at gates is part of what is on the road"
