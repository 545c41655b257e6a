"""One family of distributions for scenario and sweep files, with the domain rules of each kind
of file kept where the value is used: a scenario's durations are days (0 or more), a swept
parameter must vary."""

from __future__ import annotations

import inspect
from datetime import date
from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import BaseModel, ValidationError

from sim.calibrate import targets
from sim.model.draws import draw_date, draw_days
from sim.scenario import distributions, fields, schema
from sim.scenario.schema import Scenario
from sim.sweep import spec as sweep_spec
from sim.sweep.sampling import draw_design
from sim.sweep.spec import SweepSpec
from tests.builders import build, closure, one_site

TRIANGULAR = {"dist": "triangular", "low": 30, "mode": 45, "high": 90}
LOGUNIFORM = {"dist": "loguniform", "low": 10, "high": 1000}
NORMAL = {"dist": "normal", "mean": 30, "sd": 10, "low": 0, "high": 60}
DATES = {"low": "2024-03-01", "high": "2024-05-31"}


def with_days(days: Any, **more: Any) -> Scenario:
    """The one-site world with one closure lasting ``days``."""
    event = {**closure("2024-03-01", 10), "days": days, **more}
    return build(one_site(shut=event))


def sweep(parameter: Any, **extra: Any) -> SweepSpec:
    data = {"name": "t", "base": "x.yaml", "parameters": {"p": parameter}, "samples": 8, **extra}
    return SweepSpec.model_validate(data)


# --- one family --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "parameter",
    [TRIANGULAR, LOGUNIFORM, NORMAL, {"dist": "truncnormal", **{k: NORMAL[k] for k in NORMAL}}],
)
def test_a_distribution_of_numbers_reads_the_same_in_both_kinds_of_file(
    parameter: dict[str, Any],
) -> None:
    in_scenario = with_days(parameter).events["shut"].days
    in_sweep = sweep(parameter).parameters["p"]
    assert type(in_scenario) is type(in_sweep)
    assert in_scenario == in_sweep


@pytest.mark.parametrize("name", ["uniform", "date_range"])
def test_a_range_of_dates_is_uniform_or_date_range_in_both_kinds_of_file(name: str) -> None:
    start = {"dist": name, **DATES}
    event = {**closure("2024-03-01", 10), "start": start}
    scenario_start = build(one_site(shut=event)).events["shut"].start
    swept = sweep(start).parameters["p"]
    assert isinstance(scenario_start, distributions.DateRange)
    assert isinstance(swept, distributions.DateRange)
    assert (scenario_start.low, scenario_start.high) == (date(2024, 3, 1), date(2024, 5, 31))
    assert (swept.low, swept.high) == (scenario_start.low, scenario_start.high)


def test_every_model_of_every_input_file_shares_one_frozen_base() -> None:
    modules = [schema, distributions, sweep_spec, targets]
    models = [
        obj
        for module in modules
        for obj in vars(module).values()
        if inspect.isclass(obj) and issubclass(obj, BaseModel) and obj.__module__ == module.__name__
    ]
    assert len(models) > 40
    outside = [m.__qualname__ for m in models if not issubclass(m, fields.Frozen)]
    assert outside == []


@pytest.mark.parametrize(
    ("parameter", "message"),
    [
        ({"dist": "uniform", "low": 5, "high": 1}, "high must be at least low"),
        ({"dist": "triangular", "low": 1, "mode": 9, "high": 5}, "need low <= mode <= high"),
        ({"dist": "loguniform", "low": 0, "high": 5}, "greater than 0"),
        ({"dist": "truncnormal", "mean": 1, "sd": 0, "low": 0, "high": 5}, "greater than 0"),
        ({"dist": "choice", "values": [1, 2], "weights": [1]}, "one entry per value"),
        ({"dist": "choice", "values": [1, 2], "weights": [0, 0]}, "must not all be zero"),
        ({"dist": "date_range", "low": "2024-05-01", "high": "2024-04-01"}, "not be before low"),
    ],
)
def test_the_same_rules_refuse_the_same_distribution_in_both_kinds_of_file(
    parameter: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValidationError, match=message):
        sweep(parameter)
    key = "start" if parameter["dist"] == "date_range" else "days"
    with pytest.raises(ValidationError, match=message):
        build(one_site(shut={**closure("2024-03-01", 10), key: parameter}))


# --- domain rules where the value is used ------------------------------------------------------


@pytest.mark.parametrize(
    ("days", "message"),
    [
        ({"dist": "uniform", "low": -5, "high": 1}, "low must not be negative"),
        ({"dist": "choice", "values": ["long", 30]}, "numbers of days"),
        ({"dist": "choice", "values": [-1, 30]}, "days from 0"),
        ({"dist": "uniform", "low": 1, "high": 1e13}, "at most"),
    ],
)
def test_a_scenario_duration_is_days_from_zero(days: dict[str, Any], message: str) -> None:
    with pytest.raises(ValidationError, match=message):
        with_days(days)


def test_a_scenario_duration_may_be_a_point_a_swept_parameter_may_not() -> None:
    point = {"dist": "uniform", "low": 30, "high": 30}
    assert draw_days(with_days(point).events["shut"].days, np.random.default_rng(1)) == 30
    with pytest.raises(ValidationError, match="a swept parameter must vary"):
        sweep(point)
    with pytest.raises(ValidationError, match="a swept parameter must vary"):
        sweep({"dist": "date_range", "low": "2024-01-01", "high": "2024-01-01"})


def test_a_swept_choice_may_offer_words() -> None:
    design = draw_design(sweep({"dist": "choice", "values": ["hold", "turn_back"]}))
    assert {row["p"] for row in design} <= {"hold", "turn_back"}


# --- draws stay within their bounds ------------------------------------------------------------


@settings(max_examples=40, deadline=None)
@given(
    low=st.floats(0, 1e6),
    width=st.floats(0, 1e6),
    shape=st.floats(0, 1),
    seed=st.integers(0, 2**32),
)
def test_every_drawn_duration_lies_within_its_bounds(
    low: float, width: float, shape: float, seed: int
) -> None:
    high = low + width
    rng = np.random.default_rng(seed)
    for days in (
        {"dist": "uniform", "low": low, "high": high},
        {"dist": "loguniform", "low": low + 1, "high": high + 1},
        {"dist": "triangular", "low": low, "mode": low + shape * width, "high": high},
        {"dist": "truncnormal", "mean": low, "sd": width + 1, "low": low, "high": high},
    ):
        drawn = draw_days(with_days(days).events["shut"].days, rng)
        bounds = (low + 1, high + 1) if days["dist"] == "loguniform" else (low, high)
        assert bounds[0] * (1 - 1e-12) <= drawn <= bounds[1] * (1 + 1e-12), days


def test_huge_choice_weights_are_relative_in_scenarios_too() -> None:
    days = {"dist": "choice", "values": [10, 30], "weights": [1e308, 1e308]}
    drawn = {
        draw_days(with_days(days).events["shut"].days, np.random.default_rng(s)) for s in range(20)
    }
    assert drawn == {10.0, 30.0}


def test_a_drawn_date_lies_within_its_range_both_ends_included() -> None:
    start = build(
        one_site(shut={**closure("2024-03-01", 10), "start": {"dist": "uniform", **DATES}})
    )
    when = start.events["shut"].start
    rng = np.random.default_rng(0)
    drawn = {draw_date(when, rng) for _ in range(2000)}
    assert min(drawn) == date(2024, 3, 1)
    assert max(drawn) == date(2024, 5, 31)
