"""The sweep file: what to vary, how to sample it, how often to run it and what must hold.

A sweep file is read with the scenario loader's safe YAML reader and validated by the frozen
models below; ``sim.sweep.loading`` then resolves its scenarios and checks every sample.
"""

from __future__ import annotations

import fnmatch
import hashlib
import json
import math
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from sim import __version__
from sim.scenario.limits import Budget
from sim.scenario.schema import Scenario
from sim.sweep.expressions import Expression, ExpressionError, parse

BASELINE_SAMPLE = -1
"""The sample id of the paired baseline's runs."""
Id = Annotated[str, Field(pattern=r"^[a-z][a-z0-9_]*$", max_length=64)]
Finite = Annotated[float, Field(allow_inf_nan=False)]
MAX_RUNS = 10_000_000
"""A hard bound on samples x replications, so a typo cannot plan a billion runs (the soft
limit, ``Budget.max_runs``, is far lower and lifted by ``--allow-large``; this one is not)."""
SOFT_LIMITS = Budget()
"""The work a sweep may plan without ``--allow-large``."""
RUN_SETTINGS = {
    "seed": "the sweep's master seed",
    "replications": "the sweep's replications",
}
"""Scenario keys a sweep sets itself (``seed:``, ``replications:``): each run uses the sweep's
seed and replication index, so a value swept (or ``set:``) there would change nothing."""


class Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


# --- distributions of parameters ---------------------------------------------------------------


class Uniform(Frozen):
    """Uniform on [low, high]."""

    dist: Literal["uniform"]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> Uniform:
        if not self.low < self.high:
            raise ValueError("high must be greater than low")
        return self


class LogUniform(Frozen):
    """Log-uniform on [low, high], 0 < low < high: each decade equally likely."""

    dist: Literal["loguniform"]
    low: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    high: Annotated[float, Field(gt=0, allow_inf_nan=False)]

    @model_validator(mode="after")
    def _ordered(self) -> LogUniform:
        if not self.low < self.high:
            raise ValueError("high must be greater than low")
        return self


class Triangular(Frozen):
    """Triangular on [low, high] with its peak at mode."""

    dist: Literal["triangular"]
    low: Finite
    mode: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> Triangular:
        if not (self.low <= self.mode <= self.high and self.low < self.high):
            raise ValueError("need low <= mode <= high and low < high")
        return self


class TruncNormal(Frozen):
    """Normal(mean, sd) truncated to [low, high]."""

    dist: Literal["truncnormal"]
    mean: Finite
    sd: Annotated[float, Field(gt=0, allow_inf_nan=False)]
    low: Finite
    high: Finite

    @model_validator(mode="after")
    def _ordered(self) -> TruncNormal:
        if not self.low < self.high:
            raise ValueError("high must be greater than low")
        return self


Scalar = bool | int | float | str | date


class Choice(Frozen):
    """One of a list of values, equally likely or with weights."""

    dist: Literal["choice"]
    values: Annotated[list[Scalar], Field(min_length=1)]
    weights: list[Annotated[float, Field(ge=0, allow_inf_nan=False)]] | None = None

    @model_validator(mode="after")
    def _weights(self) -> Choice:
        if self.weights is not None:
            if len(self.weights) != len(self.values):
                raise ValueError("weights must have one entry per value")
            if sum(self.weights) <= 0:
                raise ValueError("weights must not all be zero")
        return self


class DateRange(Frozen):
    """A date uniform to the day on [low, high], both included; set as an ISO string."""

    dist: Literal["date_range"]
    low: date
    high: date

    @model_validator(mode="after")
    def _ordered(self) -> DateRange:
        if not self.low < self.high:
            raise ValueError("high must be after low")
        return self


Distribution = Annotated[
    Uniform | LogUniform | Triangular | TruncNormal | Choice | DateRange,
    Field(discriminator="dist"),
]
Levels = Annotated[list[Any], Field(min_length=1)]
"""A list of values: the levels of a grid (or equally likely values when sampling)."""
Parameter = Levels | Distribution


# --- the sweep file ----------------------------------------------------------------------------


class Baseline(Frozen):
    """The paired baseline: run for every replication index with the same seeds as the samples.

    ``scenario`` (relative to the sweep file) defaults to the base; the sweep's ``set:`` applies
    to it too, then the baseline's own ``set:``.
    """

    scenario: str | None = None
    overrides: Annotated[dict[str, Any], Field(alias="set")] = {}


