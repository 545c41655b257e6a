"""The sweep file: what to vary, how to sample it, how often to run it and what must hold.

A sweep file is read with the scenario loader's safe YAML reader and validated by the frozen
models below; every problem is reported as ``file:line: key.path: message``, all at once. Then
``load_sweep`` resolves the base (and baseline) scenario, draws the design and validates every
sample's scenario with ``derive`` before anything runs, so a bad path or value fails fast
(exit code 2) instead of failing a run an hour in.
"""

from __future__ import annotations

import difflib
import fnmatch
import hashlib
import json
import math
import os
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from sim import __version__
from sim.errors import InputError, Problem
from sim.limits import HINT, Budget, dispatches, horizon_years
from sim.loader import OVERRIDE, Provenance, derive, load_scenario, read_yaml
from sim.loader import problems_from_validation_error as located_problems
from sim.scenario import Scenario
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
    method: Literal["grid", "latin_hypercube", "random"] = "latin_hypercube"
    samples: Annotated[int, Field(ge=1)] | None = None
    replications: Annotated[int, Field(ge=1)] = 1
    seed: Annotated[int, Field(ge=0, lt=2**63)] = 0
    kpis: dict[Id, str] = {}
    """The sweep's own KPIs: name -> arithmetic over built-in KPI names, computed per run."""
    analyze: list[str] = []
    """KPI names or patterns (``imports.china.*.all.2026``) the analysis reports on."""
    expectations: list[Expectation] = []
    discover: list[Discovery] = []

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
        if self.size * (self.replications + 1) > MAX_RUNS:
            raise ValueError(f"replications: more than {MAX_RUNS:,} runs planned")
        return self

    @property
    def size(self) -> int:
        """The number of samples in the design."""
        return self.samples if self.samples is not None else _grid_size(self.parameters)


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


def load_sweep(path: str | os.PathLike[str], budget: Budget | None = SOFT_LIMITS) -> Sweep:
    """Read, validate and resolve a sweep file; InputError lists every problem, located.

    ``budget`` (None: ``--allow-large``) bounds the work: the number of runs and the simulated
    work are checked before the design is drawn (a typo of a million samples is refused at
    once), then again with each sample's own scenario, all before anything runs.
    """
    from sim.sweep.sampling import draw_design

    file = os.fspath(path)
    data, provenance = read_yaml(file)
    if isinstance(data, dict):
        data.setdefault("name", Path(file).stem)
    try:
        spec = SweepSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError(located_problems(exc, data, provenance, file, SweepSpec)) from exc
    locate = _Locator(file, provenance)
    folder = Path(file).parent
    base = locate.scenario(folder / spec.base, spec.overrides, ("set",), ("base",))
    baseline = None
    if spec.baseline is not None:
        source = folder / (spec.baseline.scenario or spec.base)
        key: tuple[str, ...] = ("baseline", "scenario") if spec.baseline.scenario else ("base",)
        first = locate.scenario(source, spec.overrides, ("set",), key)
        baseline = locate.derived(first, spec.baseline.overrides, ("baseline", "set"))
    builtin = builtin_kpi_names(base)
    _check_names(spec, builtin, locate)
    work = None if budget is None else _Work(spec, base, baseline, locate, budget)
    if work is not None:
        work.check_plan()
    design = draw_design(spec)
    per_run = _check_samples(base, design, locate)
    if work is not None:
        work.check_samples(per_run)
    return Sweep(spec, file, base, baseline, design, frozenset(builtin))


