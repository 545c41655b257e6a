"""Edge cases behave as documented (docs/model.md, docs/errors.md)."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.errors import InputError
from sim.model.engine import simulate
from sim.results.runner import run
from sim.scenario.loader import derive
from tests.builders import build, closure, mined, one_site, passed

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"


def test_a_zero_day_closure_changes_nothing() -> None:
    plain = simulate(build(one_site()), seed=1, replication=0)
    blink = simulate(build(one_site(shut=closure("2024-03-01", 0))), seed=1, replication=0)
    assert passed(blink, 0, 366) == pytest.approx(passed(plain, 0, 366))
    kinds = [e[1] for e in blink.ledger.events]
    assert kinds.count("border_closed") == 1
    assert kinds.count("border_reopened") == 1


def test_overlapping_closures_keep_the_gate_shut_until_the_last_ends() -> None:
    # day 60 + 20 and day 70 + 30: shut from day 60 to day 100.
    rep = simulate(
        build(one_site(a=closure("2024-03-01", 20), b=closure("2024-03-11", 30))),
        seed=1,
        replication=0,
    )
    assert passed(rep, 61, 100) == pytest.approx(0.0)
    assert passed(rep, 101, 110) > 0
    assert [e[1] for e in rep.ledger.events].count("border_reopened") == 1


def test_an_event_on_the_last_day_is_accepted_and_one_past_it_is_refused() -> None:
    last = build(one_site(shut=closure("2024-12-31", 10)))
    assert simulate(last, seed=1, replication=0).ledger.events[0][1] == "border_closed"
    with pytest.raises(InputError) as err:
        derive(last, {"events.shut.start": "2025-01-01"})
    assert err.value.problems[0].path == "events.shut.start"


def test_an_event_lasting_past_the_horizon_simply_never_ends() -> None:
    rep = simulate(build(one_site(shut=closure("2024-12-01", 365))), seed=1, replication=0)
    assert "border_reopened" not in [e[1] for e in rep.ledger.events]
    assert passed(rep, 336, 366) == pytest.approx(0.0)


def test_a_site_with_no_route_mines_nothing() -> None:
    scenario = build(
        one_site(),
        **{
            "routes.road.sites": ["mine"],
            "sites.idle": {
                "name": "Idle",
                "region": "shan",
                "group": "kia",
                "capacity_tpm": {"mhree": 500},
                "operating_cost_usd_per_t": 0,
                "stockpile_limit_t": 100,
            },
        },
    )
    rep = simulate(scenario, seed=1, replication=0)
    assert rep.final_stock[1] == 0.0
    assert all(r[2] == 0 for r in rep.ledger.mined), "only the routed site mines"


def test_a_route_whose_processor_never_opens_carries_nothing() -> None:
    scenario = build(one_site(), **{"processors.plant.opens": "2024-12-31"})
    rep = simulate(scenario, seed=1, replication=0)
    assert not rep.ledger.delivered
    assert mined(rep, 0, 365) == pytest.approx(0.0)


def test_one_replication_gives_a_degenerate_band() -> None:
    result = run(build(one_site()), replications=1)
    summary = result.kpi_stats()
    assert (summary["p5"] == summary["mean"]).all()
    assert (summary["p95"] == summary["mean"]).all()


def test_zero_capacity_is_refused() -> None:
    with pytest.raises(InputError) as err:
        derive(build(one_site()), {"crossings.gate.capacity_tpd": 0})
    assert err.value.problems[0].path == "crossings.gate.capacity_tpd"
    with pytest.raises(InputError):
        derive(build(one_site()), {"sites.mine.capacity_tpm.mhree": 0})


def test_capture_probabilities_zero_and_one() -> None:
    for probability, captured in [(0.0, False), (1.0, True)]:
        attack = {
            "kind": "offensive",
            "attacker": "bgf",
            "sites": ["mine"],
            "start": "2024-04-01",
            "days": 5,
            "capture_probability": probability,
        }
        rep = simulate(build(one_site(attack=attack)), seed=3, replication=0)
        assert ("captured" in [e[1] for e in rep.ledger.events]) is captured


def test_fighting_over_the_whole_horizon_stops_everything() -> None:
    attack = {
        "kind": "offensive",
        "attacker": "bgf",
        "sites": ["mine"],
        "start": "2024-01-01",
        "days": 400,
    }
    rep = simulate(build(one_site(attack=attack)), seed=1, replication=0)
    assert mined(rep, 0, 366) == 0.0
    assert not rep.ledger.passed


def test_absurd_work_is_refused_before_it_starts_unless_allowed(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = tmp_path / "long.yaml"
    file.write_text(f"extends: {SCENARIOS / 'baseline.yaml'}\nname: long\nend: 2400-01-01\n")
    assert main(["run", str(file), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{file}:3: end: horizon of 382 years exceeds 100" in err
    assert "--allow-large" in err
    assert main(["run", str(SCENARIOS / "baseline.yaml"), "--replications", "99999"]) == 2
    assert "<command line>: --replications:" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()


def test_a_truncated_normal_duration_stays_within_its_bounds() -> None:
    for name in ("truncnormal", "normal"):
        days = {"dist": name, "mean": 10, "sd": 30, "low": 5, "high": 12}
        event = {**closure("2024-03-01", 1), "days": days}
        for seed in range(5):
            rep = simulate(build(one_site(shut=event)), seed=seed, replication=0)
            shut, reopened = (e[0] for e in rep.ledger.events)
            assert 5 <= reopened - shut <= 12
