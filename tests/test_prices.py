"""Feed prices that follow the shortfall of China's processors' intake, and feed back into
netbacks and mining margins.

The small world (tests/builders.py): one site mining C = 100 t/day (all medium/heavy), one gate
one day down the road, one plant in China paying 2,000 USD/t. China's market counts the site
(its reference: C a day) and, with a price response of flexibility 1, sets the price factor to
1 + (share of intake short), from the month after next (month m's shortfall is known once
month m + 1 is over).
"""

from __future__ import annotations

from typing import Any

import pytest

from sim import run
from sim.model.engine import simulate
from tests.builders import RATE, build, closure, mined, one_site

C = RATE
PRICE = 2000.0


def priced(adjust: float = 1.0, levy: float = 0.0, **events: dict[str, Any]) -> Any:
    data = one_site(**events)
    data["markets"] = {
        "china": {"price": {"flexibility": {"mhree": 1.0}, "adjust_months": adjust, "cap": 3}}
    }
    return build(data, **{"groups.kia.levy_usd_per_t": levy})


def by_month(rep: Any) -> dict[int, float]:
    return {month: m for month, _, m, _ in rep.ledger.prices}


SHUT = closure("2024-04-01", 91)  # April to June, nothing passes


def test_prices_stay_put_while_supply_meets_intake() -> None:
    prices = by_month(simulate(priced(), seed=1, replication=0))
    assert len(prices) == 12
    assert max(abs(p - PRICE) for p in prices.values()) < 1.0


def test_a_month_without_supply_doubles_the_price_two_months_on() -> None:
    # April: nothing crosses, the whole intake is short: factor 1 + 1 x 1 = 2 from June
    prices = by_month(simulate(priced(shut=SHUT), seed=1, replication=0))
    assert prices[2] == pytest.approx(PRICE, rel=1e-3)  # March
    # May answers March: supplied but for the day held at the gate from April 1
    assert prices[4] == pytest.approx(PRICE * (1 + 1 / 31))
    assert prices[5] == pytest.approx(2 * PRICE, rel=0.02)  # June answers April
    assert prices[6] == pytest.approx(2 * PRICE, rel=0.02)  # July answers May


def test_the_price_closes_its_gap_over_adjust_months() -> None:
    prices = by_month(simulate(priced(adjust=2.0, shut=SHUT), seed=1, replication=0))
    assert prices[5] == pytest.approx(1.5 * PRICE, rel=0.02)  # half way to 2
    assert prices[6] == pytest.approx(1.75 * PRICE, rel=0.02)


def test_a_surplus_lowers_the_price_down_to_its_floor() -> None:
    # The backlog of April-June crosses in July (unlimited release): a surplus of ~3 months'
    # intake, so the factor aims at 1 - 3 and stops at the floor, 0.5, in September.
    prices = by_month(simulate(priced(shut=SHUT), seed=1, replication=0))
    assert prices[8] == pytest.approx(0.5 * PRICE)


def test_a_dearer_feed_raises_the_mining_margin() -> None:
    # Levy 1,500: margin 500, utilisation 0.5 at 2,000 USD/t; at 4,000 the margin is 2,500 and
    # the site works flat out (into stock while the gate is shut).
    rep = simulate(priced(levy=1500.0, shut=SHUT), seed=1, replication=0)
    assert mined(rep, 60, 90) == pytest.approx(0.5 * C * 30)  # March
    june = (152.0, 182.0)
    assert mined(rep, *june) == pytest.approx(C * 30, rel=0.01)


def test_prices_are_in_the_timeline_and_the_kpis() -> None:
    result = run(priced(shut=SHUT), seed=1, plot=False)
    t = result.timeline
    june = t[(t.measure == "price_usd_per_t.mhree") & (t.month == "2024-06")]
    assert list(june.entity) == ["plant"]
    assert float(june.tonnes.iloc[0]) == pytest.approx(2 * PRICE, rel=0.02)
    kpis = {name: float(values[0]) for name, values in result.kpi_values.items()}
    assert kpis["price_peak.plant.mhree"] == pytest.approx(2 * PRICE, rel=0.02)
    assert PRICE * 0.5 < kpis["price.plant.mhree.2024"] < 2 * PRICE
    assert "price_usd_per_t.mhree" not in set(
        run(build(one_site()), seed=1, plot=False).timeline.measure
    )