@dataclass(frozen=True)
class _Work:
    """A sweep's planned work against the soft limits, located at the sweep file's keys."""

    spec: SweepSpec
    base: Scenario
    baseline: Scenario | None
    locate: _Locator
    budget: Budget

    def check_plan(self) -> None:
        """Before the design is drawn: the number of runs, the horizons, and the work with
        every sample costed as the base (a million samples are refused without drawing them)."""
        spec, budget = self.spec, self.budget
        problems = []
        runs = (spec.size + (self.baseline is not None)) * spec.replications
        if runs > budget.max_runs:
            plus = ", plus the baseline's" if self.baseline is not None else ""
            message = (
                f"{runs:,} runs planned ({spec.size:,} samples x {spec.replications:,} "
                f"replications{plus}) exceed {budget.max_runs:,}"
            )
            problems.append(self._at(self._count_key(), message))
        for scenario, baseline in ((self.base, False), (self.baseline, True)):
            years = 0.0 if scenario is None else horizon_years(scenario)
            if years > budget.max_years:
                message = f"horizon of {years:.0f} years exceeds {budget.max_years:.0f}"
                problems.append(self._at(self._scenario_key("end", baseline), message))
        base_key = self._scenario_key("dispatch_days", False)
        problems += self._work([dispatches(self.base)], spec.size, base_key)
        if problems:
            raise InputError(problems)

    def check_samples(self, samples: list[tuple[float, float]]) -> None:
        """With each sample's own scenario, (years, dispatches per run): parameters may move
        its end date or its dispatches."""
        years = max(y for y, _ in samples)
        problems = []
        if years > self.budget.max_years:
            message = f"a sample's horizon of {years:.0f} years exceeds {self.budget.max_years:.0f}"
            problems.append(self._at(("parameters",), message))
        problems += self._work([d for _, d in samples], 1, ("parameters",))
        if problems:
            raise InputError(problems)

    def _work(self, per_run: list[float], weight: int, at: tuple[str, ...]) -> list[Problem]:
        """Dispatches per run (at ``at``) and in all; ``per_run`` holds one figure for each
        ``weight`` samples."""
        budget = self.budget
        baseline = 0.0 if self.baseline is None else dispatches(self.baseline)
        largest = max(per_run)
        for value, key in ((baseline, self._scenario_key("dispatch_days", True)), (largest, at)):
            if value > budget.max_dispatches:
                message = f"{value:,.0f} dispatches per run exceed {budget.max_dispatches:,}"
                return [self._at(key, message)]
        total = (sum(per_run) * weight + baseline) * self.spec.replications
        if total > budget.max_total_dispatches:
            message = f"{total:,.0f} dispatches in all exceed {budget.max_total_dispatches:,}"
            return [self._at(self._count_key(), message)]
        return []

    def _at(self, key: tuple[str, ...], message: str) -> Problem:
        return self.locate.at(key, message + HINT)

    def _count_key(self) -> tuple[str, ...]:
        """Where the number of runs was set: samples, else replications, else the grid."""
        for key in ("samples", "replications"):
            if self.locate.provenance.get((key,)) is not None:
                return (key,)
        return ("parameters",)

    def _scenario_key(self, field: str, baseline: bool) -> tuple[str, ...]:
        """Where a scenario value was set: a ``set:`` of the sweep file, else the file key."""
        own = self.spec.baseline
        if baseline and own is not None and field in own.overrides:
            return ("baseline", "set", field)
        if field in self.spec.overrides:
            return ("set", field)
        if baseline and own is not None and own.scenario:
            return ("baseline", "scenario")
        return ("base",)


class _Locator:
    """Turns problems found while resolving scenarios into problems at the sweep file's lines."""

    def __init__(self, file: str, provenance: Provenance) -> None:
        self.file = file
        self.provenance = provenance

    def at(self, key: tuple[str | int, ...], message: str) -> Problem:
        where = self.provenance.locate(key)
        return Problem(message, where.file or self.file, where.line, ".".join(map(str, key)))

    def scenario(
        self,
        path: Path,
        overrides: dict[str, Any],
        section: tuple[str, ...],
        file_key: tuple[str, ...],
    ) -> Scenario:
        try:
            found = path.is_file()
        except OSError as exc:  # a name too long for the file system, say
            message = f"cannot open the scenario file: {exc.strerror or exc}"
            raise InputError([self.at(file_key, message)]) from None
        if not found:
            raise InputError([self.at(file_key, f"scenario file not found: {_clipped(path)}")])
        return self._mapped(lambda: load_scenario(path, overrides), overrides, section)

    def derived(
        self, base: Scenario, overrides: dict[str, Any], section: tuple[str, ...]
    ) -> Scenario:
        return self._mapped(lambda: derive(base, overrides), overrides, section)

    def _mapped(self, make: Any, overrides: dict[str, Any], section: tuple[str, ...]) -> Scenario:
        try:
            scenario: Scenario = make()
        except InputError as exc:
            raise InputError(self.relocate(exc.problems, overrides, section)) from exc
        return scenario

    def relocate(
        self, problems: list[Problem], overrides: dict[str, Any], section: tuple[str, ...]
    ) -> list[Problem]:
        """Problems at ``<override>`` move to the line of the sweep key that set the value."""
        out = []
        for problem in problems:
            key = _override_key(problem, overrides)
            if problem.file != OVERRIDE or key is None:
                out.append(problem)
                continue
            where = self.provenance.locate((*section, key))
            out.append(Problem(problem.message, self.file, where.line, problem.path))
        return out


