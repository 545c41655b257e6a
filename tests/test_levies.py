"""Levies as a share of value or in yuan, the holdout, and import bans by origin country.

The small world (tests/builders.py): one site mining C = 100 t/day, one gate one day down the
road, one plant paying 2,000 USD/t; no transport or operating cost, full margin 1,000 USD/t, so
utilisation = min(1, (2000 - levy) / 1000).
"""

from __future__ import annotations

from typing import Any

import pytest

from sim.errors import InputError
from sim.model.engine import simulate
from sim.scenario.loader import OVERRIDE, Location, Provenance, validate_data
from tests.builders import RATE, build, china_ban, mined, one_site, passed

C = RATE
HORIZON = 366.0
APRIL, JULY = 91.0, 182.0  # 2024-04-01 and 2024-07-01 as days


def levy(start: str, **parts: float) -> dict[str, Any]:
    return {"kind": "levy_change", "group": "kia", "start": start, **parts}


@pytest.mark.parametrize(("share", "utilisation"), [(0.5, 1.0), (0.75, 0.5), (0.9, 0.2)])
def test_a_levy_as_a_share_of_value_takes_that_share_of_the_price(
    share: float, utilisation: float
) -> None:
    # levy = share x 2000; margin = 2000 (1 - share); utilisation = margin / 1000
    scenario = build(one_site(), **{"groups.kia.levy_share": share})
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 0, HORIZON) == pytest.approx(utilisation * C * HORIZON)


def test_a_levy_change_to_a_share_replaces_the_per_tonne_levy() -> None:
    # 500 USD/t (utilisation 1) until July, then 75% of value and nothing per tonne: 0.5
    scenario = build(
        one_site(tax=levy("2024-07-01", levy_share=0.75)), **{"groups.kia.levy_usd_per_t": 500}
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 0, JULY) == pytest.approx(C * JULY)
    assert mined(rep, JULY, HORIZON) == pytest.approx(0.5 * C * (HORIZON - JULY))
    assert rep.ledger.events[0][3] == "500 USD/t -> 75% of value"


def test_a_levy_in_yuan_is_converted_at_the_scenarios_rate() -> None:
    # 10,800 CNY/t at 7.2 CNY/USD is 1,500 USD/t: margin 500, utilisation 0.5
    scenario = build(one_site(tax=levy("2024-01-01", levy_cny_per_t=10800)))
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 0, HORIZON) == pytest.approx(0.5 * C * HORIZON)
    dearer = build(
        one_site(tax=levy("2024-01-01", levy_cny_per_t=10800)), **{"cny_per_usd": 10.8}
    )  # 1,000 USD/t: margin 1000, utilisation 1
    assert mined(simulate(dearer, seed=1, replication=0), 0, HORIZON) == pytest.approx(C * HORIZON)


def holdout_world(threshold: float | None, surge: float | None = 1.0) -> Any:
    """The levy rises to 1,500 USD/t (margin 500: utilisation 0.5) from April to July."""
    return build(
        one_site(
            rise=levy("2024-04-01", levy_usd_per_t=1500), fall=levy("2024-07-01", levy_share=0)
        ),
        **{
            "supply_response.holdout_margin_usd_per_t": threshold,
            "haulage.release_surge": surge,
        },
    )


def test_miners_hold_out_while_the_levy_leaves_too_thin_a_margin() -> None:
    # Threshold 800 > margin 500: no sales from April to July; mining goes on into stock at
    # utilisation 0.5, so the stock reaches 0.5 C x 91 days by July.
    rep = simulate(holdout_world(800.0), seed=1, replication=0)
    assert passed(rep, APRIL + 2, JULY) == pytest.approx(0.0)
    assert mined(rep, APRIL, JULY) == pytest.approx(0.5 * C * (JULY - APRIL))
    # the last dispatch before the holdout may leave up to one day's output behind
    stock_in_july = next(h for t, _, h in rep.ledger.stock if t == JULY - 1)
    assert 0.5 * C * (JULY - APRIL - 1) - 1e-6 <= stock_in_july <= 0.5 * C * (JULY - APRIL) + C
    kinds = [(e[1], e[0]) for e in rep.ledger.events if e[1].startswith("holdout")]
    assert kinds == [("holdout", APRIL), ("holdout_ended", JULY)]


