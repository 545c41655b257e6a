"""Crossing control (a gate's holder refuses or levies other groups' product) and random
decisions shared by several events.

The small world (tests/builders.py): one KIA site mining C = 100 t/day at full utilisation
(price 2,000 USD/t, full margin 1,000 USD/t, no costs), one gate one day down the road.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest

from sim.errors import InputError
from sim.model.engine import simulate
from sim.scenario.loader import OVERRIDE, Location, Provenance, validate_data
from tests.builders import RATE, build, closure, mined, one_site, passed

C = RATE
HORIZON = 366.0
APRIL = 91.0  # 2024-04-01


def handover(start: str, group: str, **what: list[str]) -> dict[str, Any]:
    return {"kind": "control_change", "start": start, "group": group, **what}


def test_a_gate_held_by_a_group_that_refuses_the_sites_group_passes_nothing() -> None:
    # The BGF holds the gate and turns KIA product away until the KIA takes it in April;
    # meanwhile the site mines into stock (unsold margin share 1), released after.
    scenario = build(
        one_site(kia_takes_gate=handover("2024-04-01", "kia", crossings=["gate"])),
        **{"crossings.gate.group": "bgf", "groups.bgf.transit": {"refuses": ["kia"]}},
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert passed(rep, 0, APRIL) == pytest.approx(0.0)
    assert mined(rep, 0, APRIL) == pytest.approx(C * APRIL)
    # everything mined is through by the horizon, but the last two days (on the road)
    assert passed(rep, APRIL, HORIZON) == pytest.approx(C * (HORIZON - 2))
    assert ("control_change", "gate", "bgf -> kia") in [e[1:] for e in rep.ledger.events]


def test_a_gate_held_by_the_sites_own_group_never_refuses_it() -> None:
    scenario = build(
        one_site(), **{"crossings.gate.group": "kia", "groups.kia.transit": {"refuses": ["kia"]}}
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert passed(rep, 3, HORIZON - 3) == pytest.approx(C * (HORIZON - 6))


def test_a_transit_levy_lowers_the_margin_like_the_groups_own() -> None:
    # The BGF levies 75% of value (1,500 USD/t) on KIA product at its gate: margin 500,
    # utilisation 0.5, until the KIA takes the gate in April.
    scenario = build(
        one_site(kia_takes_gate=handover("2024-04-01", "kia", crossings=["gate"])),
        **{"crossings.gate.group": "bgf", "groups.bgf.transit": {"levy_share": 0.75}},
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, 0, APRIL) == pytest.approx(0.5 * C * APRIL)
    assert mined(rep, APRIL, HORIZON) == pytest.approx(C * (HORIZON - APRIL))
    per_tonne = build(
        one_site(),
        **{"crossings.gate.group": "bgf", "groups.bgf.transit": {"levy_usd_per_t": 1500}},
    )
    assert mined(simulate(per_tonne, seed=1, replication=0), 0, HORIZON) == pytest.approx(
        0.5 * C * HORIZON
    )


def test_a_site_handed_to_the_gates_holder_escapes_its_transit_levy() -> None:
    scenario = build(
        one_site(bgf_takes_mine=handover("2024-04-01", "bgf", sites=["mine"])),
        **{"crossings.gate.group": "bgf", "groups.bgf.transit": {"levy_share": 0.75}},
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert mined(rep, APRIL, HORIZON) == pytest.approx(C * (HORIZON - APRIL))


def shared(probability: float, **events: dict[str, Any]) -> Any:
    data = one_site(**events)
    data["crossings"]["gate2"] = {"name": "Gate 2", "importer": "china", "capacity_tpd": 300}
    data["decisions"] = {"china_closes": {"probability": probability}}
    return build(data)


def gate_closure(crossing: str) -> dict[str, Any]:
    return {
        **closure("2024-03-01", None, crossing=crossing),
        "start": {"dist": "uniform", "low": "2024-03-01", "high": "2024-09-30"},
        "days": {"dist": "triangular", "low": 10, "mode": 30, "high": 90},
        "decision": "china_closes",
    }


@pytest.mark.parametrize("seed", range(12))
def test_events_of_one_decision_happen_together_on_the_same_dates(seed: int) -> None:
    scenario = shared(0.5, a=gate_closure("gate"), b=gate_closure("gate2"))
    rep = simulate(scenario, seed=seed, replication=0)
    happens = dict((e, yes) for e, aspect, yes in rep.ledger.outcomes if aspect == "happens")
    assert happens["a"] == happens["b"]
    closed = [
        (t, subject) for t, kind, subject, _ in rep.ledger.events if kind.startswith("border")
    ]
    if happens["a"]:
        times = sorted(t for t, _ in closed)
        assert times[0] == times[1]
        assert times[2] == times[3]


def test_an_events_own_probability_nests_it_within_its_decision() -> None:
    # decision 0.6; a at 1 (chance 0.6), b at 0.5 (chance 0.3): b happens only when a does
    both = {"a": gate_closure("gate"), "b": {**gate_closure("gate2"), "probability": 0.5}}
    counts = {"a": 0, "b": 0}
    for seed in range(200):
        rep = simulate(shared(0.6, **both), seed=seed, replication=0)
        happens = {e: yes for e, aspect, yes in rep.ledger.outcomes if aspect == "happens"}
        assert happens["a"] or not happens["b"]
        counts["a"] += happens["a"]
        counts["b"] += happens["b"]
    assert counts["a"] / 200 == pytest.approx(0.6, abs=0.1)
    assert counts["b"] / 200 == pytest.approx(0.3, abs=0.1)


def test_a_decisions_probability_is_its_events_chance() -> None:
    hits = []
    for seed in range(200):
        rep = simulate(shared(0.3, a=gate_closure("gate")), seed=seed, replication=0)
        hits += [yes for _, aspect, yes in rep.ledger.outcomes if aspect == "happens"]
    assert np.mean(hits) == pytest.approx(0.3, abs=0.1)
    never = simulate(shared(0.0, a=gate_closure("gate")), seed=1, replication=0)
    assert not never.ledger.events


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"crossings.gate.group": "bfg"}, "did you mean 'bgf'"),
        ({"groups.bgf.transit": {"refuses": ["kai"]}}, "did you mean 'kia'"),
        ({"events.e": handover("2024-02-01", "kia")}, "name sites, crossings or both"),
        ({"events.e": handover("2024-02-01", "kia", crossings=["gaet"])}, "did you mean 'gate'"),
        ({"events.e": {**gate_closure("gate"), "decision": "china_close"}}, "did you mean"),
    ],
)
def test_control_and_decision_mistakes_are_located(change: dict[str, Any], message: str) -> None:
    data = one_site()
    data["decisions"] = {"china_closes": {"probability": 0.5}}
    data["crossings"]["gate2"] = {"name": "Gate 2", "importer": "china", "capacity_tpd": 300}
    for path, value in change.items():
        node = data
        *parents, last = path.split(".")
        for part in parents:
            node = node[part]
        node[last] = value
    with pytest.raises(InputError, match=message):
        validate_data(data, Provenance(Location(OVERRIDE)))
