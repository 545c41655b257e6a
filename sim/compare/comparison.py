"""``sim compare``: several scenarios side by side, on common random numbers.

Every scenario runs with the same master seed and the same replication indices, so replication
i of each scenario sees the same draws for every source of randomness they share (the engine
keys each event's and each route's stream by name). Differences between scenarios are then
paired: the shortfall of replication i is measured against replication i of the first scenario,
not against an independent run, and its 5-95% range is the range of the *difference*.

The first scenario is the reference: shortfalls and recovery are measured against it.

Outputs (one folder, written atomically): ``compare_imports.png``/``.svg`` (monthly imports),
``compare_annual.png``/``.svg`` (annual totals), ``compare_kpis.csv`` (tidy KPIs with 5-95%
ranges) and ``report.html`` (one self-contained page). The core never imports this module.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from sim.errors import InputError, Problem
from sim.results.kpis import QUAD, quad_destinations
from sim.results.result import Result
from sim.results.series import china_from_myanmar
from sim.scenario import schema as spec

CHINA = "china"
"""Importer id of China: the reference flow of every comparison."""
MYANMAR = "myanmar"
"""Origin (site country) whose flows the comparison follows."""
RECOVERY_LEVEL = 0.9
"""Share of the reference scenario's monthly imports counted as recovered."""
PRODUCT_NAMES = {"all": "all products", "mhree": "medium/heavy", "lree": "light"}
KPI_COLUMNS = [
    "scenario",
    "kpi",
    "importer",
    "origin",
    "product",
    "year",
    "unit",
    "mean",
    "p5",
    "p95",
    "note",
]
"""Columns of compare_kpis.csv. ``year`` is a calendar year or "all" (the whole horizon)."""


@dataclass(frozen=True)
class Comparison:
    """The runs of one comparison, in the order given; the first is the reference."""

    results: list[Result]
    seed: int
    replications: int
    files: list[str]
    """Where each scenario came from (for the report), in the same order."""
    folder: Path | None = None
    """Where ``sim.compare(..., out=...)`` wrote the figures, tables and report."""

    @functools.cached_property
    def kpis(self) -> pd.DataFrame:
        """The tidy KPI table of compare_kpis.csv (see ``KPI_COLUMNS``), computed once."""
        return kpi_table(self)

    @property
    def names(self) -> list[str]:
        """The scenarios' names, the reference first."""
        return [r.scenario.name for r in self.results]

    @property
    def reference(self) -> Result:
        """The first scenario's result: what the others are compared with."""
        return self.results[0]

    @property
    def titles(self) -> dict[str, str]:
        """Scenario name -> its human name (``title_of``)."""
        return {r.scenario.name: title_of(r.scenario) for r in self.results}

    @property
    def span(self) -> str:
        """The common horizon in years, ``2025-2030``."""
        months = sorted(china_from_myanmar(self.reference).columns)
        if not months:
            return ""
        first, last = months[0][:4], months[-1][:4]
        return first if first == last else f"{first}-{last}"


def title_of(scenario: spec.Scenario) -> str:
    """A scenario's human name: its ``title``, else its name with spaces for underscores."""
    return scenario.title or scenario.name.replace("_", " ")


# --- running -------------------------------------------------------------------------------


def check_comparable(scenarios: Sequence[spec.Scenario], files: Sequence[str]) -> None:
    """Refuse comparisons whose figures could not be told apart or lined up.

    Names label lines, colours and rows, so they must differ; every scenario needs China as an
    importer (the reference flow) and months in common with the first scenario.
    """
    problems: list[Problem] = []
    seen: dict[str, str] = {}
    for scenario, file in zip(scenarios, files, strict=True):
        if scenario.name in seen:
            message = f"scenario name {scenario.name!r} is also used by {seen[scenario.name]}"
            problems.append(Problem(message, file=file, path="name"))
        seen.setdefault(scenario.name, file)
        if CHINA not in scenario.importers:
            problems.append(Problem(f"no importer {CHINA!r} to compare", file=file))
        first = scenarios[0]
        if scenario.end < first.start or scenario.start > first.end:
            message = f"horizon does not overlap the first scenario's ({first.name})"
            problems.append(Problem(message, file=file, path="start"))
    if problems:
        raise InputError(problems)


