"""Expectations: properties a sweep must have, checked after it runs (``--check`` gates CI).

    expectations:
      - name: offensive_lowers_china
        expect: imports.china.myanmar.all.2026 < baseline   # paired with the baseline run
        over: samples       # each sample: KPI means over its replications (default)
        share: 1.0          # must hold for every sample (0.9: for 90% of them)

Over ``samples``, each KPI is the mean over the sample's replications and ``baseline`` the mean
of the baseline over the same replication indices (paired). Over ``runs``, each run is compared
with the baseline run of its replication index. A planned unit without a finished run counts as
not holding: a sweep whose runs failed cannot pass. Expressions are parsed by
``sim.sweep.expressions`` (no ``eval``).
"""

from __future__ import annotations

import json
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.io.outputs import atomic_file
from sim.sweep.expressions import BASELINE, Expression, parse
from sim.sweep.spec import BASELINE_SAMPLE, Expectation, SweepSpec

SHOWN = 5
"""Failing units named in a verdict."""


@dataclass(frozen=True)
class Verdict:
    """How one expectation fared."""

    expectation: Expectation
    units: int
    held: int
    passed: bool
    failures: list[str] = field(default_factory=list)

    @property
    def share(self) -> float:
        """Share of the units for which the expectation held (0 without units)."""
        return self.held / self.units if self.units else 0.0

    @property
    def summary(self) -> str:
        """The verdict in words: held for how many of how many units, and what was needed."""
        e = self.expectation
        needs = "every one" if e.share >= 1 else f"needs {e.share:.0%}"
        return f"held for {self.held} of {self.units} {e.over} ({self.share:.0%}; {needs})"


def paired_runs(kpis: pd.DataFrame, names: list[str], planned: pd.MultiIndex) -> pd.DataFrame:
    """One row per planned sample run (sample >= 0), with each KPI and ``baseline.<KPI>``.

    ``kpis`` is long (sample, replication, kpi, value); runs that did not finish are NaN.
    """
    wanted = kpis[kpis["kpi"].isin(names)]
    wide = wanted.pivot_table(
        index=["sample", "replication"], columns="kpi", values="value", aggfunc="last"
    )
    wide = wide.reindex(columns=names)
    samples = wide.reindex(planned)
    if (wide.index.get_level_values("sample") == BASELINE_SAMPLE).any():
        base = wide.xs(BASELINE_SAMPLE, level="sample")
    else:
        base = pd.DataFrame(columns=names, dtype=float)
    reps = samples.index.get_level_values("replication")
    for name in names:
        samples[f"{BASELINE}.{name}"] = base[name].reindex(reps).to_numpy(dtype=float)
    return samples.astype(float)


def units(frame: pd.DataFrame, over: str) -> pd.DataFrame:
    """The rows an expectation is judged on: runs, or samples (means over replications).

    For samples, a run counts only with every value the expression needs (its baseline partner
    included), so sample and baseline means are over the same replication indices.
    """
    if over == "runs":
        return frame
    frame = frame.copy()
    frame.loc[frame.isna().any(axis=1), :] = np.nan
    return frame.groupby(level="sample").mean()  # NaN only when no run of the sample counts


Failures = dict[tuple[int, int], dict[str, str]]
"""(sample, replication) -> KPI -> why that run has no value for it (not finite)."""


def judge(
    expectation: Expectation,
    frame: pd.DataFrame,
    design: list[dict[str, Any]],
    failures: Failures | None = None,
) -> Verdict:
    """Evaluate one expectation over its units."""
    expression = parse(expectation.expect)
    table = units(frame[expression.names()], expectation.over)
    holds = expression.evaluate(lambda name: table[name].to_numpy(dtype=float)) > 0
    holds = np.broadcast_to(holds, (len(table),))
    count = len(table)
    held = int(holds.sum())
    passed = count > 0 and held >= expectation.share * count - 1e-9
    shown = [
        _describe(table, i, expression, design, failures or {})
        for i in np.flatnonzero(~holds)[:SHOWN]
    ]
    return Verdict(expectation, count, held, passed, shown)


