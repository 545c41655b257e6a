"""The calibration report: every target against the model (reported, simulated mean, 5-95%
range over replications, error, tolerance, pass/fail, in or out of sample), the verdict of each
targets file's passing rule, the free parameters, and the figures left out with their reasons.

``Report`` is what ``sim.calibrate`` returns; ``report.md`` and ``report.csv`` are its files.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

import numpy as np
import pandas as pd

from sim.calibrate.fitting import Evaluation, Fit, current_values
from sim.calibrate.measures import amount
from sim.calibrate.targets import NotTargeted, Resolved, SeedSource, TargetSet
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class Row:
    """One line of the report: a target against the simulated mean and 5-95% range."""

    resolved: Resolved
    mean: float
    p5: float
    p95: float
    fitted: bool
    """In sample: the fit used it (False: out of sample, reported only)."""

    @property
    def id(self) -> str:
        """The target's id."""
        return self.resolved.id

    @property
    def error(self) -> float:
        """Simulated mean less the reported value, in the target's unit."""
        return self.mean - self.resolved.target.value

    @property
    def passed(self) -> bool:
        """Whether the simulated mean lies within the target's tolerance."""
        low, high = self.resolved.limits()
        return math.isfinite(self.mean) and low <= self.mean <= high


@dataclass(frozen=True)
class Parameter:
    """A free parameter in the report: its value before and after, bounds and justification."""

    path: str
    start: float
    value: float
    low: float
    high: float
    why: str


def parameters(scenario: Scenario, start: dict[str, float]) -> list[Parameter]:
    """The free parameters: their starting, current and bounding values, and why."""
    now = current_values(scenario)
    return [
        Parameter(path, start[path], now[path], bound.low, bound.high, bound.why)
        for path, bound in scenario.free.items()
    ]


@dataclass(frozen=True)
class Verdict:
    """One targets file's passing rule applied to its in-sample rows."""

    file: str
    required_failed: list[str]
    passed: int
    counted: int
    share: float
    """The share of non-required targets that must pass."""

    @property
    def ok(self) -> bool:
        """Whether the file's rule holds: every required target, and its share of the others."""
        return not self.required_failed and (
            self.counted == 0 or self.passed >= math.ceil(self.share * self.counted - 1e-9)
        )

    @property
    def text(self) -> str:
        """The verdict in words: how many targets passed of how many, what was missed."""
        need = f"{self.share:.0%} needed"
        head = f"{self.file}: {self.passed} of {self.counted} other targets pass ({need})"
        if self.required_failed:
            return f"{head}; required target(s) missed: {', '.join(self.required_failed)}"
        return head


@dataclass
class Report:
    """Everything a calibration, check or backtest found; what ``sim.calibrate`` returns."""

    scenario_file: str
    targets: TargetSet
    evaluation: Evaluation
    parameters: list[Parameter]
    fit: Fit | None
    fitted: list[bool]
    train_until: date | None = None
    folder: Path | None = None
    """Where the report files were written (None: not written)."""
    params_files: list[Path] = field(default_factory=list)
    """The params files written by the fit (none: nothing written)."""
    rows: list[Row] = field(init=False)

    def __post_init__(self) -> None:
        ev = self.evaluation
        p5, p95 = ev.percentile(5), ev.percentile(95)
        self.rows = [
            Row(r, float(m), float(a), float(b), f)
            for r, m, a, b, f in zip(ev.targets, ev.means, p5, p95, self.fitted, strict=True)
        ]

    @property
    def k(self) -> int:
        """Replications each evaluation averaged."""
        return int(self.evaluation.values.shape[0])

    @property
    def verdicts(self) -> list[Verdict]:
        """Each targets file's rule over its in-sample rows."""
        out = []
        for f in self.targets.files:
            mine = [r for r in self.rows if r.resolved.file == f.file and r.fitted]
            others = [r for r in mine if not r.resolved.target.required]
            failed = [r.id for r in mine if r.resolved.target.required and not r.passed]
            passed = sum(r.passed for r in others)
            out.append(Verdict(f.file, failed, passed, len(others), f.document.passing.share))
        return out

    @property
    def passed(self) -> bool:
        """Every targets file's rule holds in sample."""
        return all(v.ok for v in self.verdicts)

    @property
    def table(self) -> pd.DataFrame:
        """One row per target with the numbers behind the report (``report.csv``)."""
        return report_frame(self)

    def __repr__(self) -> str:
        passing = sum(r.passed for r in self.rows)
        state = "passes" if self.passed else "fails"
        return (
            f"<calibration report: {self.scenario_file}, {passing} of {len(self.rows)} targets "
            f"within tolerance, {state} its rules, {self.k} replication(s)>"
        )


