"""Each mechanism of the model against a case whose answer is known in closed form.

The small world (tests/builders.py): one site mining C = 100 t/day, one gate passing K = 300
t/day, one plant; product is dispatched daily and reaches the gate after one day.
"""

from __future__ import annotations

import pytest

from sim.model.engine import simulate
from tests.builders import RATE, build, china_ban, closure, mined, one_site, passed

C, K = RATE, 300.0


def test_steady_flow_passes_at_the_mining_rate() -> None:
    rep = simulate(build(one_site()), seed=1, replication=0)
    assert mined(rep, 10, 40) == pytest.approx(30 * C)
    assert passed(rep, 10, 40) == pytest.approx(30 * C)


def test_closure_of_d_days_leaves_a_backlog_of_c_times_d() -> None:
    # Closed from day 60 (2024-03-01) for D = 30 days; nothing passes while closed.
    d = 30
    rep = simulate(build(one_site(shut=closure("2024-03-01", d))), seed=1, replication=0)
    assert passed(rep, 61, 60 + d) == pytest.approx(0.0)
    held_at_reopening = max(h for t, _, h in rep.ledger.stock if t <= 60 + d)
    assert held_at_reopening == pytest.approx(C * d, rel=0.05)


def test_backlog_drains_at_capacity_minus_inflow_after_reopening() -> None:
    d, reopen = 30, 90
    rep = simulate(build(one_site(shut=closure("2024-03-01", d))), seed=1, replication=0)
    drain_days = C * d / (K - C)  # 15 days
    # While the backlog lasts the gate runs at capacity; afterwards it passes the inflow.
    assert passed(rep, reopen + 2, reopen + drain_days - 1) == pytest.approx(
        K * (drain_days - 3), rel=0.02
    )
    assert passed(rep, reopen + drain_days + 3, reopen + drain_days + 23) == pytest.approx(
        20 * C, rel=0.02
    )


def test_closure_holds_product_already_on_the_road() -> None:
    # dispatch at day 59 arrives at the gate on day 60, just as it closes: held, not lost.
    rep = simulate(build(one_site(shut=closure("2024-03-01", 10))), seed=1, replication=0)
    assert not any(e[1] == "turned_back" for e in rep.ledger.events)
    total_mined = mined(rep, 0, 366)
    in_plant = sum(r[5] + r[6] for r in rep.ledger.delivered)
    assert in_plant + rep.in_transit[0] + rep.final_stock[0] == pytest.approx(total_mined)


def test_closure_can_turn_back_product_already_on_the_road() -> None:
    rep = simulate(
        build(one_site(shut=closure("2024-03-01", 10, "turn_back"))), seed=1, replication=0
    )
    turned = [e for e in rep.ledger.events if e[1] == "turned_back"]
    assert turned, "the shipment at the gate should be sent back"
    assert passed(rep, 60, 70) == pytest.approx(0.0)


def test_reagents_run_out_when_their_crossing_closes() -> None:
    # 20 days of reagents; the gate (also the reagent gate) closes for 60 days.
    data = one_site(shut=closure("2024-03-01", 60))
    scenario = build(
        data, **{"sites.mine.reagent_crossing": "gate", "sites.mine.reagent_stock_days": 20}
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 60, 120) == pytest.approx(20 * C)
    assert mined(rep, 121, 151) == pytest.approx(30 * C), "resupply resumes on reopening"


