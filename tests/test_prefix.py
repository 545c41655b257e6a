"""Forward runs from a history's state: ``run_from`` runs the prefix and reports from ``start``."""

from __future__ import annotations

import numpy as np
import pytest

from sim.errors import InputError
from sim.model.clock import Clock
from sim.model.engine import simulate
from sim.model.ledger import clipped
from sim.results.kpis import Axes, import_cube, reduce
from sim.scenario.loader import derive
from tests.builders import RATE, build, one_site

CLOSURE = {
    "kind": "border_closure",
    "crossing": "gate",
    "start": "2024-03-01",
    "days": 60,
    "in_transit": "hold",
}


def test_the_reported_horizon_is_the_full_run_cut_at_start() -> None:
    full = build(one_site(shut=CLOSURE), **{"end": "2024-12-31"})
    forward = build(one_site(shut=CLOSURE), **{"start": "2024-07-01", "run_from": "2024-01-01"})
    a, b = simulate(full, 3, 0), simulate(forward, 3, 0)
    whole = import_cube(
        full, a, Clock(full.start, full.end), Axes.of(full, Clock(full.start, full.end))
    )
    clock = Clock(forward.start, forward.end)
    part = import_cube(forward, b, clock, Axes.of(forward, clock))
    assert part.shape[-1] == 6
    np.testing.assert_allclose(part, whole[..., 6:], atol=1e-6)
    # the backlog of the spring closure has cleared: July to December pass the site's rate, but
    # for the last day's output, still on the day's road to the gate at the horizon
    assert part[0, 0, 0].sum() == pytest.approx(RATE * 183, rel=1e-6)
    # the ledger is in the reported frame: nothing before its day 0
    assert min(r[0] for r in b.ledger.mined) >= 0
    assert all(e[0] >= 0 for e in b.ledger.events)


def test_peak_stockpile_counts_what_the_prefix_left_on_site() -> None:
    shut = {**CLOSURE, "start": "2024-05-01", "days": 90}
    forward = build(one_site(shut=shut), **{"start": "2024-07-01", "run_from": "2024-01-01"})
    kpis = reduce(forward, simulate(forward, 3, 0)).kpis
    # by 1 July the site holds two months of output
    assert kpis["peak_stockpile_t"] >= RATE * 60


def test_run_from_must_come_before_a_first_of_month_start() -> None:
    base = build(one_site())
    with pytest.raises(InputError, match="run_from must be before start"):
        derive(base, {"run_from": "2024-02-01", "start": "2024-01-01"})
    with pytest.raises(InputError, match="first day of a month"):
        derive(base, {"run_from": "2024-01-01", "start": "2024-02-15"})


def test_a_flow_spanning_the_start_keeps_the_share_that_flowed_after_it() -> None:
    # 10 t mhree and 4 t lree mined evenly over days 5-15; the reported horizon starts at day 10
    row = (5.0, 15.0, 0, 0, 10.0, 4.0)
    assert clipped(row, 10.0) == (0.0, 5.0, 0, 0, 5.0, 2.0)
    # an instantaneous flow keeps all its tonnes, shifted
    assert clipped((10.0, 10.0, 0, 0, 1.0, 1.0), 10.0) == (0.0, 0.0, 0, 0, 1.0, 1.0)


def test_a_forward_run_records_production_only_from_its_start() -> None:
    forward = build(one_site(shut=CLOSURE), **{"start": "2024-07-01", "run_from": "2024-01-01"})
    mined = simulate(forward, 3, 0).ledger.mined
    # the prefix's six months leave no record, and the first record starts at the start
    assert min(r.t0 for r in mined) == 0.0
    total = sum(r.mhree + r.lree for r in mined)
    assert total == pytest.approx(RATE * 184, rel=1e-6)
