"""Calibrating the paced release on the December 2021 catch-up.

After the Yunnan gates reopened on 25 November 2021, China's imports from Myanmar in December were
~3,900 t (R16 - R14 in ``../shared/data/reported_2018_2024.csv``) against a normal month of
2,167 t (H1 2021, R09): about 1.8x. How fast a backlog leaves its sites sets that ratio: released
at once (no pacing) it clears in November, paced too slowly it spreads over months. This module
finds ``haulage.release_surge`` such that the catch-up scenario
(``scenarios/history/catchup_2021.yaml``) shows December at the reported ratio.

    python -m sim.calibrate.pacing [scenarios/history/catchup_2021.yaml]

prints the fitted surge (rounded to 0.01) and the ratio it gives; the value is written by hand to
``haulage.release_surge`` in ``scenarios/world/myanmar.yaml`` and checked by
``tests/test_pacing.py``. The ratio first rises with the surge (more of the backlog reaches
December) and then falls (the backlog clears in November), so the fit takes the smallest surge
that reaches the ratio: the paced branch.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from sim.model.clock import Clock
from sim.model.engine import simulate
from sim.results.kpis import Axes, reduce
from sim.scenario.loader import derive, load_scenario
from sim.scenario.schema import Scenario

ROOT = Path(__file__).resolve().parents[2]
SCENARIO = ROOT / "scenarios" / "history" / "catchup_2021.yaml"
DECEMBER_T = 19_500.0 - 15_600.0
"""December 2021 imports from Myanmar: 2021 (R16, Global Witness) less January-November (R14,
SMM), tonnes."""
NORMAL_T = 13_003.6 / 6
"""A normal month: H1 2021 imports of unlisted oxides from Myanmar (R09, SMM) / 6, tonnes."""
TARGET = DECEMBER_T / NORMAL_T
"""December over a normal month: ~1.80."""
PATH = "haulage.release_surge"
GRID = np.arange(0.0, 4.01, 0.25)
"""Surges scanned for the paced branch (the ratio peaks and falls beyond it)."""


@dataclass(frozen=True)
class Fit:
    """A fitted release surge and the December catch-up ratio it gives."""

    surge: float
    ratio: float


def catch_up_ratio(scenario: Scenario, surge: float | None) -> float:
    """China's imports from Myanmar in the last month of the horizon over the mean of its
    first six months, with the given release surge (one replication: the scenario is certain)."""
    s = derive(scenario, {PATH: surge})
    clock = Clock(s.start, s.end)
    axes = Axes.of(s, clock)
    cube = reduce(s, simulate(s, s.seed, 0)).imports
    monthly = cube[axes.importers.index("china"), axes.origins.index("myanmar")].sum(axis=0)
    return float(monthly[-1] / monthly[:6].mean())


def fit(scenario: Scenario, target: float = TARGET, tolerance: float = 1e-3) -> Fit:
    """The smallest surge whose catch-up ratio reaches ``target``, by a scan then bisection."""
    low = float(GRID[0])
    if catch_up_ratio(scenario, low) >= target:
        return Fit(low, catch_up_ratio(scenario, low))
    for high in GRID[1:]:
        if catch_up_ratio(scenario, float(high)) >= target:
            break
        low = float(high)
    else:
        raise ValueError(f"no surge up to {GRID[-1]} reaches a ratio of {target:.2f}")
    high = float(high)
    while high - low > tolerance:
        mid = 0.5 * (low + high)
        low, high = (mid, high) if catch_up_ratio(scenario, mid) < target else (low, mid)
    surge = round(high, 2)
    return Fit(surge, catch_up_ratio(scenario, surge))


def main(argv: list[str] | None = None) -> int:
    """Fit the release surge to the December 2021 catch-up and print it; 0 when it fits."""
    args = sys.argv[1:] if argv is None else argv
    scenario = load_scenario(args[0] if args else SCENARIO)
    unpaced = catch_up_ratio(scenario, None)
    result = fit(scenario)
    print(f"target: December {DECEMBER_T:,.0f} t / normal month {NORMAL_T:,.0f} t = {TARGET:.3f}")
    print(f"no pacing: December at {unpaced:.3f}x a normal month")
    print(f"fitted {PATH}: {result.surge:.2f} (December at {result.ratio:.3f}x)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