class Expectation(Frozen):
    """A property the sweep must have: ``expect`` holds for at least ``share`` of the units.

    Units are samples (each KPI the mean over the sample's replications, the baseline the mean
    over the same replication indices) or single runs (paired with the baseline run of the same
    replication index).
    """

    name: Id
    expect: str
    share: Annotated[float, Field(gt=0, le=1)] = 1.0
    over: Literal["samples", "runs"] = "samples"
    description: str = ""

    @field_validator("expect")
    @classmethod
    def _parses(cls, text: str) -> str:
        if not _parse(text).is_condition:
            raise ValueError("must be a condition, e.g. 'kpi < 0.8 * baseline'")
        return text


class Discovery(Frozen):
    """Scenario discovery: which parameter ranges lead to ``outcome`` (a condition per run)."""

    name: Id
    outcome: str
    description: str = ""

    @field_validator("outcome")
    @classmethod
    def _parses(cls, text: str) -> str:
        if not _parse(text).is_condition:
            raise ValueError("must be a condition, e.g. 'kpi < 0.5 * baseline'")
        return text


class SweepSpec(Frozen):
    """A whole sweep file."""

    name: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9_.-]*$", max_length=80)]
    description: str = ""
    base: str
    """The base scenario file, relative to the sweep file."""
    overrides: Annotated[dict[str, Any], Field(alias="set")] = {}
    """Dotted-path values applied to the base (and baseline) for every run."""
    baseline: Baseline | None = None
    parameters: Annotated[dict[str, Parameter], Field(min_length=1)]
    method: Literal["grid", "latin_hypercube", "random", "sobol", "morris"] = "latin_hypercube"
    """How samples are drawn; ``sobol`` (Saltelli's design, for Sobol' S1 and ST with
    confidence intervals) and ``morris`` (trajectories, for screening) are SALib's designs,
    chosen for their sensitivity method (docs/sweeps.md)."""
    samples: Annotated[int, Field(ge=1)] | None = None
    """Samples of a Latin hypercube or random design; Saltelli's base sample N (a power of 2;
    the design has N x (parameters + 2) samples); Morris trajectories (each parameters + 1)."""
    levels: Annotated[int, Field(ge=2, le=20)] = 4
    """Morris: grid levels of each parameter's range (even)."""
    tornado: bool = False
    """One-at-a-time swing runs for tornado charts: every parameter at its median, then each
    in turn at its 10th and 90th percentile (or at each of its levels when they are not numbers
    or dates). Adds 1 + 2 x parameters samples."""
    labels: dict[str, Annotated[str, Field(max_length=80)]] = {}
    """Human names (with units) of parameters (by dotted path) and KPIs (by name), for figures
    and the report."""
    replications: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    kpis: dict[Id, str] = {}
    """The sweep's own KPIs: name -> arithmetic over built-in KPI names, computed per run."""
    analyze: list[str] = []
    """KPI names or patterns (``imports.china.*.all.2026``) the analysis reports on."""
    expectations: list[Expectation] = []
    discover: list[Discovery] = []

    @field_validator("parameters")
    @classmethod
    def _not_run_settings(cls, parameters: dict[str, Any]) -> dict[str, Any]:
        for path in parameters:
            if path in RUN_SETTINGS:
                raise ValueError(
                    f"{path} is not a parameter: every run uses {RUN_SETTINGS[path]}, so all "
                    f"samples would be the same; set the sweep's own {path}: instead"
                )
        return parameters

    @field_validator("overrides")
    @classmethod
    def _not_set_here(cls, overrides: dict[str, Any]) -> dict[str, Any]:
        for path in overrides:
            if path in RUN_SETTINGS:
                raise ValueError(
                    f"{path} cannot be set here: every run uses {RUN_SETTINGS[path]}; set the "
                    f"sweep's own {path}: instead"
                )
        return overrides

    @field_validator("expectations", "discover")
    @classmethod
    def _unique_names(cls, items: list[Any]) -> list[Any]:
        first: dict[str, int] = {}
        for index, item in enumerate(items):
            if item.name in first:
                raise ValueError(
                    f"two items named {item.name!r} (items {first[item.name]} and {index}); "
                    "names must be unique"
                )
            first[item.name] = index
        return items

    @field_validator("kpis")
    @classmethod
    def _arithmetic(cls, kpis: dict[str, str]) -> dict[str, str]:
        for name, text in kpis.items():
            expression = _parse(text, name)
            if expression.is_condition or expression.uses_baseline:
                raise ValueError(f"{name}: a KPI is arithmetic on other KPIs, not a condition")
        return kpis

    @model_validator(mode="after")
    def _design(self) -> SweepSpec:
        if self.method == "grid":
            ranged = [p for p, v in self.parameters.items() if not isinstance(v, list)]
            if ranged:
                raise ValueError(f"method grid needs a list of values for {ranged[0]}")
            count = _grid_size(self.parameters)
            if self.samples is not None and self.samples != count:
                raise ValueError(f"samples: a grid of these parameters has {count}, not given")
        elif self.samples is None:
            raise ValueError(f"samples: required for method {self.method}")
        elif self.method == "sobol" and (self.samples < 2 or self.samples & (self.samples - 1)):
            raise ValueError(
                f"samples: Saltelli's design needs a power of 2 (e.g. {_power_of_2(self.samples)})"
            )
        if self.method == "morris" and self.levels % 2:
            raise ValueError("levels: Morris needs an even number of levels (e.g. 4)")
        if self.size * (self.replications + 1) > MAX_RUNS:
            raise ValueError(f"replications: more than {MAX_RUNS:,} runs planned")
        return self

    @property
    def design_size(self) -> int:
        """Samples of the design the analysis is about (without tornado swings)."""
        if self.samples is None:
            return _grid_size(self.parameters)
        if self.method == "sobol":
            return self.samples * (len(self.parameters) + 2)
        if self.method == "morris":
            return self.samples * (len(self.parameters) + 1)
        return self.samples

    @property
    def swing_count(self) -> int:
        """Tornado swing samples: the centre, and each parameter low and high (or at each of
        its levels when they are neither numbers nor dates)."""
        if not self.tornado:
            return 0
        return 1 + sum(len(swing_values(p)) for p in self.parameters.values())

    @property
    def size(self) -> int:
        """Samples run: the design, then the tornado swings."""
        return self.design_size + self.swing_count


