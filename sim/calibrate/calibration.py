"""Calibration: fit the parameters a scenario declares free to reported figures.

A targets file (``scenarios/targets/*.yaml``) lists reported figures, each with the quantity it
measures (importer, origin, product class, year or month), its value and unit, its source
sentence and a tolerance. ``sim calibrate`` simulates the scenario K times (seed
``scenario.seed``, replications 0..K-1: the same random numbers at every parameter value), takes
each target's mean over the replications, and moves only the parameters listed under the
scenario's ``free:`` (within their bounds) to bring every mean inside its tolerance, with
``scipy.optimize.least_squares``. Nothing here knows any target value: the figures come from the
targets file and the fit can only move declared parameters.

It writes the fitted values into the ``set:`` block of a world file (default
``scenarios/world/calibrated.yaml``) that scenarios extend, and a report folder: ``report.md``,
``report.csv`` and ``calibration.png``. ``--check`` fits nothing and fails (exit 1) unless the
scenario as it stands meets every target; CI runs it.

Units: tonnes (t) of rare-earth product as counted at China's border, or a share (0..1).
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import sys
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal

import numpy as np
import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy.optimize import least_squares

from sim.errors import InputError, Problem
from sim.io.outputs import atomic_file, atomic_folder
from sim.model.clock import Clock
from sim.model.engine import Replication, simulate
from sim.results.kpis import PRODUCTS, Axes, reduce
from sim.scenario import paths
from sim.scenario.limits import check_budget
from sim.scenario.loader import (
    Provenance,
    derive,
    load_document,
    load_scenario,
    problems_from_validation_error,
    read_yaml,
)
from sim.scenario.schema import Id, Scenario

if TYPE_CHECKING:
    from matplotlib.axes import Axes as PlotAxes
    from matplotlib.figure import Figure

DIFF_STEP = 1e-2
"""Finite-difference step, as a share of each parameter's range. The simulator is piecewise
smooth (weekly batches, stockpile limits), so a tiny step would measure noise, not slope."""
MAX_NFEV = 40
"""Least-squares iterations at most (each also costs one evaluation per free parameter for
the Jacobian, and every evaluation runs K replications)."""
ROUNDING = 500
"""Fitted values are rounded to 1/ROUNDING of their range, down to a power of ten
(a 1,500-6,000 t/month bound rounds to 1 t/month), so the world file stays readable."""

Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


# --- the targets file --------------------------------------------------------------------------


class Quantity(_Frozen):
    """Tonnes imported by one importer from one origin (``all``: every origin), of one product
    class (``all``: both), over a calendar year (``YYYY``) or month (``YYYY-MM``)."""

    importer: Id
    origin: Id
    product: Literal["mhree", "lree", "all"]
    period: Annotated[str, Field(pattern=r"^\d{4}(-(0[1-9]|1[0-2]))?$")]

    @field_validator("period", mode="before")
    @classmethod
    def _year_as_text(cls, value: Any) -> Any:
        """``period: 2024`` reads as a number in YAML; it means the year."""
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        return value

    @property
    def label(self) -> str:
        return f"{self.importer}.{self.origin}.{self.product}.{self.period}"


class Tolerance(_Frozen):
    """How far the simulated mean may be from the reported value and still pass: exactly one of
    ``rel`` (a share of the value), ``abs`` (in the target's unit; 0.02 is 2 points of a share)
    or ``band: [low, high]`` (absolute limits around the value)."""

    rel: Positive | None = None
    abs: Positive | None = None
    band: tuple[float, float] | None = None

    @model_validator(mode="after")
    def _exactly_one(self) -> Tolerance:
        given = [x for x in (self.rel, self.abs, self.band) if x is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of rel, abs or band")
        if self.band is not None and not self.band[0] < self.band[1]:
            raise ValueError("band must be [low, high] with low < high")
        return self

    def limits(self, value: float) -> tuple[float, float]:
        """The passing interval around a reported value."""
        if self.rel is not None:
            return value - self.rel * abs(value), value + self.rel * abs(value)
        if self.abs is not None:
            return value - self.abs, value + self.abs
        assert self.band is not None
        return self.band

    def text(self, unit: str) -> str:
        if self.rel is not None:
            return f"±{self.rel * 100:g}%"
        if self.abs is not None:
            return f"±{self.abs * 100:g} points" if unit == "share" else f"±{self.abs:,.0f} t"
        assert self.band is not None
        return f"{_fmt(self.band[0], unit)} to {_fmt(self.band[1], unit)}"


class Source(_Frozen):
    """Where a figure was reported: a seed document's file name and the sentence quoted."""

    seed: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+\.txt$")]
    quote: Annotated[str, Field(min_length=1)]


class Target(_Frozen):
    """One reported figure the calibrated scenario must reproduce (its id is its key)."""

    id: Id
    description: str
    quantity: Quantity
    share_of: Quantity | None = None
    """Denominator of a share target: value = quantity / share_of."""
    value: Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
    unit: Literal["t", "share"]
    tolerance: Tolerance
    source: Source
    scope: Annotated[str, Field(min_length=1)]
    """What is counted, in words; the model's series must count the same thing."""

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if (self.unit == "share") != (self.share_of is not None):
            raise ValueError("unit 'share' goes with share_of (the denominator), and only it")
        if self.unit == "share" and self.value > 1:
            raise ValueError("a share value is a fraction between 0 and 1 (0.57 is 57%)")
        low, high = self.tolerance.limits(self.value)
        if not low < self.value < high:
            raise ValueError("the tolerance band must contain the value")
        return self


class NotTargeted(_Frozen):
    """A reported figure deliberately left out of the fit, with the reason (for the report)."""

    description: str
    value: float
    unit: str
    source: Source
    scope: str = ""
    why: Annotated[str, Field(min_length=1)]


class Targets(_Frozen):
    """A targets file: the figures to reproduce, keyed by id, and those left out."""

    description: str = ""
    targets: Annotated[dict[Id, Target], Field(min_length=1)]
    not_targeted: dict[Id, NotTargeted] = {}

    @model_validator(mode="before")
    @classmethod
    def _ids_from_keys(cls, data: Any) -> Any:
        """Each target's id is its key, so the file need not repeat it."""
        if isinstance(data, dict) and isinstance(data.get("targets"), dict):
            entries = {
                key: {"id": key, **entry} if isinstance(entry, dict) else entry
                for key, entry in data["targets"].items()
            }
            return {**data, "targets": entries}
        return data

    @model_validator(mode="after")
    def _ids_match(self) -> Targets:
        for key, target in self.targets.items():
            if target.id != key:
                raise ValueError(f"target {key!r} has id {target.id!r}; the id is its key")
        return self


@dataclass(frozen=True)
class TargetsFile:
    """A validated targets file, with where each key was written (to locate later problems)."""

    file: str
    targets: Targets
    provenance: Provenance

    @property
    def items(self) -> list[Target]:
        return list(self.targets.targets.values())


def load_targets(path: str | os.PathLike[str]) -> TargetsFile:
    """Read and validate a targets file; InputError lists every problem as file:line: path."""
    file = os.fspath(path)
    data, provenance = read_yaml(file)
    try:
        targets = Targets.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation_error(exc, data, provenance, file, Targets)
        raise InputError(problems) from None
    return TargetsFile(file, targets, provenance)


def check_targets(targets: TargetsFile, axes: Axes) -> None:
    """Every quantity must name an importer and origin of the scenario and a period wholly
    inside its horizon (a part-year sum would silently compare different things)."""
    problems = []
    for tid, target in targets.targets.targets.items():
        for field, quantity in (("quantity", target.quantity), ("share_of", target.share_of)):
            if quantity is None:
                continue
            for key, message in _quantity_problems(quantity, axes):
                path = ("targets", tid, field, key)
                where = targets.provenance.locate(path)
                problems.append(Problem(message, where.file, where.line, paths.join(path)))
    if problems:
        raise InputError(problems)


def _quantity_problems(q: Quantity, axes: Axes) -> list[tuple[str, str]]:
    out = []
    if q.importer not in axes.importers:
        out.append(
            ("importer", f"unknown importer {q.importer!r}; expected one of {axes.importers}")
        )
    if q.origin != "all" and q.origin not in axes.origins:
        out.append(
            ("origin", f"unknown origin {q.origin!r}; expected all or one of {axes.origins}")
        )
    whole = 12 if len(q.period) == 4 else 1
    if int(month_mask(axes, q.period).sum()) != whole:
        horizon = f"{axes.months[0]}..{axes.months[-1]}"
        out.append(("period", f"period {q.period} is not wholly inside the horizon {horizon}"))
    return out


# --- simulated values --------------------------------------------------------------------------


def month_mask(axes: Axes, period: str) -> np.ndarray:
    """Which months of the horizon fall in a period (a year 'YYYY' or a month 'YYYY-MM')."""
    return np.array([month.startswith(period) for month in axes.months], dtype=bool)


def monthly(cube: np.ndarray, axes: Axes, q: Quantity) -> np.ndarray:
    """Tonnes per month of a quantity's importer, origin and product class, from an import cube
    shaped (..., importer, origin, product, month); leading axes (replications) are kept."""
    x = np.take(cube, axes.importers.index(q.importer), axis=-4)
    if q.origin != "all":
        x = np.take(x, [axes.origins.index(q.origin)], axis=-3)
    if q.product != "all":
        x = np.take(x, [PRODUCTS.index(q.product)], axis=-2)
    return np.asarray(x.sum(axis=(-3, -2)))


def tonnes(cube: np.ndarray, axes: Axes, q: Quantity) -> float:
    """Tonnes of a quantity over its period in one replication's import cube."""
    return float(monthly(cube, axes, q)[month_mask(axes, q.period)].sum())


def target_value(cube: np.ndarray, axes: Axes, target: Target) -> float:
    """A target's simulated value in one replication: tonnes, or a share of tonnes (0 when the
    denominator is empty)."""
    value = tonnes(cube, axes, target.quantity)
    if target.share_of is None:
        return value
    whole = tonnes(cube, axes, target.share_of)
    return value / whole if whole > 0 else 0.0


@dataclass(frozen=True)
class Evaluation:
    """K replications of one candidate scenario, boiled down to what calibration needs."""

    scenario: Scenario
    targets: list[Target]
    axes: Axes
    cubes: np.ndarray
    """Tonnes by (replication, importer, origin, product, month)."""
    values: np.ndarray
    """Each target's simulated value by (replication, target)."""
    first: Replication
    """Replication 0, for its event log in the plot."""


def evaluate(scenario: Scenario, targets: Sequence[Target], k: int) -> Evaluation:
    """Run replications 0..k-1 with the scenario's seed and compute every target in each.

    The same seed and replication numbers at every parameter value are common random numbers:
    the fit sees the effect of the parameters, not a fresh draw of the noise.
    """
    clock = Clock(scenario.start, scenario.end)
    axes = Axes.of(scenario, clock)
    reps = [simulate(scenario, scenario.seed, i) for i in range(k)]
    cubes = np.stack([reduce(scenario, rep).imports for rep in reps])
    values = np.array([[target_value(cube, axes, t) for t in targets] for cube in cubes])
    return Evaluation(scenario, list(targets), axes, cubes, values, reps[0])


def residual(target: Target, simulated: float) -> float:
    """Signed miss in units of the tolerance on that side: |residual| <= 1 passes.

    Scaling by the tolerance makes every target count comparably in the fit, whatever its
    unit or size; an asymmetric band scales each side by its own width.
    """
    low, high = target.tolerance.limits(target.value)
    miss = simulated - target.value
    side = high - target.value if miss >= 0 else target.value - low
    return miss / side


def residuals(evaluation: Evaluation) -> np.ndarray:
    means = evaluation.values.mean(axis=0)
    return np.array([residual(t, m) for t, m in zip(evaluation.targets, means, strict=True)])


@dataclass(frozen=True)
class Row:
    """One line of the report: a target against the simulated mean and 5-95% range."""

    target: Target
    mean: float
    p5: float
    p95: float

    @property
    def error(self) -> float:
        return self.mean - self.target.value

    @property
    def passed(self) -> bool:
        low, high = self.target.tolerance.limits(self.target.value)
        return low <= self.mean <= high


def rows(evaluation: Evaluation) -> list[Row]:
    v = evaluation.values
    p5, p95 = np.percentile(v, 5, axis=0), np.percentile(v, 95, axis=0)
    return [
        Row(t, float(m), float(a), float(b))
        for t, m, a, b in zip(evaluation.targets, v.mean(axis=0), p5, p95, strict=True)
    ]


# --- the fit -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Space:
    """The free parameters, in declaration order, mapped to the unit cube by their bounds."""

    paths: tuple[str, ...]
    low: np.ndarray
    high: np.ndarray

    @classmethod
    def of(cls, scenario: Scenario) -> Space:
        free = scenario.free
        return cls(
            tuple(free),
            np.array([p.low for p in free.values()], dtype=float),
            np.array([p.high for p in free.values()], dtype=float),
        )

    def unit(self, values: np.ndarray) -> np.ndarray:
        """Values as shares of their ranges, clipped into the bounds."""
        return np.clip((values - self.low) / (self.high - self.low), 0.0, 1.0)

    def values(self, x: np.ndarray) -> np.ndarray:
        return self.low + np.asarray(x) * (self.high - self.low)

    def overrides(self, x: np.ndarray) -> dict[str, float]:
        return {p: float(v) for p, v in zip(self.paths, self.values(x), strict=True)}


def current_values(scenario: Scenario, file: str = "<scenario>") -> dict[str, float]:
    """Each free parameter's value in the scenario as it stands (the fit's starting point)."""
    data = scenario.model_dump(mode="python")
    out, problems = {}, []
    for path in scenario.free:
        try:
            value = paths.get(data, path)
        except KeyError as exc:
            problems.append(Problem(f"free parameter: {exc.args[0]}", file, None, f"free.{path}"))
            continue
        if isinstance(value, bool) or not isinstance(value, int | float):
            problems.append(Problem("free parameter is not a number", file, None, f"free.{path}"))
            continue
        out[path] = float(value)
    if problems:
        raise InputError(problems)
    return out


@dataclass(frozen=True)
class Fit:
    """What least squares found (values not yet rounded) and how it got there."""

    start: dict[str, float]
    fitted: dict[str, float]
    evaluations: int
    cost: float
    message: str


def fit(
    scenario: Scenario,
    targets: Sequence[Target],
    k: int,
    max_nfev: int = MAX_NFEV,
    progress: Callable[[float], None] | None = None,
) -> Fit:
    """Least squares over the free parameters (normalised to [0, 1] by their bounds), starting
    from the scenario's current values, on the mean over k replications.

    Every candidate is built with ``derive`` (re-validated like a file), so a fitted value can
    never bypass the scenario's own checks. ``progress(cost)`` is called per evaluation.
    """
    space = Space.of(scenario)
    start = current_values(scenario)
    count = 0

    def objective(x: np.ndarray) -> np.ndarray:
        nonlocal count
        count += 1
        res = residuals(evaluate(derive(scenario, space.overrides(x)), targets, k))
        if progress is not None:
            progress(0.5 * float(res @ res))
        return res

    x0 = space.unit(np.array(list(start.values())))
    solution = least_squares(
        objective, x0, bounds=(0.0, 1.0), diff_step=DIFF_STEP, max_nfev=max_nfev, method="trf"
    )
    return Fit(
        start=start,
        fitted=space.overrides(solution.x),
        evaluations=count,
        cost=float(solution.cost),
        message=str(solution.message),
    )


def rounded(scenario: Scenario, values: Mapping[str, float]) -> dict[str, float]:
    """Fitted values rounded to 1/ROUNDING of each range (down to a power of ten), in bounds."""
    out: dict[str, float] = {}
    for path, value in values.items():
        bound = scenario.free[path]
        step = 10.0 ** math.floor(math.log10((bound.high - bound.low) / ROUNDING))
        snapped = min(max(round(value / step) * step, bound.low), bound.high)
        out[path] = float(round(snapped)) if step >= 1 else round(snapped, -int(math.log10(step)))
    return out


# --- the fitted-parameter file -----------------------------------------------------------------

_SET_LINE = re.compile(r"^set:(\s*(#.*)?)?$")


def rewrite_params(text: str, values: Mapping[str, float]) -> str:
    """A world file's text with its ``set:`` block rewritten: the given values first (in order),
    then any other entries it held. Header comments, ``extends:`` and every line outside the
    block are kept as they were; a file without ``set:`` gets one at the end."""
    lines = text.splitlines(keepends=True)
    start = next((i for i, line in enumerate(lines) if line.startswith("set:")), None)
    if start is None:
        body = text if not text or text.endswith("\n") else text + "\n"
        return body + "".join(_set_block("set:\n", [], values))
    head = lines[start]
    if _SET_LINE.match(head.rstrip("\r\n")):
        end = _block_end(lines, start)
        kept = _kept_entries(lines[start + 1 : end], values)
    else:
        end, head = start + 1, "set:\n"
        kept = _flow_entries(lines[start], values)
    return "".join([*lines[:start], *_set_block(head, kept, values), *lines[end:]])


def _block_end(lines: list[str], start: int) -> int:
    """Index after the last line of a block-style mapping opened at ``start`` (indented or
    blank lines; trailing blank lines are left outside)."""
    end = start + 1
    while end < len(lines) and (lines[end][:1] in (" ", "\t") or not lines[end].strip()):
        end += 1
    while end > start + 1 and not lines[end - 1].strip():
        end -= 1
    return end


def _flow_entries(line: str, values: Mapping[str, float]) -> list[str]:
    """The entries of a one-line ``set: {path: value, ...}`` not being rewritten, as lines."""
    try:
        entries = (yaml.safe_load(line) or {}).get("set") or {}
    except (yaml.YAMLError, AttributeError):
        entries = None
    if not isinstance(entries, dict):
        raise InputError([Problem("cannot read its set: line", "<params>", None, "set")])
    return [
        f"  {yaml.safe_dump({k: v}, default_flow_style=True, width=10**6).strip()[1:-1]}\n"
        for k, v in entries.items()
        if k not in values
    ]


def _kept_entries(block: list[str], values: Mapping[str, float]) -> list[str]:
    """Lines of the old ``set:`` block that are not being rewritten: comments, and entries
    (with their continuation lines) whose key is not among ``values``."""
    kept: list[str] = []
    indent: int | None = None
    keep = True
    for line in block:
        stripped = line.lstrip()
        depth = len(line) - len(stripped)
        if stripped.startswith("#") or not stripped:
            kept.append(line)
            continue
        if indent is None or depth <= indent:
            indent = depth
            keep = stripped.split(":", 1)[0].strip().strip("'\"") not in values
        if keep:
            kept.append(line)
    return kept


def _set_block(head: str, kept: list[str], values: Mapping[str, float]) -> list[str]:
    """The new block: its header line, comments it held, the values, then the other entries."""
    entries = [f"  {path}: {_yaml_number(value)}\n" for path, value in values.items()]
    comments = [line for line in kept if line.lstrip().startswith("#")]
    others = [line for line in kept if line not in comments]
    return [head, *comments, *entries, *others]


def _yaml_number(value: float) -> str:
    """A number as YAML reads it back (never in exponent form, which YAML 1.1 reads as text)."""
    if float(value).is_integer():
        return str(int(value))
    return str(np.format_float_positional(float(value), trim="-"))


def params_problems(scenario: Scenario, params: str, scenario_file: str) -> list[Problem]:
    """Free parameters that the params file's own chain cannot hold (so writing them there
    would break the world file), as problems located at the scenario's ``free:`` entries."""
    data, _ = load_document(params)
    _, provenance = load_document(scenario_file)
    problems = []
    for path in scenario.free:
        try:
            paths.get(data, path)
        except KeyError:
            where = provenance.locate(("free", path))
            message = f"cannot be written to {params}: that file's chain has no such key"
            problems.append(Problem(message, where.file, where.line, f"free.{path}"))
    return problems


def write_params(path: Path, values: Mapping[str, float]) -> None:
    """Rewrite the ``set:`` block of the params file in place, atomically, and check that the
    result reads back with exactly these values."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise InputError([Problem(f"cannot read the params file: {exc}", str(path))]) from None
    new = rewrite_params(text, values)
    written = (yaml.safe_load(new) or {}).get("set", {})
    if any(written.get(p) != v for p, v in values.items()):
        raise InputError([Problem("could not rewrite its set: block safely", str(path), None)])

    def write(tmp: Path) -> None:
        tmp.write_text(new, encoding="utf-8")

    atomic_file(path, write)


def shadowed(scenario_file: str, params: str, free: Sequence[str]) -> list[str]:
    """Free paths that the scenario takes from somewhere other than the params file (the
    written fit would not reach it)."""
    _, provenance = load_document(scenario_file)
    target = os.path.realpath(params)
    out = []
    for path in free:
        where = provenance.get(paths.split(path))
        if where is None or os.path.realpath(where.file) != target:
            out.append(path)
    return out


# --- the report --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Parameter:
    """A free parameter in the report: its value before and after, bounds and justification."""

    path: str
    start: float
    value: float
    low: float
    high: float
    why: str


def parameters(scenario: Scenario, start: Mapping[str, float]) -> list[Parameter]:
    now = current_values(scenario)
    return [
        Parameter(path, start[path], now[path], bound.low, bound.high, bound.why)
        for path, bound in scenario.free.items()
    ]


@dataclass(frozen=True)
class Report:
    """Everything the report files show."""

    scenario_file: str
    targets: TargetsFile
    evaluation: Evaluation
    parameters: list[Parameter]
    fit: Fit | None

    @property
    def rows(self) -> list[Row]:
        return rows(self.evaluation)

    @property
    def k(self) -> int:
        return int(self.evaluation.values.shape[0])


def _fmt(value: float, unit: str) -> str:
    return f"{value * 100:.1f}%" if unit == "share" else f"{value:,.0f} t"


def _error_text(row: Row) -> str:
    if row.target.unit == "share":
        return f"{row.error * 100:+.1f} points"
    return f"{row.error / row.target.value:+.1%}"


def _cells(row: Row) -> list[str]:
    unit = row.target.unit
    return [
        row.target.id,
        _fmt(row.target.value, unit),
        _fmt(row.mean, unit),
        f"{_fmt(row.p5, unit)} to {_fmt(row.p95, unit)}",
        _error_text(row),
        row.target.tolerance.text(unit),
        "pass" if row.passed else "FAIL",
    ]


HEADER = ["target", "reported", "simulated mean", "5-95% range", "error", "tolerance", "result"]


def table_text(report_rows: Sequence[Row]) -> str:
    """The target table for the terminal, aligned."""
    cells = [HEADER, *(_cells(r) for r in report_rows)]
    widths = [max(len(c[i]) for c in cells) for i in range(len(HEADER))]
    lines = [
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in cells
    ]
    return "\n".join(lines)


def _markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell.replace("|", "/") for cell in line) + " |" for line in body]
    return out


def _parameter_cells(p: Parameter, fitted: bool) -> list[str]:
    cells = [f"`{p.path}`", f"{p.value:g}", f"{p.low:g} to {p.high:g}", p.why]
    return [cells[0], f"{p.start:g}", *cells[1:]] if fitted else cells


def report_markdown(report: Report) -> str:
    """report.md: what was fitted to what, the table, the parameters, sources and scope."""
    ev = report.evaluation
    passed = sum(r.passed for r in report.rows)
    mode = (
        f"Fitted by least squares ({report.fit.evaluations} evaluations: {report.fit.message})"
        if report.fit is not None
        else "Checked as it stands (no fitting)"
    )
    lines = [
        "# Calibration report",
        "",
        f"Scenario `{report.scenario_file}` ({ev.scenario.name}, {ev.scenario.start} to "
        f"{ev.scenario.end}) against `{report.targets.file}`.",
        f"{mode}; each simulated value is the mean over {report.k} replication(s) (seed "
        f"{ev.scenario.seed}, replications 0 to {report.k - 1}).",
        "",
        f"**{passed} of {len(report.rows)} targets pass.**{_spread_note(report)}",
        "",
        *_markdown_table(HEADER, [_cells(r) for r in report.rows]),
        "",
        "![Simulated monthly imports with the reported figures](calibration.png)",
        "",
        "## Free parameters",
        "",
        *_parameter_section(report),
        "",
        "## Sources and scope",
        "",
        *_sources_section(report),
    ]
    return "\n".join(lines) + "\n"


def _spread_note(report: Report) -> str:
    """Say so when every replication gave the same values (a scenario without random events)."""
    if report.k > 1 and np.ptp(report.evaluation.values, axis=0).max() == 0:
        return " The scenario has no random elements: every replication is identical."
    return ""


def _parameter_section(report: Report) -> list[str]:
    fitted = report.fit is not None
    header = ["parameter", *(["start"] if fitted else []), "value", "bounds", "why these bounds"]
    body = [_parameter_cells(p, fitted) for p in report.parameters]
    return _markdown_table(header, body)


def _sources_section(report: Report) -> list[str]:
    lines = []
    for t in report.targets.items:
        lines += [
            f"- **{t.id}** ({t.description}; `{t.quantity.label}`"
            + (f" / `{t.share_of.label}`" if t.share_of else "")
            + f'). Seed `{t.source.seed}`: "{t.source.quote.strip()}" Scope: {t.scope.strip()}',
        ]
    for nid, n in report.targets.targets.not_targeted.items():
        lines.append(
            f"- **{nid}** (not targeted: {n.description}, {n.value:,g} {n.unit}). Seed "
            f'`{n.source.seed}`: "{n.source.quote.strip()}" Why not: {n.why.strip()}'
        )
    return lines


def report_frame(report: Report) -> pd.DataFrame:
    """report.csv: one row per target with the numbers behind the table."""
    records = []
    for r in report.rows:
        t = r.target
        low, high = t.tolerance.limits(t.value)
        records.append(
            {
                "target": t.id,
                "quantity": t.quantity.label,
                "share_of": t.share_of.label if t.share_of else "",
                "unit": t.unit,
                "reported": t.value,
                "simulated_mean": r.mean,
                "simulated_p5": r.p5,
                "simulated_p95": r.p95,
                "error": r.error,
                "relative_error": r.error / t.value,
                "pass_low": low,
                "pass_high": high,
                "passed": r.passed,
                "source_seed": t.source.seed,
            }
        )
    return pd.DataFrame.from_records(records)


# --- the plot ----------------------------------------------------------------------------------

_LABEL_BOX = {"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none", "alpha": 0.8}
_NAMES = {"mhree": "medium/heavy", "lree": "light", "all": "all products"}


def _series_label(q: Quantity) -> str:
    origin = ", all origins" if q.origin == "all" else f" from {q.origin.title()}"
    return f"{q.importer.title()}{origin}, {_NAMES[q.product]}"


def calibration_figure(report: Report) -> Figure:
    """Simulated monthly imports of every targeted series (mean, 5-95% band) with the reported
    figures marked: an annual figure as its monthly average across its year (tolerance shaded),
    a monthly figure as a point with its band."""
    import matplotlib.pyplot as plt

    from sim.io.plots import OKABE_ITO, month_axis

    ev = report.evaluation
    dates = pd.to_datetime([f"{m}-15" for m in ev.axes.months])
    tonne_targets = [t for t in ev.targets if t.unit == "t"]
    series = list(dict.fromkeys(_series_key(t.quantity) for t in tonne_targets))
    fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
    for colour, key in zip(OKABE_ITO, series, strict=False):
        shown = [t for t in tonne_targets if _series_key(t.quantity) == key]
        per_rep = monthly(ev.cubes, ev.axes, shown[0].quantity)
        label = f"{_series_label(shown[0].quantity)} (simulated)"
        ax.plot(dates, per_rep.mean(axis=0), color=colour, lw=2, label=label)
        low, high = np.percentile(per_rep, [5, 95], axis=0)
        ax.fill_between(dates, low, high, color=colour, alpha=0.2, lw=0)
        for t in shown:
            _mark_reported(ax, t, colour)
    _shade_closures(ax, ev)
    _finish_axes(ax, report)
    month_axis(ax)
    return fig


def _series_key(q: Quantity) -> tuple[str, str, str]:
    return (q.importer, q.origin, q.product)


def _mark_reported(ax: PlotAxes, t: Target, colour: str) -> None:
    low, high = t.tolerance.limits(t.value)
    if len(t.quantity.period) == 4:
        year = int(t.quantity.period)
        x0, x1 = pd.Timestamp(year, 1, 1), pd.Timestamp(year, 12, 31)
        ax.hlines(t.value / 12, x0, x1, colors=colour, linestyles="--", lw=1.5)
        ax.fill_between([x0, x1], low / 12, high / 12, color=colour, alpha=0.12, lw=0)
        ax.annotate(
            f"reported {year}: {t.value:,.0f} t",
            (x0, t.value / 12),
            xytext=(4, 4),
            textcoords="offset points",
            fontsize=8,
            color=colour,
            bbox=_LABEL_BOX,
        )
        return
    when = pd.Timestamp(f"{t.quantity.period}-15")
    ax.errorbar(
        [when],
        [t.value],
        yerr=[[t.value - low], [high - t.value]],
        fmt="D",
        color=colour,
        mec="black",
        capsize=4,
        zorder=5,
    )
    ax.annotate(
        f"reported {when:%b %Y}: ~{t.value:,.0f} t",
        (when, high),
        xytext=(-8, 4),
        textcoords="offset points",
        ha="right",
        fontsize=8,
        color=colour,
        bbox=_LABEL_BOX,
    )


def closures(ev: Evaluation) -> list[tuple[pd.Timestamp, pd.Timestamp]]:
    """Days on which at least one border crossing was closed in replication 0, as spans."""
    clock = Clock(ev.scenario.start, ev.scenario.end)
    open_at: dict[str, float] = {}
    spans = []
    for day, kind, subject, _ in ev.first.ledger.events:
        if kind == "border_closed":
            open_at.setdefault(subject, day)
        elif kind == "border_reopened" and subject in open_at:
            spans.append((open_at.pop(subject), day))
    spans += [(day, clock.horizon) for day in open_at.values()]
    return [(pd.Timestamp(clock.date(a)), pd.Timestamp(clock.date(b))) for a, b in spans]


def _shade_closures(ax: PlotAxes, ev: Evaluation) -> None:
    for a, b in closures(ev):
        ax.axvspan(a, b, color="0.85", alpha=0.5, lw=0, zorder=0)


def _finish_axes(ax: PlotAxes, report: Report) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch
    from matplotlib.ticker import StrMethodFormatter

    handles, labels = ax.get_legend_handles_labels()
    handles += [
        Line2D([], [], color="0.3", ls="--"),
        Line2D([], [], color="0.3", marker="D", ls="", mec="black"),
    ]
    labels += [
        "reported annual figure / 12 (shaded: tolerance)",
        "reported monthly figure (bar: tolerance band)",
    ]
    if closures(report.evaluation):
        handles.append(Patch(color="0.85", alpha=0.5))
        labels.append("a border crossing closed (replication 0)")
    ax.legend(handles, labels, loc="lower left", fontsize=8, frameon=True, framealpha=0.9)
    ax.set_ylabel("tonnes per month")
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylim(bottom=0)
    ev = report.evaluation
    ax.set_title(
        f"{ev.scenario.name}: China's monthly rare-earth imports, simulated vs reported\n"
        f"simulated: mean of {report.k} replication(s) with 5-95% band; reported: seed documents",
        fontsize=11,
    )


REPORT_FILES = frozenset({"report.md", "report.csv", "calibration.png"})
"""What a report folder holds; it is rewritten by every calibration, and only it is."""


def check_report_folder(folder: Path) -> None:
    """Refuse an ``--out`` that names anything but a calibration report (or a new folder).

    The report is the calibration's current one and is replaced on every run, as the params
    file is; but ``--out results`` by mistake must not delete every other result.
    """
    if not folder.exists() or (folder.is_dir() and _holds_only_a_report(folder)):
        return
    message = (
        f"{folder} exists and is not a calibration report folder; refusing to replace it "
        "(give a new folder)"
    )
    raise InputError([Problem(message, "<command line>", None, "--out")])


def _holds_only_a_report(folder: Path) -> bool:
    return all(path.name in REPORT_FILES for path in folder.iterdir())


def write_report(report: Report, folder: Path) -> None:
    """The report folder, all at once: report.md, report.csv, calibration.png."""
    from sim.io.plots import save

    with atomic_folder(folder) as tmp:
        (tmp / "report.md").write_text(report_markdown(report), encoding="utf-8")
        report_frame(report).to_csv(tmp / "report.csv", index=False, float_format="%.6f")
        save(calibration_figure(report), str(tmp / "calibration.png"))


# --- the command -------------------------------------------------------------------------------


def command(args: argparse.Namespace) -> int:
    """``sim calibrate``: fit (or with --check, only evaluate), report, and return 0 when every
    target passes, 1 when one does not."""
    if args.seeds < 1:
        raise InputError([Problem("--seeds must be at least 1", file="<command line>")])
    check_report_folder(Path(args.out))
    scenario = load_scenario(args.scenario)
    if not getattr(args, "allow_large", False):
        evaluations = 1 if args.check else max_evaluations(scenario)
        check_budget(scenario, args.seeds, args.scenario, flag="--seeds", evaluations=evaluations)
    targets = load_targets(args.targets)
    check_targets(targets, Axes.of(scenario, Clock(scenario.start, scenario.end)))
    if args.check:
        start = current_values(scenario, args.scenario)
        report = Report(
            args.scenario,
            targets,
            evaluate(scenario, targets.items, args.seeds),
            parameters(scenario, start),
            None,
        )
    else:
        report = _calibrate(scenario, targets, args)
    write_report(report, Path(args.out))
    return _verdict(report, args.out)


def max_evaluations(scenario: Scenario) -> int:
    """Evaluations a fit may make at most, each of K replications: MAX_NFEV steps, each with
    one evaluation per free parameter for the Jacobian, and the final check of the result."""
    return MAX_NFEV * (1 + len(scenario.free)) + 1


def _calibrate(scenario: Scenario, targets: TargetsFile, args: argparse.Namespace) -> Report:
    """Fit, round, re-evaluate the rounded values, write the params file."""
    if not scenario.free:
        raise InputError(
            [Problem("declares no free parameters to fit", args.scenario, None, "free")]
        )
    current_values(scenario, args.scenario)
    problems = params_problems(scenario, args.params, args.scenario)
    if problems:
        raise InputError(problems)
    with _progress_bar() as progress:
        result = fit(scenario, targets.items, args.seeds, progress=progress)
    values = rounded(scenario, result.fitted)
    candidate = derive(scenario, values)
    write_params(Path(args.params), values)
    for path in shadowed(args.scenario, args.params, list(values)):
        print(f"warning: {args.scenario} does not take {path} from {args.params}", file=sys.stderr)
    print(f"wrote {args.params}")
    return Report(
        args.scenario,
        targets,
        evaluate(candidate, targets.items, args.seeds),
        parameters(candidate, result.start),
        result,
    )


def _verdict(report: Report, out: str) -> int:
    print(table_text(report.rows))
    failed = [r.target.id for r in report.rows if not r.passed]
    print(f"report: {out}/report.md")
    if failed:
        print(f"calibration: {len(failed)} target(s) missed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print(f"calibration: all {len(report.rows)} targets pass")
    return 0


@contextlib.contextmanager
def _progress_bar() -> Iterator[Callable[[float], None]]:
    """A tqdm counter of evaluations on stderr, showing the current cost (silent off a tty)."""
    from tqdm import tqdm

    with tqdm(desc="calibrate", unit="eval", file=sys.stderr, disable=None, leave=False) as bar:

        def update(cost: float) -> None:
            bar.update(1)
            bar.set_postfix(cost=f"{cost:.3g}", refresh=False)

        yield update