def test_mining_stops_when_the_stockpile_is_full() -> None:
    scenario = build(
        one_site(shut=closure("2024-03-01", 60)), **{"sites.mine.stockpile_limit_t": 1000.0}
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert max(h for _, _, h in rep.ledger.stock) == pytest.approx(1000.0)
    assert mined(rep, 70, 120) == pytest.approx(0.0)


def test_a_full_ban_stops_imports_of_the_groups_output() -> None:
    ban = china_ban(1.0)
    scenario = build(one_site(ban=ban), **{"sites.mine.stockpile_limit_t": 1000.0})
    rep = simulate(scenario, seed=1, replication=0)
    assert passed(rep, 95, 366) == pytest.approx(0.0)
    # no buyer left: the site mines into its stockpile until it is full, then stops
    assert rep.final_stock[0] == pytest.approx(1000.0)
    assert mined(rep, 120, 366) == pytest.approx(0.0)


def test_a_partial_ban_caps_sales_at_the_unrefused_share() -> None:
    ban = china_ban(0.5)
    scenario = build(one_site(ban=ban), **{"sites.mine.stockpile_limit_t": 500.0})
    rep = simulate(scenario, seed=1, replication=0)
    assert passed(rep, 150, 250) == pytest.approx(0.5 * C * 100, rel=0.02)


def test_a_tax_rise_lowers_output_by_the_supply_response() -> None:
    # price 2000, full margin 1000, elasticity 1: a levy of 1500 leaves margin 500 -> 50%.
    rise = {"kind": "levy_change", "group": "kia", "levy_usd_per_t": 1500, "start": "2024-04-01"}
    rep = simulate(build(one_site(rise=rise)), seed=1, replication=0)
    assert mined(rep, 0, 91) == pytest.approx(91 * C)
    assert mined(rep, 91, 182) == pytest.approx(91 * C * 0.5)


def test_offensive_halts_production_then_control_passes_with_the_levy() -> None:
    attack = {
        "kind": "offensive",
        "attacker": "bgf",
        "sites": ["mine"],
        "start": "2024-04-01",
        "days": 30,
        "capture_probability": 1.0,
    }
    scenario = build(one_site(attack=attack), **{"groups.bgf.levy_usd_per_t": 1500})
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 91, 121) == pytest.approx(0.0)
    assert "captured" in [e[1] for e in rep.ledger.events]
    assert mined(rep, 121, 151) == pytest.approx(30 * C * 0.5), "BGF's levy now applies"
    assert {r[5] for r in rep.ledger.passed if r[0] > 130} == {1}, "flows carry BGF as group"


def test_failed_offensive_leaves_control_unchanged() -> None:
    attack = {
        "kind": "offensive",
        "attacker": "bgf",
        "sites": ["mine"],
        "start": "2024-04-01",
        "days": 30,
        "capture_probability": 0.0,
    }
    rep = simulate(build(one_site(attack=attack)), seed=1, replication=0)
    assert "captured" not in [e[1] for e in rep.ledger.events]
    assert mined(rep, 121, 151) == pytest.approx(30 * C)


def test_control_change_makes_allowed_buyers_follow_the_controller() -> None:
    # BGF sells only to China; the route leads to an Indian plant: after the handover, no buyer.
    handover = {"kind": "control_change", "sites": ["mine"], "group": "bgf", "start": "2024-04-01"}
    scenario = build(one_site(handover=handover), **{"processors.plant.country": "india"})
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 0, 91) == pytest.approx(91 * C)
    assert mined(rep, 92, 366) == pytest.approx(0.0)


def test_interdiction_loses_shipments() -> None:
    every = build(one_site(), **{"routes.road.legs.0.interdiction": 1.0})
    rep = simulate(every, seed=1, replication=0)
    assert not rep.ledger.passed
    assert sum(r[4] + r[5] for r in rep.ledger.lost) > 0
    some = simulate(build(one_site(), **{"routes.road.legs.0.interdiction": 0.3}), 1, 0)
    lost = sum(r[4] + r[5] for r in some.ledger.lost)
    shipped = lost + sum(r[6] + r[7] for r in some.ledger.passed) + some.in_transit[0]
    assert lost / shipped == pytest.approx(0.3, abs=0.08)


def test_transit_time_delays_delivery() -> None:
    rep = simulate(build(one_site()), seed=1, replication=0)
    first_dispatch = 1.0
    assert min(r[0] for r in rep.ledger.delivered) == pytest.approx(first_dispatch + 3)


def test_tariff_lowers_netback_and_output() -> None:
    tariff = {
        "kind": "tariff_change",
        "importer": "china",
        "origin": "myanmar",
        "rate": 0.25,
        "start": "2024-04-01",
    }
    rep = simulate(build(one_site(tariff=tariff)), seed=1, replication=0)
    # netback 2000 * 0.75 = 1500 = margin -> utilisation still 1; raise it to 0.75 -> 500/1000
    assert mined(rep, 91, 182) == pytest.approx(91 * C)
    tariff["rate"] = 0.75
    rep = simulate(build(one_site(tariff=tariff)), seed=1, replication=0)
    assert mined(rep, 91, 182) == pytest.approx(91 * C * 0.5)


