"""Distributions of uncertain values: one family for scenario and sweep files.

A scenario draws an event's duration or start once per replication from one of these; a sweep
samples a parameter's values across its design from them. Both read the same models with the
same rules, so a distribution written in one kind of file means the same in the other. The
domain rules of a value stay where the value is (a scenario's durations are non-negative days:
``sim.scenario.schema.Days``), not in separate families.

Written ``{dist: NAME, ...}``:

    uniform      low, high            every value in [low, high] equally likely
    loguniform   low, high (> 0)      each decade in [low, high] equally likely
    triangular   low, mode, high      peaked at mode
    truncnormal  mean, sd, low, high  normal(mean, sd) cut to [low, high] (alias: normal)
    choice       values, weights      one of the values (weights default to equal)
    date_range   low, high (dates)    a day in [low, high], both included (alias: uniform
                                      with dates)

Bounds may be equal (a distribution that always gives one value), never reversed. Numbers are
in the unit of the key the distribution sets (days for an event's ``days``).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Literal

from pydantic import Discriminator, Field, Tag, model_validator

from sim.scenario.fields import Finite, Frozen

PositiveFinite = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
Weight = Annotated[float, Field(ge=0.0, allow_inf_nan=False)]
"""A relative weight: any finite number from 0 (only ratios count)."""
Scalar = bool | int | float | str | date
"""A value a ``choice`` may offer: a number, a flag, a word or a date."""


class Uniform(Frozen):
    """Uniform on [low, high]: every value equally likely."""

    dist: Literal["uniform"]
    """`uniform`."""
    low: Finite
    """Smallest value, in the unit of the key the distribution sets."""
    high: Finite
    """Largest value, at least `low` (same unit)."""

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class LogUniform(Frozen):
    """Log-uniform on [low, high], 0 < low: each decade equally likely (for values known only
    to an order of magnitude)."""

    dist: Literal["loguniform"]
    """`loguniform`."""
    low: PositiveFinite
    """Smallest value, more than 0, in the unit of the key the distribution sets."""
    high: PositiveFinite
    """Largest value, at least `low` (same unit)."""

    @model_validator(mode="after")
    def _ordered(self) -> LogUniform:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class Triangular(Frozen):
    """Triangular on [low, high] with its peak at ``mode``."""

    dist: Literal["triangular"]
    """`triangular`."""
    low: Finite
    """Smallest value, in the unit of the key the distribution sets."""
    mode: Finite
    """Most likely value, from `low` to `high` (same unit)."""
    high: Finite
    """Largest value (same unit)."""

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not self.low <= self.mode <= self.high:
            raise ValueError("need low <= mode <= high")
        return self


class TruncNormal(Frozen):
    """Normal(mean, sd) truncated to [low, high]."""

    dist: Literal["truncnormal", "normal"]
    """`truncnormal` (`normal` is accepted as an alias)."""
    mean: Finite
    """Mean of the normal before truncation, in the unit of the key the distribution sets."""
    sd: PositiveFinite
    """Standard deviation, more than 0 (same unit)."""
    low: Finite
    """Smallest value kept (same unit)."""
    high: Finite
    """Largest value kept, at least `low` (same unit)."""

    @model_validator(mode="after")
    def _ordered(self) -> TruncNormal:
        if self.high < self.low:
            raise ValueError("high must be at least low")
        return self


class Choice(Frozen):
    """One of a list of values, equally likely or with weights."""

    dist: Literal["choice"]
    """`choice`."""
    values: Annotated[list[Scalar], Field(min_length=1)]
    """The values to choose from: numbers in the unit of the key set, or dates, words, flags."""
    weights: list[Weight] | None = None
    """Relative weights (any unit: only ratios count), one per value, not all zero; default:
    equally likely."""

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self


class DateRange(Frozen):
    """A day drawn uniformly from [low, high], both included."""

    dist: Literal["date_range", "uniform"]
    """`date_range` (`uniform` with dates is accepted as an alias)."""
    low: date
    """First possible day (YYYY-MM-DD)."""
    high: date
    """Last possible day (YYYY-MM-DD), not before `low`."""

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if self.high < self.low:
            raise ValueError("high must not be before low")
        return self


_ALIASES = {"normal": "truncnormal"}


def dist(value: Any) -> str | None:
    """The family of a distribution as written: its ``dist``, with aliases resolved and a
    ``uniform`` over dates read as a ``date_range``; None for a mapping without ``dist``.
    Pydantic's discriminator of the unions below (named as the key, so that its messages name
    the key)."""
    if isinstance(value, Frozen):
        value = value.__dict__
    if not isinstance(value, dict):
        return "uniform"  # not a mapping: any model branch says "expected a mapping"
    name = value.get("dist")
    if not isinstance(name, str):
        return None
    if name == "uniform" and _is_date(value.get("low")):
        return "date_range"
    return _ALIASES.get(name, name)


def _is_date(value: Any) -> bool:
    if isinstance(value, date):
        return True
    if not isinstance(value, str):
        return False
    try:
        date.fromisoformat(value)
    except ValueError:
        return False
    return True


NumberDistribution = Uniform | LogUniform | Triangular | TruncNormal | Choice
DistributionModel = NumberDistribution | DateRange
"""Any distribution, validated (for type hints; files use ``Distribution``)."""
"""The distributions of numbers (a ``choice`` may offer other values: the domain rule of the
key it sets checks them)."""
Number = Annotated[
    Annotated[Uniform, Tag("uniform")]
    | Annotated[LogUniform, Tag("loguniform")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[TruncNormal, Tag("truncnormal")]
    | Annotated[Choice, Tag("choice")],
    Discriminator(dist),
]
"""A distribution of numbers, as written in a file."""
Distribution = Annotated[
    Annotated[Uniform, Tag("uniform")]
    | Annotated[LogUniform, Tag("loguniform")]
    | Annotated[Triangular, Tag("triangular")]
    | Annotated[TruncNormal, Tag("truncnormal")]
    | Annotated[Choice, Tag("choice")]
    | Annotated[DateRange, Tag("date_range")],
    Discriminator(dist),
]
"""Any distribution, as written in a file: of numbers, of values (``choice``) or of dates."""
