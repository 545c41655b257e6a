"""The targets format: reported figures, each with what it measures, how sure the record is of
it, and how close the model must come.

A figure is one of four kinds, all computed from the model's monthly series:

- ``level``: tonnes over a period (a stock: its peak in the period), unit ``t``;
- ``share``: one quantity over another for the same period, unit ``share`` (0.57 is 57%);
- ``ratio``: the monthly rate of one period over another's (H1 2023 / H1 2022 = 9), ``ratio``;
- ``change``: the same ratio as a change in percent (y/y, m/m, a month against a year's
  average: -33 means a third lower), unit ``%``.

A ratio or change compares *monthly rates* (tonnes over the period divided by its months), so
a month can be set against a year's average; for periods of equal length this is the plain
ratio of totals. ``versus`` names the denominator by the fields that differ from ``quantity``.

Each target carries its source's ``confidence`` (multi, single, inferred, conflict). The file
declares, once, what tolerance and fit weight each confidence gets and why; a target may set
its own tolerance only with a reason (a conflicting figure needs a band covering the reports).
Units: tonnes (t) of rare-earth product as counted at the importer's customs.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import Field, ValidationError, field_validator, model_validator

from sim.calibrate.periods import PERIOD_PATTERN, Period, parse
from sim.errors import InputError, Problem
from sim.scenario.fields import Frozen, Id
from sim.scenario.loader import Provenance, problems_from_validation_error, read_yaml

Positive = Annotated[float, Field(gt=0.0, allow_inf_nan=False)]
TargetId = Annotated[str, Field(pattern=r"^[A-Za-z][A-Za-z0-9_]*$", max_length=64)]
ConfidenceName = Literal["multi", "single", "inferred", "conflict"]
Kind = Literal["level", "share", "ratio", "change"]
Measure = Literal["imports", "mined", "stock"]
Product = Literal["mhree", "lree", "all"]
BaseScope = Literal["oxide", "carbonate", "other_compound", "ore"]
Scope = (
    Literal["oxide", "carbonate", "other_compound", "compounds", "ore", "all"]
    | Annotated[list[BaseScope], Field(min_length=1)]
)
"""A named scope or a list of customs scopes summed (``[oxide, carbonate]``)."""
UNITS: dict[str, str] = {"level": "t", "share": "share", "ratio": "ratio", "change": "%"}
"""The unit of each kind of figure."""


def _period_text(value: Any) -> Any:
    """``period: 2024`` reads as a number in YAML; it means the year."""
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


PeriodText = Annotated[str, Field(pattern=PERIOD_PATTERN)]


class Quantity(Frozen):
    """A monthly series of the model summed over a period (a stock: its peak in the period).

    ``imports``: tonnes the importer counts from an origin (``all``: every origin), of one
    product class (``all``: both), under one customs scope; ``mined``: tonnes mined at the
    origin's sites; ``stock``: tonnes held at the origin's sites.
    """

    measure: Measure = "imports"
    """What is counted: imports (t counted at the importer's customs), mined (t mined at the
    origin's sites) or stock (t held at them, its peak in the period)."""
    importer: Id = "china"
    """The importing country that counts the imports (an id)."""
    origin: Id
    """An origin country of the scenario, or ``all``."""
    product: Product = "all"
    """Product class: mhree, lree, or all (both), in tonnes."""
    scope: Scope | None = None
    """Customs scope, required for imports: ``oxide`` (HS 28469019), ``carbonate`` (28469048),
    ``other_compound`` (28469099), ``compounds`` (those three), ``ore``, ``all`` (everything),
    or a list of the first four, summed."""
    period: PeriodText
    """The period summed: a year (2024), a half (2023-H1), a quarter (2024-Q3), a month (2024-10)
    or a span of months (2024-01..2024-06) (docs/calibration.md)."""

    _year = field_validator("period", mode="before")(_period_text)

    @model_validator(mode="after")
    def _scope_for_imports(self) -> Quantity:
        if self.measure == "imports" and self.scope is None:
            raise ValueError("imports need a scope (oxide, carbonate, other_compound, ...)")
        if self.measure != "imports" and self.scope is not None:
            raise ValueError(f"{self.measure} has no customs scope; remove scope")
        if self.measure != "imports" and self.origin == "all":
            raise ValueError(f"{self.measure} needs an origin country, not all")
        parse(self.period)
        return self

    @property
    def span(self) -> Period:
        """The period the quantity covers."""
        return parse(self.period)

    @property
    def scope_name(self) -> str:
        """The scope as one word (a list joined with +), empty for other measures."""
        if isinstance(self.scope, list):
            return "+".join(self.scope)
        return self.scope or ""

    @property
    def label(self) -> str:
        """The quantity in one line (``imports:china.myanmar.all.oxide.2024``-like)."""
        scope = f".{self.scope_name}" if self.scope else ""
        head = "" if self.measure == "imports" else f"{self.measure}:"
        return f"{head}{self.importer}.{self.origin}.{self.product}{scope}.{self.period}"


class Versus(Frozen):
    """The denominator of a share, ratio or change: only the fields that differ from the
    target's quantity (``{period: "2023"}`` for a y/y change)."""

    measure: Measure | None = None
    """The denominator's measure, if not the quantity's (imports, mined or stock)."""
    importer: Id | None = None
    """The denominator's importer (an id), if not the quantity's."""
    origin: Id | None = None
    """The denominator's origin country (an id, or all), if not the quantity's."""
    product: Product | None = None
    """The denominator's product class (mhree, lree or all), if not the quantity's."""
    scope: Scope | None = None
    """The denominator's customs scope, if not the quantity's."""
    period: PeriodText | None = None
    """The denominator's period (e.g. 2023 for a y/y change), if not the quantity's."""

    _year = field_validator("period", mode="before")(_period_text)


class Tolerance(Frozen):
    """How far the simulated value may be from the reported one and still pass: exactly one of
    ``rel`` (a share of the value), ``abs`` (in the target's unit: points for a change, 0.02
    for 2 points of a share) or ``band: [low, high]``."""

    rel: Positive | None = None
    """Passing band as a share of the reported value (0.1: within 10%), dimensionless."""
    abs: Positive | None = None
    """Passing band in the target's unit (points for a change in %, 0.02 for 2 points of a share,
    t for a level)."""
    band: tuple[float, float] | None = None
    """Passing interval [low, high] in the target's unit, containing the value."""

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


class Confidence(Frozen):
    """What a confidence class earns: a tolerance (``rel`` for levels and ratios, ``points``
    for changes and shares) and a weight in the fit, with the reason."""

    rel: Positive | None = None
    """Tolerance of levels and ratios in this class, a share of the reported value (0.1: 10%)."""
    points: Positive | None = None
    """Tolerance of changes and shares in this class, percentage points."""
    weight: Positive
    """Weight (relative, > 0) of this class's targets in the fit."""
    why: Annotated[str, Field(min_length=1)]
    """The reason for this tolerance and weight, free text."""

    def tolerance(self, kind: str) -> Tolerance | None:
        """This class's tolerance for a kind of figure (None: each target must give one)."""
        if kind in ("level", "ratio"):
            return None if self.rel is None else Tolerance(rel=self.rel)
        if self.points is None:
            return None
        return Tolerance(abs=self.points if kind == "change" else self.points / 100)


class SeedSource(Frozen):
    """A sentence quoted from a seed document."""

    seed: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+\.txt$")]
    """The seed document's file name (shared/seeds/*.txt)."""
    quote: Annotated[str, Field(min_length=1)]
    """The sentence quoted from it that reports the figure."""


class TableSource(Frozen):
    """A row of a data table (``reported_2018_2024.csv``); the target's id is the row's id,
    or ``derived_from`` names the rows it is computed from."""

    table: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]+\.csv$")]
    """The data table's file name (shared/data/*.csv)."""
    title: str = ""
    """The title of the report the row comes from."""
    published: str = ""
    """When the report was published (as it gives it)."""
    derived_from: list[TargetId] = Field(
        default=[], description="Ids of the rows a derived figure is computed from."
    )
    how: str = ""
    """For a derived figure: the arithmetic, in words."""

    @model_validator(mode="after")
    def _derivation_explained(self) -> TableSource:
        if self.derived_from and not self.how.strip():
            raise ValueError("a figure derived from other rows needs how (the arithmetic)")
        return self