def test_sanctions_refuse_and_relief_restores() -> None:
    scenario = build(
        one_site(
            relief={
                "kind": "sanctions",
                "importer": "china",
                "group": "kia",
                "fraction": 0.0,
                "start": "2024-07-01",
            }
        ),
        **{"importers.china.refuses": {"kia": 1.0}, "sites.mine.stockpile_limit_t": 500.0},
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert passed(rep, 0, 182) == pytest.approx(0.0)
    assert mined(rep, 0, 182) == pytest.approx(500.0), "mined into stock until full"
    assert mined(rep, 182, 366) == pytest.approx(184 * C)


def test_a_dated_route_and_plant_deliver_only_once_open() -> None:
    scenario = build(
        one_site(), **{"routes.road.opens": "2024-05-01", "processors.plant.opens": "2024-07-01"}
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert min(r[0] for r in rep.ledger.delivered) >= 182
    assert mined(rep, 0, 182) == pytest.approx(0.0), "no usable route: nothing worth mining"


def test_processor_capacity_builds_a_feedstock_queue() -> None:
    scenario = build(one_site(), **{"processors.plant.capacity_tpm.mhree": 1000.0})
    rep = simulate(scenario, seed=1, replication=0)
    months = {}
    for month, _, m, lr in rep.ledger.processed:
        months[month] = months.get(month, 0.0) + m + lr
    assert months[3] == pytest.approx(1000.0 * 30 / 30.4375)
    assert rep.processor_queues[0] > 0


def test_processor_ramp_limits_early_output() -> None:
    scenario = build(
        one_site(),
        **{
            "processors.plant.capacity_tpm.mhree": 3044.0,
            "processors.plant.opens": "2024-01-01",
            "processors.plant.ramp_months": 12,
        },
    )
    rep = simulate(scenario, seed=1, replication=0)
    by_month = {m: a + b for m, _, a, b in rep.ledger.processed}
    assert by_month[1] < by_month[6] < by_month[11]


def test_buyers_change_opens_a_new_market() -> None:
    deal = {
        "kind": "buyers_change",
        "group": "bgf",
        "buyers": ["china", "india"],
        "start": "2024-07-01",
    }
    scenario = build(
        one_site(deal=deal), **{"sites.mine.group": "bgf", "processors.plant.country": "india"}
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 0, 182) == pytest.approx(0.0)
    assert mined(rep, 182, 366) == pytest.approx(184 * C)


def test_interference_adds_interdiction_for_its_duration() -> None:
    hit = {
        "kind": "interference",
        "route": "road",
        "interdiction": 1.0,
        "start": "2024-04-01",
        "days": 30,
    }
    rep = simulate(build(one_site(hit=hit)), seed=1, replication=0)
    lost_times = [r[0] for r in rep.ledger.lost]
    assert lost_times
    assert min(lost_times) >= 91
    assert max(lost_times) <= 122


def test_event_probability_zero_never_happens_and_one_always_does() -> None:
    for probability, expected in [(0.0, False), (1.0, True)]:
        event = {**closure("2024-03-01", 10), "probability": probability}
        rep = simulate(build(one_site(shut=event)), seed=1, replication=0)
        assert any(e[1] == "border_closed" for e in rep.ledger.events) is expected


def test_route_capacity_is_shared_by_all_the_sites_it_serves() -> None:
    twin = {
        "name": "Twin",
        "region": "kachin",
        "group": "kia",
        "capacity_tpm": {"mhree": C * 30.4375},
        "operating_cost_usd_per_t": 0,
        "stockpile_limit_t": 1e9,
    }
    scenario = build(
        one_site(),
        **{
            "sites.twin": twin,
            "routes.road.sites": ["mine", "twin"],
            "routes.road.legs.0.capacity_tpd": 50.0,
        },
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert passed(rep, 100, 200) == pytest.approx(50.0 * 100, rel=0.02)


def test_a_partial_ban_is_a_share_of_current_output() -> None:
    # levy 1500 halves utilisation (see the tax test); the ban refuses half of what is mined.
    ban = china_ban(0.5)
    scenario = build(
        one_site(ban=ban),
        **{"sites.mine.stockpile_limit_t": 500.0, "groups.kia.levy_usd_per_t": 1500},
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert passed(rep, 150, 250) == pytest.approx(0.25 * C * 100, rel=0.02)


def test_a_congested_gate_backs_product_up_to_the_sites() -> None:
    # the gate passes 50 t/day of the 100 t/day mined: the queue stays short, the stockpile fills
    # and mining slows to what the gate passes.
    scenario = build(
        one_site(), **{"crossings.gate.capacity_tpd": 50.0, "sites.mine.stockpile_limit_t": 500.0}
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 200, 300) == pytest.approx(50.0 * 100, rel=0.03)
    # bounded: at most one stockpile-full batch plus a period and the transit at gate capacity
    assert rep.in_transit[0] <= 500.0 + 50.0 * 4