# --- formatting --------------------------------------------------------------------------------


def fmt(value: float, unit: str) -> str:
    """A value in its unit, for people."""
    if not math.isfinite(value):
        return "n/a"
    if unit == "share":
        return f"{value * 100:.1f}%"
    if unit == "%":
        return f"{value:+.1f}%"
    if unit == "ratio":
        return f"{value:.2f}x"
    return f"{value:,.0f} t"


def tolerance_text(r: Resolved) -> str:
    """A target's tolerance as shown: a percentage, points or a band."""
    unit = r.target.unit
    tol = r.tolerance
    if tol.rel is not None:
        return f"±{tol.rel * 100:g}%"
    if tol.abs is not None:
        points = tol.abs * 100 if unit == "share" else tol.abs
        return f"±{points:g} points" if unit in ("share", "%") else f"±{tol.abs:,.0f} t"
    assert tol.band is not None
    return f"{fmt(tol.band[0], unit)} to {fmt(tol.band[1], unit)}"


def error_text(row: Row) -> str:
    """A row's error as shown: points for shares and changes, a percentage otherwise."""
    unit = row.resolved.target.unit
    if not math.isfinite(row.mean):
        return "n/a"
    if unit in ("share", "%"):
        scale = 100 if unit == "share" else 1
        return f"{row.error * scale:+.1f} points"
    value = row.resolved.target.value
    return f"{row.error / value:+.1%}" if value else f"{row.error:+.2f}"


HEADER = [
    "target",
    "figure",
    "confidence",
    "reported",
    "simulated mean",
    "5-95% range",
    "error",
    "tolerance",
    "sample",
    "result",
]


def cells(row: Row) -> list[str]:
    """A row of the report's table: target, reported and simulated values, error, verdict."""
    t = row.resolved.target
    unit = t.unit
    return [
        t.id,
        t.description,
        t.confidence,
        fmt(t.value, unit),
        fmt(row.mean, unit),
        f"{fmt(row.p5, unit)} to {fmt(row.p95, unit)}",
        error_text(row),
        tolerance_text(row.resolved),
        "in" if row.fitted else "OUT",
        ("pass" if row.passed else "FAIL") + (" (required)" if t.required else ""),
    ]


def table_text(rows: Sequence[Row]) -> str:
    """The target table for the terminal, aligned (the long figure names left out)."""
    keep = [i for i, h in enumerate(HEADER) if h != "figure"]
    table = [[HEADER[i] for i in keep], *([cells(r)[i] for i in keep] for r in rows)]
    widths = [max(len(line[i]) for line in table) for i in range(len(keep))]
    return "\n".join(
        "  ".join(
            c.ljust(w) if i == 0 else c.rjust(w)
            for i, (c, w) in enumerate(zip(line, widths, strict=True))
        )
        for line in table
    )


def markdown_table(header: Sequence[str], body: Sequence[Sequence[str]]) -> list[str]:
    """A markdown table (cells with ``|`` made ``/``), as lines."""
    out = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    out += ["| " + " | ".join(cell.replace("|", "/") for cell in line) + " |" for line in body]
    return out


def summary_lines(report: Report) -> list[str]:
    """Pass counts in and out of sample, and each file's verdict."""
    inside = [r for r in report.rows if r.fitted]
    outside = [r for r in report.rows if not r.fitted]
    lines = [f"- In sample: **{sum(r.passed for r in inside)} of {len(inside)}** targets pass."]
    if outside:
        until = report.train_until.isoformat() if report.train_until else ""
        lines.append(
            f"- Out of sample (figures ending after {until}, not fitted): "
            f"**{sum(r.passed for r in outside)} of {len(outside)}** pass."
        )
    for v in report.verdicts:
        lines.append(f"- {'Passes' if v.ok else 'FAILS'}: {v.text}.")
    return lines


