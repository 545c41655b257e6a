"""Invariants over random scenarios: tonnes are conserved and nothing goes negative."""

from __future__ import annotations

from datetime import date
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from sim.model.engine import simulate
from tests.builders import build, one_site

days = st.integers(min_value=0, max_value=120)
dates = st.dates(min_value=date(2024, 1, 1), max_value=date(2024, 12, 31)).map(str)

closures = st.builds(
    lambda start, d, policy, goods, share, leak, ramp: {
        "kind": "border_closure",
        "crossing": "gate",
        "start": start,
        "days": d,
        "in_transit": policy,
        "goods": goods,
        "capacity_share": share,
        "leak_share": leak,
        "leak_cost_usd_per_t": 300.0 if leak else 0.0,
        "ramp_days": ramp,
    },
    dates,
    days,
    st.sampled_from(["hold", "turn_back"]),
    st.lists(st.sampled_from(["rare_earths", "reagents", "fuel"]), min_size=1, unique=True),
    st.sampled_from([0.0, 0.0, 0.3]),
    st.sampled_from([0.0, 0.0, 0.05]),
    st.sampled_from([0.0, 0.0, 20.0]),
)
offensives = st.builds(
    lambda start, d, p: {
        "kind": "offensive",
        "attacker": "bgf",
        "sites": ["mine"],
        "start": start,
        "days": d,
        "capture_probability": p,
    },
    dates,
    days,
    st.floats(0, 1),
)


def import_bans(whom: str, which: str) -> st.SearchStrategy[dict[str, Any]]:
    """China's bans on a share of a group's (``whom="group"``) or a country's product."""
    return st.builds(
        lambda start, d, f: {
            "kind": "import_ban",
            "importer": "china",
            whom: which,
            "start": start,
            "days": d,
            "fraction": f,
        },
        dates,
        days,
        st.floats(0, 1),
    )