def run_paired(
    scenarios: Sequence[spec.Scenario],
    seed: int | None = None,
    replications: int | None = None,
    executor: Executor | None = None,
    files: Sequence[str] | None = None,
) -> Comparison:
    """Run every scenario with one master seed and the same replication indices.

    ``seed`` and ``replications`` default to the first scenario's, so that a comparison is
    paired whatever seeds the files name.
    """
    from sim.results.runner import run

    if not scenarios:
        raise InputError([Problem("compare needs at least one scenario", file="<command line>")])
    first = scenarios[0]
    seed = first.seed if seed is None else seed
    count = first.replications if replications is None else replications
    results = [run(s, seed=seed, replications=count, executor=executor) for s in scenarios]
    names = list(files) if files is not None else [f"<{s.name}>" for s in scenarios]
    return Comparison(results=results, seed=seed, replications=count, files=names)


def months_to_recover(
    reference: np.ndarray, series: np.ndarray, level: float = RECOVERY_LEVEL
) -> int | None:
    """Months from the first month ``series`` falls below ``level`` x ``reference`` until it is
    back at or above that level for good (to the end of the horizon).

    0 when it never falls below; None when it is still below in the last month (it does not
    recover within the horizon). Months where the reference is zero cannot be fallen short of.
    A scenario that dips, recovers and dips again counts from the first dip to the final
    recovery, since a planner cares about when supply is back to stay.
    """
    below = (reference > 0) & (series < level * reference)
    if not below.any():
        return 0
    first = int(np.argmax(below))
    last = len(below) - 1 - int(np.argmax(below[::-1]))
    if last == len(below) - 1:
        return None
    return last + 1 - first


# --- KPIs ----------------------------------------------------------------------------------


def _summary(values: pd.Series | np.ndarray) -> tuple[float, float, float]:
    """Mean, 5th and 95th percentile over replications (NaN-free input)."""
    v = np.asarray(values, dtype=float)
    return float(v.mean()), float(np.quantile(v, 0.05)), float(np.quantile(v, 0.95))


def _row(
    name: str,
    kpi: str,
    importer: str,
    origin: str,
    product: str,
    year: str,
    unit: str,
    values: pd.Series | np.ndarray,
    note: str = "",
) -> dict[str, object]:
    mean, p5, p95 = _summary(values)
    return {
        "scenario": name,
        "kpi": kpi,
        "importer": importer,
        "origin": origin,
        "product": product,
        "year": year,
        "unit": unit,
        "mean": mean,
        "p5": p5,
        "p95": p95,
        "note": note,
    }


def kpi_table(comparison: Comparison) -> pd.DataFrame:
    """Every KPI of every scenario as one tidy table (the rows of compare_kpis.csv).

    kpi = imports (t per year, by importer, origin myanmar or all, product; importer "quad"
    counts each tonne once at its first Quad border), shortfall_t and shortfall_pct (China
    from Myanmar, against the first scenario, paired by replication), months_to_recover_90
    (on the mean monthly series; empty with note "never" when it does not recover),
    quad_delivered and quad_processed (t per year: feed reaching Quad processors and what they
    separated), heavy_dependence (China's medium/heavy imports from Myanmar over its own
    ionic-clay supply, per year), quad_delivered_t, quad_processed_t, peak_stockpile_t and
    lost_t (whole horizon).
    """
    rows: list[dict[str, object]] = []
    for result in comparison.results:
        rows.extend(_import_rows(result))
        rows.extend(_shortfall_rows(comparison.reference, result))
        rows.append(_recovery_row(comparison.reference, result))
        rows.extend(_horizon_rows(result))
    return pd.DataFrame(rows, columns=KPI_COLUMNS)


def _wide_kpis(result: Result) -> pd.DataFrame:
    """The Result's KPIs as replications x KPI names."""
    return result.wide_kpis()