def _describe(
    table: pd.DataFrame,
    i: int,
    expression: Expression,
    design: list[dict[str, Any]],
    failures: Failures,
) -> str:
    key = table.index[i]
    sample = int(key[0] if isinstance(key, tuple) else key)
    where = f"sample {sample}" + (f" replication {key[1]}" if isinstance(key, tuple) else "")
    row = table.iloc[[i]]
    values = [
        float(np.ravel(e.evaluate(lambda n: row[n].to_numpy(dtype=float)))[0])
        for e in (expression.sides() or (expression,))
    ]
    shown = " vs ".join(f"{v:,.6g}" for v in values)
    if any(np.isnan(values)):
        reps = [key[1]] if isinstance(key, tuple) else None
        shown = _missing(failures, sample, reps, set(expression.kpis()))
    params = ", ".join(f"{k}={_value(v)}" for k, v in design[sample].items()) if design else ""
    return f"{where} ({params}): {shown}"


def _missing(failures: Failures, sample: int, reps: list[int] | None, names: set[str]) -> str:
    """Why a unit has no value: the KPIs that failed in its run(s), or no finished run."""
    reasons: dict[str, None] = {}
    for (s, r), errors in failures.items():
        if s == sample and (reps is None or r in reps):
            reasons.update(dict.fromkeys(v for k, v in errors.items() if k in names))
    if not reasons:
        return "no finished run"
    return "no value: " + "; ".join(list(reasons)[:2])


def kpi_failure_map(runs: pd.DataFrame | None) -> Failures:
    """The runs' recorded KPI failures, by (sample, replication)."""
    out: Failures = {}
    if runs is None or "kpi_errors" not in runs:
        return out
    for s, r, text in zip(runs["sample"], runs["replication"], runs["kpi_errors"], strict=True):
        if text and text != "{}":
            out[(int(s), int(r))] = json.loads(text)
    return out


def _value(value: Any) -> str:
    return f"{value:.4g}" if isinstance(value, float) else str(value)


def check(
    spec: SweepSpec,
    kpis: pd.DataFrame,
    design: list[dict[str, Any]],
    runs: pd.DataFrame | None = None,
) -> list[Verdict]:
    """Every expectation of a spec, judged on a sweep's KPIs (``runs``: to say why a unit has
    no value, a failed KPI or no finished run)."""
    if not spec.expectations:
        return []
    names: dict[str, None] = {}
    for e in spec.expectations:
        names.update(dict.fromkeys(parse(e.expect).kpis()))
    planned = pd.MultiIndex.from_product(
        [range(len(design)), range(spec.replications)], names=["sample", "replication"]
    )
    frame = paired_runs(kpis, list(names), planned)
    failures = kpi_failure_map(runs)
    return [judge(e, frame, design, failures) for e in spec.expectations]


def write_junit(
    path: Path,
    name: str,
    verdicts: list[Verdict],
    runs: pd.DataFrame,
    seconds: float = 0.0,
) -> None:
    """A JUnit XML report: one test case for the runs completing, one per expectation."""
    suite_name = f"sweep.{name}"
    bad_runs = runs[runs["status"] != "ok"]
    failures = int(len(bad_runs) > 0) + sum(not v.passed for v in verdicts)
    root = ET.Element(
        "testsuites",
        name="sim sweep",
        tests=str(len(verdicts) + 1),
        failures=str(failures),
        errors="0",
        time=f"{seconds:.3f}",
    )
    suite = ET.SubElement(
        root,
        "testsuite",
        name=suite_name,
        tests=str(len(verdicts) + 1),
        failures=str(failures),
        errors="0",
        time=f"{seconds:.3f}",
    )
    case = ET.SubElement(suite, "testcase", classname=suite_name, name="runs_completed")
    if len(bad_runs):
        text = "\n".join(
            f"sample {r.sample} replication {r.replication}: {r.error} (params {r.params})"
            for r in bad_runs.head(20).itertuples()
        )
        failure = ET.SubElement(
            case, "failure", message=f"{len(bad_runs)} of {len(runs)} runs failed"
        )
        failure.text = text
    for verdict in verdicts:
        e = verdict.expectation
        case = ET.SubElement(suite, "testcase", classname=suite_name, name=e.name)
        if not verdict.passed:
            failure = ET.SubElement(case, "failure", message=verdict.summary)
            failure.text = "\n".join([f"expect: {e.expect}", *verdict.failures])
        elif e.description:
            ET.SubElement(case, "system-out").text = e.description
    ET.indent(root)
    tree = ET.ElementTree(root)
    atomic_file(path, lambda tmp: tree.write(tmp, encoding="utf-8", xml_declaration=True))