def report_markdown(report: Report, figures: Sequence[str] = ()) -> str:
    """report.md: what was fitted to what, the verdict, the table, parameters, sources."""
    ev = report.evaluation
    mode = (
        f"Fitted by least squares ({report.fit.evaluations} evaluations: {report.fit.message})"
        if report.fit is not None
        else "Evaluated as it stands (no fitting)"
    )
    files = ", ".join(f"`{f.file}`" for f in report.targets.files)
    split = (
        f" Targets ending after {report.train_until} are out of sample: shown, never fitted."
        if report.train_until
        else ""
    )
    lines = [
        "# Calibration report",
        "",
        f"Scenario `{report.scenario_file}` ({ev.scenario.name}, {ev.scenario.start} to "
        f"{ev.scenario.end}) against {files}.",
        f"{mode}; each simulated value is the mean over {report.k} replication(s) (seed "
        f"{ev.scenario.seed}, replications 0 to {report.k - 1}).{split}",
        "",
        *summary_lines(report),
        "",
        *markdown_table(HEADER, [cells(r) for r in report.rows]),
        "",
        *(f"![{name}]({name})" for name in figures),
        "",
        "## Free parameters",
        "",
        *_parameter_section(report),
        "",
        "## Not targeted",
        "",
        *_not_targeted_section(report),
        "",
        "## Sources and scope",
        "",
        *_sources_section(report),
    ]
    return "\n".join(lines) + "\n"


def _parameter_section(report: Report) -> list[str]:
    if not report.parameters:
        return ["The scenario declares no free parameters."]
    fitted = report.fit is not None
    header = ["parameter", *(["start"] if fitted else []), "value", "bounds", "why these bounds"]
    inert = set(report.fit.inert) if report.fit is not None else set()
    body = []
    for p in report.parameters:
        value = f"{p.value:g}" + (" (kept: no fitted figure moves it)" if p.path in inert else "")
        cells_ = [f"`{p.path}`", value, f"{p.low:g} to {p.high:g}", p.why]
        body.append([cells_[0], f"{p.start:g}", *cells_[1:]] if fitted else cells_)
    return markdown_table(header, body)


def _not_targeted_section(report: Report) -> list[str]:
    items = report.targets.not_targeted
    if not items:
        return ["Every reported figure in the targets files is targeted."]
    header = ["figure", "reported", "simulated", "why not targeted"]
    body = [
        [f"{nid}: {n.description} ({n.period})", _reported(n), _simulated(report, n), n.why]
        for nid, n in items
    ]
    return markdown_table(header, body)


def _reported(n: NotTargeted) -> str:
    value = n.value
    text = "; ".join(f"{v:g}" for v in value) if isinstance(value, list) else str(value)
    return f"{text} {n.unit}"


def _simulated(report: Report, n: NotTargeted) -> str:
    """The model's reading of a figure left out, for information, when it has one."""
    q = n.quantity
    ev = report.evaluation
    if q is None or q.span.months[0] not in ev.observed.axes.months:
        return ""
    if q.span.months[-1] not in ev.observed.axes.months:
        return ""
    return fmt(float(np.mean(amount(ev.observed, q))), "t")


def _sources_section(report: Report) -> list[str]:
    lines = []
    for r in report.rows:
        t = r.resolved.target
        if isinstance(t.source, SeedSource):
            origin = f'seed `{t.source.seed}`: "{" ".join(t.source.quote.split())}"'
        else:
            derived = (
                f" (derived from {', '.join(t.source.derived_from)}: {t.source.how})"
                if t.source.derived_from
                else ""
            )
            origin = f"`{t.source.table}`{derived}"
        lines.append(
            f"- **{t.id}** {t.description}; {t.outlet}, {t.confidence}. Model reads "
            f"`{t.label}`; reported scope: {t.reported_scope}. Source: {origin}."
            + (f" Tolerance: {t.tolerance_why.strip()}" if t.tolerance_why else "")
            + (f" Note: {t.note.strip()}" if t.note else "")
        )
    return lines


def report_frame(report: Report) -> pd.DataFrame:
    """report.csv: one row per target with the numbers behind the table."""
    records = []
    for r in report.rows:
        t = r.resolved.target
        low, high = r.resolved.limits()
        records.append(
            {
                "target": t.id,
                "description": t.description,
                "quantity": t.label,
                "kind": t.kind,
                "unit": t.unit,
                "outlet": t.outlet,
                "confidence": t.confidence,
                "weight": r.resolved.weight,
                "required": t.required,
                "sample": "in" if r.fitted else "out",
                "reported": t.value,
                "simulated_mean": r.mean,
                "simulated_p5": r.p5,
                "simulated_p95": r.p95,
                "error": r.error,
                "pass_low": low,
                "pass_high": high,
                "passed": r.passed,
                "file": r.resolved.file,
            }
        )
    return pd.DataFrame.from_records(records)