def _import_rows(result: Result) -> list[dict[str, object]]:
    """Annual imports by importer, origin and product; the Quad counted once per tonne
    (importer "quad") and its breakdown by where the product is bound (kpi quad_bound)."""
    wide = _wide_kpis(result)
    name = result.scenario.name
    years = sorted({m[:4] for m in result.axes.months})
    rows = []
    importers = list(result.scenario.importers)
    if any(i.quad for i in result.scenario.importers.values()):
        importers.append(QUAD)
    for importer in importers:
        for origin in (MYANMAR, "all"):
            for product in PRODUCT_NAMES:
                for year in years:
                    key = f"imports.{importer}.{origin}.{product}.{year}"
                    values = wide[key] if key in wide else np.zeros(len(wide))
                    rows.append(_row(name, "imports", importer, origin, product, year, "t", values))
    for destination in quad_destinations(result.scenario):
        for year in years:
            key = f"quad_bound.{destination}.{MYANMAR}.{year}"
            values = wide[key] if key in wide else np.zeros(len(wide))
            rows.append(_row(name, "quad_bound", destination, MYANMAR, "all", year, "t", values))
    return rows + _annual_kpi_rows(name, wide, years)


def _annual_kpi_rows(name: str, wide: pd.DataFrame, years: list[str]) -> list[dict[str, object]]:
    """Rows of the per-year KPIs beyond imports (``ANNUAL_KPIS``) that the run reported."""
    rows = []
    for kpi, importer, product, unit in ANNUAL_KPIS:
        keys = [f"{kpi}.{y}" if importer == QUAD else f"{kpi}.{importer}.{y}" for y in years]
        present = [(year, key) for year, key in zip(years, keys, strict=True) if key in wide]
        for year, key in present:
            rows.append(_row(name, kpi, importer, MYANMAR, product, year, unit, wide[key]))
        if present and unit == "t":  # tonnes add up over the horizon; a ratio does not
            total = wide[[key for _, key in present]].sum(axis=1)
            rows.append(_row(name, kpi, importer, MYANMAR, product, "all", unit, total))
    return rows


ANNUAL_KPIS = [
    ("quad_delivered", QUAD, "all", "t"),
    ("quad_processed", QUAD, "all", "t"),
    ("heavy_dependence", CHINA, "mhree", "ratio"),
]
"""Per-year KPIs beyond imports: (kpi, importer, product, unit). Quad plants' feed and output,
and China's dependence on Myanmar's heavy feed against its own ionic-clay mining."""


def _shortfall_rows(reference: Result, result: Result) -> list[dict[str, object]]:
    """Per common year and over the common horizon: first - this, in t and in % of first."""
    name = result.scenario.name
    rows = []
    for product in ("all", "mhree"):
        ref, this = paired_common(
            china_from_myanmar(reference, product), china_from_myanmar(result, product)
        )
        periods = {y: [m for m in ref.columns if m.startswith(y)] for y in _years(ref.columns)}
        periods["all"] = list(ref.columns)
        for year, months in periods.items():
            first, own = ref[months].sum(axis=1), this[months].sum(axis=1)
            gap = first - own
            rows.append(
                _row(name, "shortfall_t", CHINA, MYANMAR, product, year, "t", gap.to_numpy())
            )
            if (first > 0).all():
                pct = 100.0 * gap / first
                rows.append(_row(name, "shortfall_pct", CHINA, MYANMAR, product, year, "%", pct))
    return rows