SWING_QUANTILES = (0.1, 0.9)
"""Where a parameter swings to for the tornado: its 10th and 90th percentile."""


def swing_values(parameter: Any) -> list[float | None]:
    """The unit-interval points (quantiles) a parameter swings to, or None per level for one
    whose values are neither numbers nor dates (it swings to each of them)."""
    values = parameter if isinstance(parameter, list) else getattr(parameter, "values", None)
    if values is not None and not all(_ordered(v) for v in values):
        return [None] * len(values)
    return list(SWING_QUANTILES)


def _ordered(value: Any) -> bool:
    """A number or a date (ISO text too): a value a swing can go low and high on."""
    if isinstance(value, str):
        try:
            date.fromisoformat(value)
        except ValueError:
            return False
        return True
    return isinstance(value, int | float | date) and not isinstance(value, bool)


def _power_of_2(n: int) -> int:
    return 1 << max(1, round(math.log2(max(n, 2))))


def _grid_size(parameters: dict[str, Any]) -> int:
    return math.prod(len(v) if isinstance(v, list) else 1 for v in parameters.values())


def _parse(text: str, label: str = "") -> Expression:
    try:
        return parse(text)
    except ExpressionError as exc:
        raise ValueError(f"{label}: {exc}" if label else str(exc)) from None


# --- a sweep ready to run ----------------------------------------------------------------------


@dataclass(frozen=True)
class Sweep:
    """A validated sweep: its spec, resolved scenarios and design, ready to plan runs."""

    spec: SweepSpec
    file: str
    base: Scenario
    baseline: Scenario | None
    design: list[dict[str, Any]]
    """Each sample's parameter values (JSON-able: numbers, strings, ISO dates), by path."""
    builtin_kpis: frozenset[str]

    @property
    def runs(self) -> int:
        per = self.spec.replications
        return len(self.design) * per + (per if self.baseline is not None else 0)

    def fingerprint(self) -> str:
        """What a run's result depends on: the scenarios, design, seed, KPIs and the package
        version (not the replications, so that they may grow on resume)."""
        text = json.dumps(
            {
                "base": self.base.model_dump(mode="json"),
                "baseline": None
                if self.baseline is None
                else self.baseline.model_dump(mode="json"),
                "design": self.design,
                "seed": self.spec.seed,
                "kpis": self.spec.kpis,
                "version": __version__,
            },
            sort_keys=True,
            default=str,
        )
        return hashlib.sha256(text.encode("utf-8")).hexdigest()


DEFAULT_ANALYSED = ("quad_delivered_t", "peak_stockpile_t", "lost_t", "mined_t")


def analysed_kpis(spec: SweepSpec, available: list[str]) -> list[str]:
    """The KPIs the analysis reports on: the ``analyze`` patterns (the sweep's own KPIs and a
    few headline ones by default), matched against the KPIs the runs produced."""
    patterns = spec.analyze or [*spec.kpis, *DEFAULT_ANALYSED]
    out: dict[str, None] = {}
    for pattern in patterns:
        for name in available:
            if fnmatch.fnmatchcase(name, pattern):
                out[name] = None
    return list(out)
