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

from pydantic import AfterValidator, Field, field_validator, model_validator

from sim import __version__
from sim.scenario.distributions import Choice, Distribution, DistributionModel
from sim.scenario.fields import Frozen, Id, Name, Seed
from sim.scenario.limits import Budget
from sim.scenario.schema import Scenario
from sim.sweep.expressions import Expression, ExpressionError, parse

BASELINE_SAMPLE = -1
"""The sample id of the paired baseline's runs."""
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


# --- parameters ------------------------------------------------------------------------------


def _varies(value: DistributionModel) -> DistributionModel:
    """The domain rule of a swept parameter: its range is wider than a point (a value that
    cannot vary adds samples that differ in nothing, and breaks the sensitivity indices)."""
    flat = not isinstance(value, Choice) and value.low == value.high
    if flat:
        raise ValueError(
            "high must be greater than low: a swept parameter must vary (a fixed value "
            "belongs in set:)"
        )
    return value


Levels = Annotated[list[Any], Field(min_length=1)]
"""A list of values: the levels of a grid (or equally likely values when sampling)."""
Parameter = Levels | Annotated[Distribution, AfterValidator(_varies)]
"""A swept parameter: levels, or a distribution (``sim.scenario.distributions``) that varies."""


# --- the sweep file ----------------------------------------------------------------------------


class Baseline(Frozen):
    """The paired baseline: run for every replication index with the same seeds as the samples.

    ``scenario`` (relative to the sweep file) defaults to the base; the sweep's ``set:`` applies
    to it too, then the baseline's own ``set:``.
    """

    scenario: str | None = Field(
        default=None,
        description="The baseline's scenario file, relative to the sweep file; null: the base.",
    )
    overrides: Annotated[dict[str, Any], Field(alias="set")] = Field(
        default={},
        description=(
            "Dotted key path -> value applied to the baseline after the sweep's own set: "
            "(each value in the unit of its key)."
        ),
    )


class Expectation(Frozen):
    """A property the sweep must have: ``expect`` holds for at least ``share`` of the units.

    Units are samples (each KPI the mean over the sample's replications, the baseline the mean
    over the same replication indices) or single runs (paired with the baseline run of the same
    replication index).
    """

    name: Id = Field(description="The expectation's name, unique in the file (an id).")
    expect: str = Field(
        description=(
            "A condition on KPIs, e.g. 'quad_delivered_t > 1.2 * baseline' (KPIs in their own "
            "units: t, share, days)."
        )
    )
    share: Annotated[float, Field(gt=0, le=1)] = Field(
        default=1.0,
        description="Share (0..1] of the units (samples or runs) for which it must hold.",
    )
    over: Literal["samples", "runs"] = Field(
        default="samples",
        description=(
            "Units it is judged over: samples (KPIs averaged over replications) or single runs."
        ),
    )
    description: str = Field(default="", description="What the expectation means, in words.")

    @field_validator("expect")
    @classmethod
    def _parses(cls, text: str) -> str:
        if not _parse(text).is_condition:
            raise ValueError("must be a condition, e.g. 'kpi < 0.8 * baseline'")
        return text


class Discovery(Frozen):
    """Scenario discovery: which parameter ranges lead to ``outcome`` (a condition per run)."""

    name: Id = Field(description="The discovery's name, unique in the file (an id).")
    outcome: str = Field(
        description="A condition per run, e.g. 'quad_delivered_t < 0.5 * baseline' (KPI units)."
    )
    description: str = Field(default="", description="What the outcome means, in words.")

    @field_validator("outcome")
    @classmethod
    def _parses(cls, text: str) -> str:
        if not _parse(text).is_condition:
            raise ValueError("must be a condition, e.g. 'kpi < 0.5 * baseline'")
        return text


class SweepSpec(Frozen):
    """A whole sweep file."""

    name: Name = Field(
        description=(
            "The sweep's name: letters, digits and _ . -; the default output folder is "
            "``results/sweeps/<name>``."
        )
    )
    description: str = Field(
        default="", description="What the sweep asks, in words (shown at the top of summary.md)."
    )
    base: str = Field(description="The base scenario file, relative to the sweep file.")
    overrides: Annotated[dict[str, Any], Field(alias="set")] = Field(
        default={},
        description=(
            "Dotted key path -> value applied to the base (and baseline) for every run (each "
            "value in the unit of its key); may add keys (a whole new event) as a scenario's "
            "set: can."
        ),
    )
    baseline: Baseline | None = Field(
        default=None,
        description="The paired baseline, run with the samples' seeds; null: no baseline.",
    )
    parameters: Annotated[dict[str, Parameter], Field(min_length=1)] = Field(
        description=(
            "Dotted key path -> a list of values (grid levels; equally likely values when "
            "sampling) or a distribution, in the unit of the key (days for an event's days); "
            "at least one."
        )
    )
    method: Literal["grid", "latin_hypercube", "random", "sobol", "morris"] = Field(
        default="latin_hypercube",
        description=(
            "How samples are drawn; sobol (Saltelli's design, for Sobol' S1 and ST with "
            "confidence intervals) and morris (trajectories, for screening) are SALib's designs, "
            "chosen for their sensitivity method (docs/sweeps.md)."
        ),
    )
    samples: Annotated[int, Field(ge=1)] | None = Field(
        default=None,
        description=(
            "A count: samples of a Latin hypercube or random design; sobol: Saltelli's base "
            "sample N, a power of 2 (the design has N x (parameters + 2) samples; 64 or more "
            "for usable intervals); morris: trajectories r (r x (parameters + 1) samples; 10 "
            "or more); grid: left out, or the number of combinations."
        ),
    )
    levels: Annotated[int, Field(ge=2, le=20)] = Field(
        default=4, description="Morris: grid levels of each parameter's range (an even count)."
    )
    tornado: bool = Field(
        default=False,
        description=(
            "One-at-a-time swing runs for tornado charts: every parameter at its median, then "
            "each in turn at its 10th and 90th percentile (or at each of its levels when they "
            "are not numbers or dates). Adds 1 + 2 x parameters samples."
        ),
    )
    labels: dict[str, Annotated[str, Field(max_length=80)]] = Field(
        default={},
        description=(
            "Human names (with units) of parameters (by dotted path) and KPIs (by name), for "
            "figures and the report."
        ),
    )
    replications: Annotated[int, Field(ge=1)] = Field(
        default=1, description="Runs of each sample (and of the baseline), each with its seed."
    )
    seed: Seed = Field(
        default=0, description="Master seed of the design and of every run's replications."
    )
    kpis: dict[Id, str] = Field(
        default={},
        description=(
            "The sweep's own KPIs: name -> arithmetic over built-in KPI names, computed per run "
            "(the unit follows from the arithmetic)."
        ),
    )
    analyze: list[str] = Field(
        default=[],
        description=(
            "KPI names or shell-style patterns (imports.china.*.all.2026) the analysis reports "
            "on; empty: the sweep's own KPIs and quad_delivered_t, peak_stockpile_t, lost_t, "
            "mined_t."
        ),
    )
    expectations: list[Expectation] = Field(
        default=[], description="Properties the sweep must have, checked after the runs."
    )
    discover: list[Discovery] = Field(
        default=[],
        description="Outcomes whose parameter ranges scenario discovery (PRIM) looks for.",
    )

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
        """Runs planned: every sample's replications, and the baseline's."""
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