class Target(Frozen):
    """One reported figure the calibrated scenario should reproduce (its id is its key)."""

    id: TargetId
    """The target's id: its key in targets (filled in from the key)."""
    description: Annotated[str, Field(min_length=1)]
    """What the figure is, in words."""
    outlet: Annotated[str, Field(min_length=1)]
    """Who reported it (outlet or agency)."""
    confidence: ConfidenceName
    """How sure the record is of it: multi (several sources agree), single, inferred (worked out
    from other figures) or conflict (sources disagree)."""
    kind: Kind = "level"
    """level (t over the period), share, ratio (of monthly rates) or change (of monthly rates,
    %)."""
    quantity: Quantity
    """What the model measures for it: its monthly series summed over a period."""
    versus: Versus | None = None
    """The denominator of a share, ratio or change: the fields that differ from quantity."""
    value: Annotated[float, Field(allow_inf_nan=False)]
    """The reported figure, in unit."""
    unit: Literal["t", "share", "ratio", "%"]
    """t for a level, share for a share (0.57 is 57%), ratio for a ratio, % for a change."""
    tolerance: Tolerance | None = None
    """Only with ``tolerance_why``; otherwise the confidence class's tolerance applies."""
    tolerance_why: str = ""
    """Why this target has a tolerance of its own (required with tolerance)."""
    weight: Positive | None = None
    """Weight in the fit (relative, > 0); default: the confidence class's."""
    required: bool = False
    """Must pass for ``--check`` to pass (other targets count toward the file's share)."""
    source: SeedSource | TableSource
    """Where the figure comes from: a quoted seed document or a data table row."""
    reported_scope: Annotated[str, Field(min_length=1)]
    """What the outlet says it counts, in its words; ``quantity`` is how the model reads it."""
    note: str = ""
    """Free text: how the figure was read."""

    @model_validator(mode="after")
    def _consistent(self) -> Target:
        if UNITS[self.kind] != self.unit:
            raise ValueError(f"a {self.kind} figure is in {UNITS[self.kind]!r}")
        if (self.kind == "level") != (self.versus is None):
            raise ValueError("versus goes with share, ratio and change, and only with them")
        if self.tolerance is not None and not self.tolerance_why.strip():
            raise ValueError("a tolerance of its own needs tolerance_why")
        if self.tolerance is not None:
            low, high = self.tolerance.limits(self.value)
            if not low < self.value < high:
                raise ValueError("the tolerance band must contain the value")
        if self.kind in ("share", "ratio", "level") and self.value < 0:
            raise ValueError(f"a {self.kind} cannot be negative")
        if self.versus is not None:
            self.denominator.span  # noqa: B018 - validates the merged quantity
        return self

    @property
    def denominator(self) -> Quantity:
        """``versus`` completed with the quantity's other fields."""
        assert self.versus is not None
        given = self.versus.model_dump(exclude_none=True)
        return Quantity.model_validate({**self.quantity.model_dump(exclude_none=True), **given})

    @property
    def quantities(self) -> list[Quantity]:
        """What the model measures for the target: the quantity, and the denominator if any."""
        return [self.quantity] if self.versus is None else [self.quantity, self.denominator]

    @property
    def end(self) -> date:
        """The last day the figure covers: it is known, and can be fitted, only after it."""
        return max(q.span.end for q in self.quantities)

    @property
    def label(self) -> str:
        """The target's quantity in one line, over its denominator if it has one."""
        if self.versus is None:
            return self.quantity.label
        return f"{self.quantity.label} / {self.denominator.label}"


