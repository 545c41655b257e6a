"""Reading a sweep file: validate it, resolve its scenarios, draw the design, check every sample.

Every problem is reported as ``file:line: key.path: message``, all at once, and every sample's
scenario is validated with ``derive`` before anything runs, so a bad path or value fails fast
(exit code 2) instead of failing a run an hour in.
"""

from __future__ import annotations

import difflib
import fnmatch
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import ValidationError

from sim.errors import InputError, Problem
from sim.scenario.files import regular_file_problem
from sim.scenario.limits import HINT, Budget, dispatches, horizon_years
from sim.scenario.loader import OVERRIDE, Provenance, derive, load_scenario, read_yaml
from sim.scenario.loader import problems_from_validation_error as located_problems
from sim.scenario.schema import Scenario
from sim.sweep.expressions import Expression, parse
from sim.sweep.sampling import draw_design
from sim.sweep.spec import SOFT_LIMITS, Sweep, SweepSpec


def load_sweep(path: str | os.PathLike[str], budget: Budget | None = SOFT_LIMITS) -> Sweep:
    """Read, validate and resolve a sweep file; InputError lists every problem, located.

    ``budget`` (None: ``--allow-large``) bounds the work: the number of runs and the simulated
    work are checked before the design is drawn (a typo of a million samples is refused at
    once), then again with each sample's own scenario, all before anything runs.
    """
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
        problem = regular_file_problem(path)
        if problem == "file not found":
            raise InputError([self.at(file_key, f"scenario file not found: {_clipped(path)}")])
        if problem is not None and problem.startswith("cannot read the file: "):
            reason = problem.removeprefix("cannot read the file: ")
            raise InputError([self.at(file_key, f"cannot open the scenario file: {reason}")])
        if problem is not None:  # a folder, a pipe, a device
            message = f"scenario file {_clipped(path)} {problem}"
            raise InputError([self.at(file_key, message)])
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
    """Every KPI name ``sim.results.kpis.kpis`` can produce for a scenario (from an empty run)."""
    from sim.model.clock import Clock
    from sim.model.engine import Replication
    from sim.model.ledger import Ledger
    from sim.results.kpis import Axes, kpis

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