def _override_key(problem: Problem, overrides: dict[str, Any]) -> str | None:
    """The override whose path is (a prefix of) the problem's path."""
    for key in overrides:
        if problem.path == key or problem.path.startswith(key + "."):
            return key
    return next(iter(overrides), None) if problem.file == OVERRIDE else None


def builtin_kpi_names(scenario: Scenario) -> list[str]:
    """Every KPI name ``sim.kpis.kpis`` can produce for a scenario (from an empty run)."""
    from sim.clock import Clock
    from sim.engine import Replication
    from sim.kpis import Axes, kpis
    from sim.ledger import Ledger

    clock = Clock(scenario.start, scenario.end)
    axes = Axes.of(scenario, clock)
    cube = np.ones((len(axes.importers), len(axes.origins), 2, len(axes.months)))
    empty = Replication(0, Ledger(), 0, [], [], [])
    return list(kpis(scenario, empty, cube, clock, axes))


def _check_names(spec: SweepSpec, builtin: list[str], locate: _Locator) -> None:
    """Every name in KPIs, expectations and outcomes must be a KPI; baseline needs a baseline."""
    problems: list[Problem] = []
    known = set(builtin)
    for name, text in spec.kpis.items():
        if name in known:
            problems.append(locate.at(("kpis", name), f"{name!r} is already a built-in KPI"))
        problems += _unknown(parse(text), known, ("kpis", name), locate, spec)
    known |= set(spec.kpis)
    for i, expectation in enumerate(spec.expectations):
        key: tuple[str | int, ...] = ("expectations", i, "expect")
        problems += _unknown(parse(expectation.expect), known, key, locate, spec)
    for i, discovery in enumerate(spec.discover):
        key = ("discover", i, "outcome")
        problems += _unknown(parse(discovery.outcome), known, key, locate, spec)
    for i, pattern in enumerate(spec.analyze):
        if not any(fnmatch.fnmatchcase(name, pattern) for name in known):
            problems.append(locate.at(("analyze", i), f"{pattern!r} matches no KPI"))
    if problems:
        raise InputError(problems)


def _unknown(
    expression: Expression,
    known: set[str],
    key: tuple[str | int, ...],
    locate: _Locator,
    spec: SweepSpec,
) -> list[Problem]:
    problems = []
    for name in expression.kpis():
        if name not in known:
            close = difflib.get_close_matches(name, sorted(known), n=1, cutoff=0.8)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            problems.append(locate.at(key, f"unknown KPI {name!r}{hint}"))
    if expression.uses_baseline and spec.baseline is None:
        problems.append(locate.at(key, "uses baseline, but the sweep has no baseline"))
    return problems


def _check_samples(
    base: Scenario, design: list[dict[str, Any]], locate: _Locator
) -> list[tuple[float, float]]:
    """Derive every sample's scenario once; each distinct problem is reported once, located at
    the parameter's line, with how many samples it affects and the first one's value.

    Returns each sample's horizon in years and dispatches per run, for the budget.
    """
    found: dict[Problem, list[int]] = {}
    work: list[tuple[float, float]] = []
    for sample, values in enumerate(design):
        try:
            scenario = derive(base, values)
        except InputError as exc:
            for problem in locate.relocate(exc.problems, values, ("parameters",)):
                found.setdefault(problem, []).append(sample)
            continue
        work.append((horizon_years(scenario), dispatches(scenario)))
    if not found:
        return work
    problems = []
    for problem, samples in found.items():
        first = design[samples[0]]
        key = _override_key(problem, first)
        shown = f"{key}={_short(first[key])}" if key in first else ""
        where = f"sample {samples[0]}" + (f": {shown}" if shown else "")
        message = f"{problem.message} (in {len(samples)} of {len(design)} samples; {where})"
        problems.append(Problem(message, problem.file, problem.line, problem.path))
    raise InputError(problems)


def _clipped(path: Path) -> str:
    """A path as shown in a message: whole unless absurdly long (a message is one line)."""
    text = str(path)
    return text if len(text) <= 200 else text[:197] + "..."


def _short(value: Any) -> str:
    text = json.dumps(value, default=str)
    return text if len(text) <= 30 else text[:27] + "..."