bans = import_bans("group", "kia")
levies = st.builds(
    lambda start, levy, share: {
        "kind": "levy_change",
        "group": "kia",
        "start": start,
        "levy_usd_per_t": levy,
        "levy_share": share,
    },
    dates,
    st.floats(0, 3000),
    st.sampled_from([0.0, 0.0, 0.3, 0.9]),
)
origin_bans = import_bans("origin", "myanmar")
capacity_changes = st.builds(
    lambda start, d, factor, plant: {
        "kind": "capacity_change",
        "sites": ["mine"],
        "processors": ["plant"] if plant else [],
        "start": start,
        "days": d,
        "factor": factor,
    },
    dates,
    st.none() | days,
    st.sampled_from([0.0, 0.5, 1.7]),
    st.booleans(),
)
halts = st.builds(
    lambda start, d: {
        "kind": "buyers_change",
        "group": "kia",
        "buyers": [],
        "start": start,
        "days": d,
    },
    dates,
    days,
)
repeating = st.builds(
    lambda closure, every, times: {**closure, "repeat": {"every_months": every, "times": times}},
    closures,
    st.integers(1, 6),
    st.none() | st.integers(1, 4),
)
handovers = st.builds(
    lambda start, group, what: {
        "kind": "control_change",
        "group": group,
        "start": start,
        **({"crossings": ["gate"]} if what != "sites" else {}),
        **({"sites": ["mine"]} if what != "crossings" else {}),
    },
    dates,
    st.sampled_from(["kia", "bgf"]),
    st.sampled_from(["sites", "crossings", "both"]),
)
shared_closures = st.builds(
    lambda closure, decision: {
        **{k: v for k, v in closure.items() if k != "probability"},
        "decision": decision,
    },
    closures,
    st.sampled_from(["one", "two"]),
)
events = st.lists(
    st.one_of(
        closures,
        offensives,
        bans,
        levies,
        halts,
        repeating,
        origin_bans,
        capacity_changes,
        handovers,
        shared_closures,
    ),
    max_size=6,
)
transits = st.builds(
    lambda refuses, per_tonne, share: {
        "refuses": refuses,
        "levy_usd_per_t": per_tonne,
        "levy_share": share,
    },
    st.sampled_from([[], ["kia"]]),
    st.sampled_from([0.0, 800.0]),
    st.sampled_from([0.0, 0.5]),
)
paths = st.lists(
    st.builds(
        lambda start, factor: {"start": start, "factor": factor},
        st.dates(min_value=date(2023, 6, 1), max_value=date(2025, 6, 1)),
        st.floats(0, 2),
    ),
    max_size=3,
    unique_by=lambda point: point["start"],
).map(lambda points: sorted(points, key=lambda point: point["start"]))
seasons = st.dictionaries(
    st.sampled_from(["monsoon", "dry", "floods"]),
    st.builds(
        lambda affects, month, depth: {"affects": affects, "depth": {month: depth}},
        st.sampled_from(["mining", "transport"]),
        st.sampled_from(["jan", "apr", "jul", "aug", "dec"]),
        st.floats(0, 1),
    ),
    max_size=2,
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    events=events,
    limit=st.floats(50, 1e5),
    reagent_days=st.floats(0, 60),
    interdiction=st.floats(0, 0.5),
    dispatch=st.floats(0.5, 15),
    surge=st.none() | st.floats(0, 3),
    unsold=st.floats(0, 1),
    profiles=seasons,
    holdout=st.none() | st.sampled_from([0.0, 500.0, 1500.0]),
    path=paths,
    holder=st.none() | st.sampled_from(["kia", "bgf"]),
    transit=transits,
    flexibility=st.none() | st.sampled_from([0.5, 4.0]),
    seed=st.integers(0, 2**32),
)
def test_tonnes_are_conserved(
    events: list[dict[str, Any]],
    limit: float,
    reagent_days: float,
    interdiction: float,
    dispatch: float,
    surge: float | None,
    unsold: float,
    profiles: dict[str, Any],
    holdout: float | None,
    path: list[dict[str, Any]],
    holder: str | None,
    transit: dict[str, Any],
    flexibility: float | None,
    seed: int,
) -> None:
    data = one_site(**{f"e{i}": e for i, e in enumerate(events)})
    if surge is None:  # a transport season needs a finite haulage
        profiles = {k: v for k, v in profiles.items() if v["affects"] == "mining"}
    data["seasons"] = profiles
    data["decisions"] = {"one": {"probability": 0.5}, "two": {"probability": 1.0}}
    data["groups"]["bgf"]["transit"] = transit
    if flexibility is not None:  # feed prices follow China's shortfall
        data["markets"] = {"china": {"price": {"flexibility": {"mhree": flexibility}}}}
    scenario = build(
        data,
        **{
            "sites.mine.stockpile_limit_t": limit,
            "sites.mine.reagent_crossing": "gate",
            "sites.mine.reagent_stock_days": reagent_days,
            "sites.mine.fuel_crossing": "gate",
            "sites.mine.fuel_stock_days": reagent_days / 2,
            "routes.road.legs.1.interdiction": interdiction,
            "dispatch_days": dispatch,
            "haulage.release_surge": surge,
            "supply_response.unsold_margin_share": unsold,
            "supply_response.holdout_margin_usd_per_t": holdout,
            "sites.mine.capacity_path": path,
            "crossings.gate.group": holder,
        },
    )
    rep = simulate(scenario, seed=seed, replication=0)  # raises RunError on any imbalance
    led = rep.ledger
    mined = sum(r[4] + r[5] for r in led.mined)
    delivered = sum(r[5] + r[6] for r in led.delivered)
    lost = sum(r[4] + r[5] for r in led.lost)
    at_gates = rep.at_gates[0]
    moving = rep.in_transit[0] - at_gates
    accounted = delivered + lost + moving + at_gates + rep.final_stock[0]
    assert abs(mined - accounted) <= 1e-6 * max(1.0, mined)
    assert rep.final_stock[0] >= -1e-9
    assert moving >= -1e-6
    assert at_gates >= -1e-6
    if not any(e[1] == "turned_back" for e in led.events):  # returns may overfill a stockpile
        assert max((h for _, _, h in led.stock), default=0.0) <= limit * (1 + 1e-9)
    processed = sum(r[2] + r[3] for r in led.processed)
    assert processed + rep.processor_queues[0] == pytest.approx(delivered)