class NotTargeted(Frozen):
    """A reported figure the fit does not use, with the reason (shown in the report)."""

    description: Annotated[str, Field(min_length=1)]
    """What the figure is, in words."""
    outlet: str = ""
    """Who reported it (outlet or agency)."""
    confidence: ConfidenceName | None = None
    """How sure the record is of it (multi, single, inferred, conflict); null: not rated."""
    value: float | str | list[float]
    """The reported figure (a number, a list of numbers, or text), in unit."""
    unit: str
    """The figure's unit, as reported (t, %, USD/t, ...)."""
    period: str = ""
    """The period it covers, as reported."""
    source: SeedSource | TableSource
    """Where the figure comes from: a quoted seed document or a data table row."""
    reported_scope: str = ""
    """What the outlet says it counts, in its words."""
    note: str = ""
    """Free text: how the figure was read."""
    quantity: Quantity | None = None
    """How the model would read it, when it can: the report shows the simulated value."""
    why: Annotated[str, Field(min_length=1)]
    """Why the fit does not use it (shown in the report)."""


class Passing(Frozen):
    """When a file's targets pass as a whole: every ``required`` target, and at least this
    share of the others."""

    share: Annotated[float, Field(ge=0.0, le=1.0)] = 1.0
    """Share (0..1) of the targets that are not required which must pass."""


class TargetsDocument(Frozen):
    """A targets file."""

    description: str = ""
    """What the file's figures are, in words."""
    confidence: dict[ConfidenceName, Confidence] = Field(
        default={},
        description="What each confidence class earns: its tolerance and fit weight, and why.",
    )
    passing: Passing = Passing()
    """When the file's targets pass as a whole."""
    targets: Annotated[dict[TargetId, Target], Field(min_length=1)]
    """The reported figures the calibrated scenario should reproduce, by id (at least one)."""
    not_targeted: dict[TargetId, NotTargeted] = Field(
        default={},
        description="Reported figures the fit does not use, each with the reason, by id.",
    )

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
    def _ids_match(self) -> TargetsDocument:
        for key, target in self.targets.items():
            if target.id != key:
                raise ValueError(f"target {key!r} has id {target.id!r}; the id is its key")
        return self


@dataclass(frozen=True)
class Resolved:
    """A target with the tolerance and weight it gets, and the rule of its file."""

    target: Target
    tolerance: Tolerance
    weight: float
    file: str

    @property
    def id(self) -> str:
        """The target's id."""
        return self.target.id

    def limits(self) -> tuple[float, float]:
        """The passing interval around the reported value, in the target's unit."""
        return self.tolerance.limits(self.target.value)