def test_after_a_holdout_the_stock_leaves_at_the_paced_rate() -> None:
    # A backlog of ~4,600 t drains at surge x C = 100 t/day on top of current output (C):
    # 2 C a day passes for ~46 days, then C.
    rep = simulate(holdout_world(800.0), seed=1, replication=0)
    assert passed(rep, JULY + 5, JULY + 35) == pytest.approx(2 * C * 30)
    assert max(h for t, _, h in rep.ledger.stock if t > JULY + 48) == pytest.approx(0.0, abs=1e-6)
    assert passed(rep, JULY + 55, JULY + 85) == pytest.approx(C * 30)


@pytest.mark.parametrize("threshold", [None, 0.0, 400.0])
def test_no_holdout_while_the_margin_stays_above_it(threshold: float | None) -> None:
    rep = simulate(holdout_world(threshold), seed=1, replication=0)
    assert passed(rep, APRIL + 2, JULY) == pytest.approx(0.5 * C * (JULY - APRIL - 2), rel=0.02)
    assert not [e for e in rep.ledger.events if e[1].startswith("holdout")]


def test_a_levy_that_leaves_no_margin_stops_sales_at_a_zero_threshold() -> None:
    # 2,500 USD/t leaves -500: no mining, and what is on site stays there until the levy falls
    scenario = build(
        one_site(
            rise=levy("2024-04-01", levy_usd_per_t=2500), fall=levy("2024-07-01", levy_share=0)
        ),
        **{"supply_response.holdout_margin_usd_per_t": 0.0, "dispatch_days": 7},
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, APRIL, JULY) == pytest.approx(0.0)
    # (a batch counts as passing over the dispatch period before it reaches the gate)
    assert passed(rep, APRIL + 8, JULY - 7) == pytest.approx(0.0)
    held = [h for t, _, h in rep.ledger.stock if APRIL < t < JULY]
    assert min(held) > 0
    assert max(held) == pytest.approx(min(held))


def two_countries(**events: dict[str, Any]) -> Any:
    """The small world with a second mine, in Laos, held by the same group on the same road."""
    data = one_site(**events)
    data["sites"]["laos_mine"] = {**data["sites"]["mine"], "name": "Laos", "country": "laos"}
    data["routes"]["road"]["sites"] = ["mine", "laos_mine"]
    return build(data)


def test_an_import_ban_by_origin_refuses_that_countrys_product_whoever_holds_it() -> None:
    ban = {**china_ban(1.0), "group": None, "origin": "myanmar"}
    rep = simulate(two_countries(ban=ban), seed=1, replication=0)
    by_site = [0.0, 0.0]
    for t0, _, _, _, site, _, m, lr in rep.ledger.passed:
        if t0 >= APRIL + 2:
            by_site[site] += m + lr
    assert by_site[0] == pytest.approx(0.0)
    assert by_site[1] == pytest.approx(C * (HORIZON - APRIL - 2), rel=0.02)
    assert rep.ledger.events[0][1:3] == ("import_ban", "myanmar")


def test_a_partial_ban_by_origin_caps_what_passes() -> None:
    ban = {**china_ban(0.5), "group": None, "origin": "myanmar"}
    rep = simulate(build(one_site(ban=ban)), seed=1, replication=0)
    assert passed(rep, APRIL + 2, HORIZON - 3) == pytest.approx(
        0.5 * C * (HORIZON - 5 - APRIL), rel=0.02
    )


@pytest.mark.parametrize(
    ("event", "message"),
    [
        ({**china_ban(1.0), "origin": "myanmar"}, "give group or origin"),
        ({**china_ban(1.0), "group": None}, "give group or origin"),
        ({**china_ban(1.0), "group": None, "origin": "myanmr"}, "did you mean 'myanmar'"),
        ({"kind": "levy_change", "group": "kia", "start": "2024-02-01"}, "give levy_usd_per_t"),
    ],
)
def test_levy_and_ban_mistakes_are_located(event: dict[str, Any], message: str) -> None:
    with pytest.raises(InputError, match=message):
        validate_data(one_site(bad=event), Provenance(Location(OVERRIDE)))