def paired_common(ref: pd.DataFrame, this: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both series restricted to their common months and replications (paired)."""
    months = [m for m in ref.columns if m in set(this.columns)]
    reps = [r for r in ref.index if r in set(this.index)]
    return ref.loc[reps, months], this.loc[reps, months]


def _years(months: Sequence[str]) -> list[str]:
    return sorted({m[:4] for m in months})


def _recovery_row(reference: Result, result: Result) -> dict[str, object]:
    ref, this = paired_common(china_from_myanmar(reference), china_from_myanmar(result))
    months = months_to_recover(ref.mean().to_numpy(), this.mean().to_numpy())
    value = math.nan if months is None else float(months)
    row = _row(
        result.scenario.name,
        "months_to_recover_90",
        CHINA,
        MYANMAR,
        "all",
        "all",
        "months",
        np.array([value]),
        note="never" if months is None else "",
    )
    row["p5"] = row["p95"] = math.nan  # one number, from the mean series: no range
    return row


def _horizon_rows(result: Result) -> list[dict[str, object]]:
    wide = _wide_kpis(result)
    name = result.scenario.name
    return [
        _row(name, "quad_delivered_t", "quad", "all", "all", "all", "t", wide["quad_delivered_t"]),
        _row(name, "quad_processed_t", "quad", "all", "all", "all", "t", wide["quad_processed_t"]),
        _row(name, "peak_stockpile_t", "", "", "all", "all", "t", wide["peak_stockpile_t"]),
        _row(name, "lost_t", "", "", "all", "all", "t", wide["lost_t"]),
    ]


# --- tables for people ---------------------------------------------------------------------


@dataclass(frozen=True)
class Tables:
    """The comparison as two tables for people (mean over replications).

    annual: rows (scenario, measure), columns years and "total". summary: one row per scenario.
    """

    annual: pd.DataFrame
    summary: pd.DataFrame
    reference: str


def tables(comparison: Comparison, kpis: pd.DataFrame) -> Tables:
    """Pick from the tidy KPIs what a reader compares: imports by importer and product per
    year (the Quad counted once, with where its tonnes are bound as a breakdown), the
    shortfall against the first scenario, and the horizon-wide figures."""
    first = comparison.names[0]
    annual_rows: dict[tuple[str, str], pd.Series] = {}
    shown = _shown_series(comparison, kpis)
    for name in comparison.names:
        mine = kpis[kpis.scenario == name]
        for label, kpi, importer, product in shown:
            annual_rows[(name, label)] = _by_year(mine, kpi, importer, MYANMAR, product)
        annual_rows[(name, f"Shortfall vs {first}, t")] = _by_year(
            mine, "shortfall_t", CHINA, MYANMAR, "all"
        )
        annual_rows[(name, f"Shortfall vs {first}, %")] = _by_year(
            mine, "shortfall_pct", CHINA, MYANMAR, "all"
        )
    annual = pd.DataFrame(annual_rows).T
    annual = annual[[*sorted(c for c in annual.columns if c != "total"), "total"]]
    annual.index.names = ["scenario", "measure"]
    summary = pd.DataFrame([_summary_row(kpis, name, first) for name in comparison.names])
    return Tables(annual=annual, summary=summary.set_index("scenario"), reference=first)


QUAD_LABEL = "Quad from Myanmar, each tonne once"
BOUND_PREFIX = "  of which bound for "


def _shown_series(comparison: Comparison, kpis: pd.DataFrame) -> list[tuple[str, str, str, str]]:
    """(label, kpi, importer, product) of each annual row: China by product always; the Quad
    (each tonne counted once at its first Quad border) and where its tonnes are bound, only if
    some scenario has any. India and the US are never summed apart: that double counts."""
    names = _importer_names(comparison)
    shown = [
        (f"China from Myanmar, {PRODUCT_NAMES[p]}", "imports", CHINA, p) for p in PRODUCT_NAMES
    ]
    mine = kpis[kpis.origin == MYANMAR]
    quad = mine[(mine.kpi == "imports") & (mine.importer == QUAD) & (mine["product"] == "all")]
    if (quad["mean"] > 0).any():
        shown.append((QUAD_LABEL, "imports", QUAD, "all"))
        bound = mine[mine.kpi == "quad_bound"]
        for destination in dict.fromkeys(bound.importer):
            if (bound.loc[bound.importer == destination, "mean"] > 0).any():
                label = f"{BOUND_PREFIX}{names.get(destination, destination)}"
                shown.append((label, "quad_bound", str(destination), "all"))
        shown.append(("Quad plants: delivered to them", "quad_delivered", QUAD, "all"))
        shown.append(("Quad plants: separated by them", "quad_processed", QUAD, "all"))
    return shown


def _importer_names(comparison: Comparison) -> dict[str, str]:
    """Importer id -> its name in the scenarios (the first scenario that names it)."""
    out: dict[str, str] = {}
    for result in comparison.results:
        for iid, importer in result.scenario.importers.items():
            out.setdefault(iid, importer.name)
    return out


def _by_year(kpis: pd.DataFrame, kpi: str, importer: str, origin: str, product: str) -> pd.Series:
    rows = kpis[
        (kpis.kpi == kpi)
        & (kpis.importer == importer)
        & (kpis.origin == origin)
        & (kpis["product"] == product)
    ]
    series = rows.set_index("year")["mean"]
    if kpi in {"imports", "quad_bound"}:
        years = sorted(str(y) for y in kpis.loc[kpis.kpi == "imports", "year"].unique())
        series = series.reindex(years, fill_value=0.0)
        series["total"] = series.sum()
    elif "all" in series.index:
        series = series.rename({"all": "total"})
    return series


def _pick(kpis: pd.DataFrame, name: str, kpi: str, product: str = "all") -> pd.Series:
    rows = kpis[
        (kpis.scenario == name)
        & (kpis.kpi == kpi)
        & (kpis.year == "all")
        & (kpis["product"] == product)
    ]
    return rows.iloc[0] if len(rows) else pd.Series({"mean": math.nan, "note": ""})


def _summary_row(kpis: pd.DataFrame, name: str, first: str) -> dict[str, object]:
    china = kpis[
        (kpis.scenario == name)
        & (kpis.kpi == "imports")
        & (kpis.importer == CHINA)
        & (kpis.origin == MYANMAR)
        & (kpis["product"] == "all")
    ]["mean"].sum()
    recover = _pick(kpis, name, "months_to_recover_90")
    return {
        "scenario": name,
        "China from Myanmar, total (t)": china,
        f"Shortfall vs {first} (t)": _pick(kpis, name, "shortfall_t")["mean"],
        f"Shortfall vs {first} (%)": _pick(kpis, name, "shortfall_pct")["mean"],
        "Months to recover to 90%": "never" if recover["note"] == "never" else recover["mean"],
        "Reached Quad processors (t)": _pick(kpis, name, "quad_delivered_t")["mean"],
        "Processed by Quad plants (t)": _pick(kpis, name, "quad_processed_t")["mean"],
        "Peak stockpile on sites (t)": _pick(kpis, name, "peak_stockpile_t")["mean"],
        "Lost in transit (t)": _pick(kpis, name, "lost_t")["mean"],
    }


def format_value(value: object, percent: bool = False) -> str:
    """A table cell: thousands separators for tonnes, one decimal for %, text as is."""
    if isinstance(value, str):
        return value
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "-"
    number = float(value)  # type: ignore[arg-type]
    if percent:
        return f"{number:,.1f}"
    return f"{number:,.0f}"


def format_tables(comparison: Comparison, kpis: pd.DataFrame) -> str:
    """The printed table: annual imports and shortfall per scenario, then a summary."""
    t = tables(comparison, kpis)
    lines = [
        f"Annual imports from Myanmar (t), mean of {comparison.replications} paired "
        f"replication(s), seed {comparison.seed}; 5-95% ranges in compare_kpis.csv",
        "",
    ]
    columns = list(t.annual.columns)
    width = max(len(m) for _, m in t.annual.index) + 2
    header = f"{'':<{width}}" + "".join(f"{c:>10}" for c in columns)
    lines.append(header)
    for name in comparison.names:
        lines.append(name)
        for (_, measure), row in t.annual.loc[[name]].iterrows():
            pct = measure.endswith("%")
            cells = "".join(f"{format_value(row[c], pct):>10}" for c in columns)
            lines.append(f"  {measure:<{width - 2}}{cells}")
    lines += ["", f"Summary over the horizon (mean; shortfall against {t.reference})", ""]
    heads = list(t.summary.columns)
    name_width = max(len(n) for n in comparison.names) + 2
    short = [_short_heading(h) for h in heads]
    lines.append(f"{'scenario':<{name_width}}" + "".join(f"{h:>14}" for h in short))
    for name, row in t.summary.iterrows():
        cells = "".join(f"{format_value(row[h], h.endswith('(%)')):>14}" for h in heads)
        lines.append(f"{name!s:<{name_width}}{cells}")
    lines.append("")
    lines.append("  " + "; ".join(f"{s} = {h}" for s, h in zip(short, heads, strict=True)))
    return "\n".join(lines)


def _short_heading(heading: str) -> str:
    return {
        "China from Myanmar, total (t)": "China t",
        "Months to recover to 90%": "recover mo",
        "Reached Quad processors (t)": "Quad t",
        "Processed by Quad plants (t)": "Quad proc t",
        "Peak stockpile on sites (t)": "stockpile t",
        "Lost in transit (t)": "lost t",
    }.get(heading, "shortfall %" if heading.endswith("(%)") else "shortfall t")


# --- files ---------------------------------------------------------------------------------