@dataclass(frozen=True)
class TargetsFile:
    """A validated targets file, with where each key was written (to locate later problems)."""

    file: str
    document: TargetsDocument
    provenance: Provenance

    @property
    def items(self) -> list[Target]:
        """The file's targets, in file order."""
        return list(self.document.targets.values())

    def resolved(self) -> list[Resolved]:
        """The file's targets with their tolerances and weights settled."""
        return [self._resolve(t) for t in self.items]

    def _resolve(self, t: Target) -> Resolved:
        tolerance = t.tolerance
        if tolerance is None:
            tolerance = self.document.confidence[t.confidence].tolerance(t.kind)
        assert tolerance is not None  # checked by _tolerance_problems
        weight = t.weight if t.weight is not None else self.document.confidence[t.confidence].weight
        return Resolved(t, tolerance, weight, self.file)


@dataclass(frozen=True)
class TargetSet:
    """Targets from one or more files; ids are unique across them."""

    files: list[TargetsFile]

    @property
    def resolved(self) -> list[Resolved]:
        """Every file's targets with their tolerances and weights settled."""
        return [r for f in self.files for r in f.resolved()]

    @property
    def not_targeted(self) -> list[tuple[str, NotTargeted]]:
        """Every file's figures that the fit does not use, with their ids."""
        return [(k, n) for f in self.files for k, n in f.document.not_targeted.items()]

    def locate(self, tid: str, *path: str | int) -> Problem:
        """A problem template located at a target's key (message filled by the caller)."""
        for f in self.files:
            if tid in f.document.targets:
                where = f.provenance.locate(("targets", tid, *path))
                return Problem(
                    "", where.file, where.line, ".".join(map(str, ("targets", tid, *path)))
                )
        return Problem("", "<targets>", None, tid)


def load_targets_file(path: str | os.PathLike[str]) -> TargetsFile:
    """Read and validate one targets file; InputError lists every problem as file:line: path."""
    file = os.fspath(path)
    data, provenance = read_yaml(file)
    try:
        document = TargetsDocument.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation_error(exc, data, provenance, file, TargetsDocument)
        raise InputError(problems) from None
    loaded = TargetsFile(file, document, provenance)
    problems = _tolerance_problems(loaded)
    if problems:
        raise InputError(problems)
    return loaded


def load_targets(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> TargetSet:
    """Targets from files or folders (every ``*.yaml`` in a folder, in name order); all
    problems of all files are reported at once."""
    files, problems = [], []
    for file in _expand(paths):
        try:
            files.append(load_targets_file(file))
        except InputError as exc:
            problems += exc.problems
    problems += _duplicate_problems(files)
    if problems:
        raise InputError(problems)
    return TargetSet(files)


def _expand(paths: str | os.PathLike[str] | Sequence[str | os.PathLike[str]]) -> Iterator[str]:
    items = [paths] if isinstance(paths, str | os.PathLike) else list(paths)
    if not items:
        raise InputError([Problem("no targets file given", "<command line>", None, "--targets")])
    for item in items:
        path = Path(item)
        if path.is_dir():
            found = sorted(path.glob("*.yaml"))
            if not found:
                raise InputError([Problem("folder holds no *.yaml targets file", str(path))])
            yield from (os.fspath(p) for p in found)
        else:
            yield os.fspath(item)


def _duplicate_problems(files: list[TargetsFile]) -> list[Problem]:
    seen: dict[str, str] = {}
    problems = []
    for f in files:
        for tid in [*f.document.targets, *f.document.not_targeted]:
            if tid in seen:
                section = "targets" if tid in f.document.targets else "not_targeted"
                where = f.provenance.locate((section, tid))
                message = f"id {tid!r} is already used in {seen[tid]}"
                problems.append(Problem(message, where.file, where.line, f"{section}.{tid}"))
            seen.setdefault(tid, f.file)
    return problems


def _tolerance_problems(f: TargetsFile) -> list[Problem]:
    """Every target must get a tolerance and a weight: its own, or its confidence class's."""
    problems = []
    classes = f.document.confidence
    for tid, t in f.document.targets.items():
        path: tuple[str, ...]
        if t.confidence not in classes and (t.tolerance is None or t.weight is None):
            message = f"confidence {t.confidence!r} is not declared under confidence:"
            path = ("targets", tid, "confidence")
        elif t.tolerance is None and classes[t.confidence].tolerance(t.kind) is None:
            message = f"confidence {t.confidence!r} gives no tolerance for a {t.kind}; give one"
            path = ("targets", tid, "tolerance")
        else:
            continue
        where = f.provenance.locate(path)
        problems.append(Problem(message, where.file, where.line, ".".join(path)))
    return problems
