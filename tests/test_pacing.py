"""The paced release is calibrated on the December 2021 catch-up (sim.calibrate.pacing)."""

from __future__ import annotations

import pytest

from sim import load_scenario
from sim.calibrate.pacing import SCENARIO, TARGET, catch_up_ratio, fit
from sim.scenario.schema import Scenario


@pytest.fixture(scope="module")
def catchup() -> Scenario:
    return load_scenario(SCENARIO)


def test_the_reference_world_reproduces_the_december_2021_catch_up(catchup: Scenario) -> None:
    surge = catchup.haulage.release_surge
    assert surge is not None, "the reference world sets the calibrated surge"
    assert catch_up_ratio(catchup, surge) == pytest.approx(TARGET, abs=0.02)


def test_without_pacing_the_backlog_clears_in_november(catchup: Scenario) -> None:
    assert catch_up_ratio(catchup, None) < 1.3


def test_the_fit_recovers_a_known_surge(catchup: Scenario) -> None:
    known = 0.9
    result = fit(catchup, target=catch_up_ratio(catchup, known), tolerance=0.005)
    assert result.surge == pytest.approx(known, abs=0.011)
