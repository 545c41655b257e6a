"""A sweep's analysis: figures, tables and ``summary.md``, rebuilt from the folder alone.

    fan_<importer>.png        monthly imports by origin: median, 25-75% and 5-95% bands over all
                              sample runs (the baseline's median dashed)
    fans.csv                  the same numbers
    kpi_distributions.png     a histogram per analysed KPI over sample runs (baseline dashed)
    kpi_summary.csv           mean and percentiles per analysed KPI, with the baseline's
    sensitivity.csv           per KPI and parameter: the ranked index, its method, Spearman's rho,
                              the KPI's mean with the parameter low and high
    tornado_<kpi>.png         that ranking as a tornado chart
    discovery.csv             the peeling trajectory of each scenario-discovery outcome
    expectations.json         each expectation's verdict
    summary.md                all of the above, tied together

Sensitivity is computed on each sample's mean over its replications, with a method the design
allows (``sensitivity_method``):

- Latin hypercube and random designs with at least ``S1_MIN_SAMPLES`` samples: first-order
  Sobol' indices S1 estimated from the given sample by SALib (``SALib.analyze.delta`` with
  ``method="sobol"``, a binned estimator valid for any sampling design; Saltelli's estimator
  would need its own design), with a bootstrap 95% interval. SALib's
  moment-independent delta from the same module was tried and left out: at these sample sizes
  it took ~20 s per KPI (its kernel-density bootstrap) and ranked parameters less stably than
  S1 and the rank correlations;
- grids: the correlation ratio eta^2, the share of the KPI's variance between the parameter's
  levels (the exact main effect on a full factorial);
- smaller sampled designs: the absolute Spearman rank correlation |rho|.

Categorical parameters (choices of text) always get eta^2 over their levels. Spearman's rho is
reported for every ordered parameter, for the direction of the effect.
"""

from __future__ import annotations

import contextlib
import importlib.util
import io
import json
import logging
import math
import warnings
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats

from sim.io.outputs import atomic_folder
from sim.sweep import prim
from sim.sweep.expectations import Verdict, check, paired_runs
from sim.sweep.expressions import parse
from sim.sweep.spec import BASELINE_SAMPLE, SweepSpec, analysed_kpis
from sim.sweep.store import Store, kpi_failures

log = logging.getLogger(__name__)

S1_MIN_SAMPLES = 20
"""Below this many samples a variance-based index is too unstable; |rho| is used instead."""
MAX_FIGURES = 12
"""Tornado charts and histogram panels, at most (the tables hold every KPI)."""
QUANTILES = (0.05, 0.25, 0.5, 0.75, 0.95)


@dataclass
class Report:
    """What an analysis found, for the command's exit code and messages."""

    folder: Path
    runs: int
    failed: int
    verdicts: list[Verdict]

    @property
    def expectations_ok(self) -> bool:
        return all(v.passed for v in self.verdicts)


@dataclass(frozen=True)
class Data:
    """A sweep folder read back: spec, design, runs and the analysed KPIs (per run, wide)."""

    spec: SweepSpec
    meta: dict[str, Any]
    design: list[dict[str, Any]]
    runs: pd.DataFrame
    kpis: pd.DataFrame
    """Long KPI rows of the analysed KPIs and of those expectations and outcomes name."""
    analysed: list[str]


def load(folder: Path) -> Data:
    store = Store(folder)
    meta = store.meta()
    spec = SweepSpec.model_validate(meta["spec"])
    design = store.samples()
    analysed = analysed_kpis(spec, store.kpi_names())
    needed = set(analysed)
    for text in [e.expect for e in spec.expectations] + [d.outcome for d in spec.discover]:
        needed |= set(parse(text).kpis())
    runs = _planned(store.runs(), spec, len(design))
    kpis = store.kpis(needed)
    kpis = kpis.merge(runs.loc[runs.status == "ok", ["sample", "replication"]])
    return Data(spec, meta, design, runs, kpis, analysed)


def _planned(runs: pd.DataFrame, spec: SweepSpec, samples: int) -> pd.DataFrame:
    """Only the runs of the current plan (replications may have shrunk since)."""
    keep = (runs["replication"] < spec.replications) & (runs["sample"] < samples)
    if spec.baseline is None:
        keep &= runs["sample"] != BASELINE_SAMPLE
    return runs[keep].reset_index(drop=True)


def analyze(folder: Path) -> Report:
    """Write ``folder/analysis`` (atomically) and return the verdicts."""
    data = load(folder)
    verdicts = check(data.spec, data.kpis, data.design, data.runs)
    with atomic_folder(folder / "analysis") as out:
        sections = [
            _expectations_section(verdicts, out),
            _kpi_section(data, out),
            _fan_section(data, Store(folder), out),
            _sensitivity_section(data, out),
            _discovery_section(data, out),
        ]
        (out / "summary.md").write_text(_header(data) + "\n".join(sections))
    failed = int((data.runs.status != "ok").sum())
    return Report(folder, len(data.runs), failed, verdicts)


# --- summary header ----------------------------------------------------------------------------


def _header(data: Data) -> str:
    spec = data.spec
    runs = data.runs
    ok = runs[runs.status == "ok"]
    baseline = f"; baseline: {data.meta.get('baseline')}" if spec.baseline else ""
    method = spec.method.replace("_", " ")
    design = f"{method}, {len(data.design)} samples x {spec.replications} replications"
    lines = [
        f"# Sweep `{spec.name}`",
        "",
        spec.description.strip(),
        "",
        f"- base scenario: `{data.meta.get('base')}` (`{spec.base}`){baseline}",
        f"- design: {design}, master seed {spec.seed} (common random numbers: replication *r* of "
        "every sample and of the baseline uses the same random streams)",
        f"- parameters: {', '.join(f'`{p}`' for p in spec.parameters)}",
        f"- runs: {len(ok)} finished, {len(runs) - len(ok)} failed",
        "",
    ]
    bad = runs[runs.status != "ok"]
    if len(bad):
        lines += ["Failed runs (first 10):", ""]
        lines += [
            f"- sample {r.sample} replication {r.replication}: `{r.error}` ({r.params})"
            for r in bad.head(10).itertuples()
        ]
        lines.append("")
    failures = kpi_failures(runs)
    if failures:
        lines += ["KPIs without a value in some runs (not finite; left out of every table):", ""]
        lines += [f"- `{k}`: {n} run(s); {reason}" for k, (n, reason) in failures.items()]
        lines.append("")
    return "\n".join(lines) + "\n"


# --- expectations ------------------------------------------------------------------------------


def _expectations_section(verdicts: list[Verdict], out: Path) -> str:
    document = [
        {
            "name": v.expectation.name,
            "expect": v.expectation.expect,
            "over": v.expectation.over,
            "share_needed": v.expectation.share,
            "units": v.units,
            "held": v.held,
            "passed": v.passed,
            "failures": v.failures,
        }
        for v in verdicts
    ]
    (out / "expectations.json").write_text(json.dumps(document, indent=2) + "\n")
    if not verdicts:
        return "## Expectations\n\nNone in the spec.\n"
    lines = ["## Expectations", "", "| | name | expectation | result |", "|---|---|---|---|"]
    for v in verdicts:
        mark = "PASS" if v.passed else "**FAIL**"
        lines.append(f"| {mark} | {v.expectation.name} | `{v.expectation.expect}` | {v.summary} |")
    for v in verdicts:
        if not v.passed:
            lines += ["", f"`{v.expectation.name}` fails for:", ""]
            lines += [f"- {f}" for f in v.failures]
    return "\n".join(lines) + "\n"


# --- KPI distributions -------------------------------------------------------------------------


def _wide(data: Data, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run KPI values of sample runs and of baseline runs (one column per KPI)."""
    frame = data.kpis[data.kpis.kpi.isin(names)]
    wide = frame.pivot_table(index=["sample", "replication"], columns="kpi", values="value")
    wide = wide.reindex(columns=names)
    samples = wide[wide.index.get_level_values("sample") >= 0]
    base = wide[wide.index.get_level_values("sample") == BASELINE_SAMPLE]
    return samples, base


def _kpi_section(data: Data, out: Path) -> str:
    if not data.analysed:
        return "## KPI distributions\n\nNo KPI matched `analyze`.\n"
    samples, base = _wide(data, data.analysed)
    rows = []
    for name in data.analysed:
        values = samples[name].dropna().to_numpy()
        row: dict[str, Any] = {"kpi": name, "runs": len(values), "mean": _mean(values)}
        row.update({f"p{round(q * 100)}": _q(values, q) for q in QUANTILES})
        row["baseline_median"] = _q(base[name].dropna().to_numpy(), 0.5)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(out / "kpi_summary.csv", index=False, float_format="%.6g")
    _histograms(samples, base, data.analysed[:MAX_FIGURES], out / "kpi_distributions.png")
    lines = [
        "## KPI distributions",
        "",
        "Over all sample runs (tonnes unless the name says otherwise).",
        "",
        "| KPI | median | 5% | 25% | 75% | 95% | baseline median |",
        "|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r["p50"], r["p5"], r["p25"], r["p75"], r["p95"], r["baseline_median"]]
        lines.append(f"| `{r['kpi']}` | " + " | ".join(_fmt(c) for c in cells) + " |")
    lines += ["", "![KPI distributions](kpi_distributions.png)", ""]
    return "\n".join(lines)


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else math.nan


def _q(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else math.nan


def _fmt(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _histograms(samples: pd.DataFrame, base: pd.DataFrame, names: list[str], path: Path) -> None:
    import matplotlib.pyplot as plt

    from sim.io.plots import OKABE_ITO, save

    cols = min(3, max(1, len(names)))
    rows = math.ceil(len(names) / cols)
    fig, axes = plt.subplots(
        rows, cols, figsize=(4.2 * cols, 3.0 * rows), layout="constrained", squeeze=False
    )
    for ax, name in zip(axes.ravel(), names, strict=False):
        values = samples[name].dropna().to_numpy()
        if len(values):
            ax.hist(values, bins=min(30, max(5, len(values) // 4)), color=OKABE_ITO[0], alpha=0.8)
        baseline = base[name].dropna().to_numpy()
        if len(baseline):
            ax.axvline(
                float(np.median(baseline)), color="black", ls="--", lw=1, label="baseline median"
            )
            ax.legend(frameon=False, fontsize=7)
        ax.set_title(name, fontsize=8)
        ax.set_ylabel("runs")
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    fig.suptitle("KPI distributions over sample runs")
    save(fig, str(path))


# --- fan charts --------------------------------------------------------------------------------


def _fan_section(data: Data, store: Store, out: Path) -> str:
    runs = {
        (int(s), int(r))
        for s, r in data.runs.loc[data.runs.status == "ok", ["sample", "replication"]].to_numpy()
    }
    series = _monthly_by_run(store, runs)
    if not series:
        return "## Imports over time\n\nNo finished runs.\n"
    rows = []
    for (importer, origin, arm), block in sorted(series.items()):
        q = np.nanquantile(block.to_numpy(dtype=float), QUANTILES, axis=0)
        for k, month in enumerate(block.columns):
            rows.append(
                {
                    "importer": importer,
                    "origin": origin,
                    "runs": arm,
                    "month": month,
                    **{f"p{round(p * 100)}": q[i, k] for i, p in enumerate(QUANTILES)},
                }
            )
    fans = pd.DataFrame(rows)
    fans.to_csv(out / "fans.csv", index=False, float_format="%.6g")
    lines = [
        "## Imports over time",
        "",
        "Median, 25-75% and 5-95% bands over all sample runs; dashed: the baseline's median.",
        "",
    ]
    for importer in dict.fromkeys(fans.importer):
        name = f"fan_{importer}.png"
        _fan_figure(fans[fans.importer == importer], importer, out / name)
        lines += [f"![{importer}]({name})", ""]
    return "\n".join(lines)


def _monthly_by_run(
    store: Store, runs: set[tuple[int, int]]
) -> dict[tuple[str, str, str], pd.DataFrame]:
    """(importer, origin, samples|baseline) -> runs x months of tonnes (products summed)."""
    blocks: dict[tuple[str, str, str], list[pd.DataFrame]] = {}
    for part in store.imports():
        keys = list(zip(part["sample"], part["replication"], strict=True))
        part = part[[k in runs for k in keys]]
        if part.empty:
            continue
        part = part.assign(arm=np.where(part["sample"] == BASELINE_SAMPLE, "baseline", "samples"))
        totals = (
            part.groupby(
                ["importer", "origin", "arm", "sample", "replication", "month"], observed=True
            )["tonnes"]
            .sum()
            .unstack("month")
        )
        for key, block in totals.groupby(level=["importer", "origin", "arm"]):
            blocks.setdefault(tuple(map(str, key)), []).append(block)  # type: ignore[arg-type]
    out = {}
    for key, parts in blocks.items():
        joined = pd.concat(parts)
        out[key] = joined.reindex(columns=sorted(joined.columns))
    return out


def _fan_figure(fans: pd.DataFrame, importer: str, path: Path) -> None:
    import matplotlib.pyplot as plt

    from sim.io.plots import OKABE_ITO, month_axis, save

    sample_rows = fans[fans.runs == "samples"]
    origins = [
        o
        for o in dict.fromkeys(sample_rows.origin)
        if sample_rows.loc[sample_rows.origin == o, "p95"].max() > 0
    ]
    origins = origins or list(dict.fromkeys(sample_rows.origin))[:1]
    fig, axes = plt.subplots(
        len(origins),
        1,
        figsize=(10, 3.2 * len(origins)),
        layout="constrained",
        squeeze=False,
        sharex=True,
    )
    for ax, origin, colour in zip(axes[:, 0], origins, OKABE_ITO, strict=False):
        part = sample_rows[sample_rows.origin == origin]
        when = pd.to_datetime(part["month"] + "-15")
        ax.fill_between(when, part["p5"], part["p95"], color=colour, alpha=0.2, lw=0, label="5-95%")
        ax.fill_between(
            when, part["p25"], part["p75"], color=colour, alpha=0.45, lw=0, label="25-75%"
        )
        ax.plot(when, part["p50"], color=colour, lw=2, label="median")
        base = fans[(fans.runs == "baseline") & (fans.origin == origin)]
        if not base.empty:
            ax.plot(
                pd.to_datetime(base["month"] + "-15"),
                base["p50"],
                color="black",
                ls="--",
                lw=1.2,
                label="baseline median",
            )
        month_axis(ax)
        top = max(1.0, float(part["p95"].max()), float(base["p50"].max()) if len(base) else 0.0)
        ax.set_ylim(0, top * 1.08)
        ax.set_ylabel("tonnes per month")
        ax.set_title(f"Imports into {_title(importer)} from {_title(origin)}", fontsize=10)
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    save(fig, str(path))


# --- sensitivity -------------------------------------------------------------------------------


def features(design: list[dict[str, Any]], names: list[str]) -> list[prim.Feature]:
    """Each parameter as numbers: numbers as they are, ISO dates as day ordinals, anything else
    as categories (codes in order of first appearance)."""
    out = []
    for name in names:
        values = [row[name] for row in design]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            out.append(prim.Feature(name, np.asarray(values, dtype=float)))
        elif all(isinstance(v, str) and _is_date(v) for v in values):
            ordinals = [date.fromisoformat(v).toordinal() for v in values]
            out.append(prim.Feature(name, np.asarray(ordinals, dtype=float), is_date=True))
        else:
            labels = list(
                dict.fromkeys(json.dumps(v) if not isinstance(v, str) else v for v in values)
            )
            codes = [labels.index(json.dumps(v) if not isinstance(v, str) else v) for v in values]
            out.append(prim.Feature(name, np.asarray(codes, dtype=float), True, tuple(labels)))
    return out


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def sensitivity_method(method: str, samples: int) -> str:
    """The index the design allows: ``s1``, ``eta2`` or ``spearman`` (see the module doc);
    ``spearman`` instead of ``s1`` when SALib (the ``sensitivity`` extra) is not installed."""
    if method == "grid":
        return "eta2"
    if samples < S1_MIN_SAMPLES:
        return "spearman"
    if not has_salib():
        log.warning(
            "SALib is not installed (pip install 'rare-earth-sim[sensitivity]'): sensitivity "
            "is shown as |Spearman rho| instead of S1"
        )
        return "spearman"
    return "s1"


def has_salib() -> bool:
    """Whether SALib (the ``sensitivity`` extra) can be imported."""
    return importlib.util.find_spec("SALib") is not None


_METHOD_TEXT = {
    "s1": "SALib's first-order index S1 from the given sample (± is its bootstrap 95% interval)",
    "eta2": "the correlation ratio eta^2 (share of variance between the parameter's levels)",
    "spearman": "|Spearman rho| (too few samples for a variance-based index)",
}


def _sensitivity_section(data: Data, out: Path) -> str:
    samples, _ = _wide(data, data.analysed)
    means = samples.groupby(level="sample").mean()
    feats = features(data.design, list(data.spec.parameters))
    method = sensitivity_method(data.spec.method, len(means))
    rows: list[dict[str, Any]] = []
    for name in data.analysed:
        y = means[name].dropna() if name in means else pd.Series(dtype=float)
        if len(y) < 3 or np.ptp(y.to_numpy()) == 0:
            continue
        rows += _sensitivity(name, y, feats, method, data.spec.seed)
    table = pd.DataFrame(rows)
    lines = [
        "## Sensitivity",
        "",
        f"Index: {_METHOD_TEXT[method]}, on each sample's mean over its replications; "
        "categorical parameters: eta^2. rho: Spearman rank correlation (the direction). "
        "low / high: the KPI's mean when the parameter is in its lowest / highest fifth "
        "(or level).",
        "",
    ]
    if table.empty:
        (out / "sensitivity.csv").write_text("kpi,parameter,method,index,conf,rank\n")
        return "\n".join([*lines, "No analysed KPI varies across samples.", ""])
    table.to_csv(out / "sensitivity.csv", index=False, float_format="%.6g")
    for k, kpi in enumerate(dict.fromkeys(table["kpi"])):
        block = table[table["kpi"] == kpi]
        lines += _sensitivity_table(str(kpi), block)
        if k < MAX_FIGURES:
            figure = f"tornado_{_slug(str(kpi))}.png"
            _tornado(block, str(kpi), out / figure)
            lines += [f"![tornado: {kpi}]({figure})", ""]
    return "\n".join(lines)


def _sensitivity(
    name: str, y: pd.Series, feats: list[prim.Feature], method: str, seed: int
) -> list[dict[str, Any]]:
    index = y.index.to_numpy(dtype=int)
    values = y.to_numpy(dtype=float)
    centre = float(values.mean())
    x = [f.values[index] for f in feats]
    salib = _salib_s1(x, values, feats, seed) if method == "s1" else {}
    rows = []
    for f, column in zip(feats, x, strict=True):
        low, high = _low_high(column, values, f.categorical)
        rho = math.nan
        if not f.categorical and np.ptp(column) > 0:
            rho = float(stats.spearmanr(column, values).statistic)
        row = {
            "kpi": name,
            "parameter": f.name,
            "method": "eta2",
            "index": math.nan,
            "conf": math.nan,
            "spearman": rho,
            "kpi_low": low,
            "kpi_high": high,
            "kpi_mean": centre,
        }
        if f.name in salib:
            row.update(zip(("index", "conf"), salib[f.name], strict=True), method="s1")
        elif method != "spearman" or f.categorical:
            row["index"] = _eta2(column, values, f.categorical)
        else:
            row.update(method="spearman", index=abs(rho))
        rows.append(row)
    rows.sort(key=lambda r: -_number(r["index"]))
    for rank, row in enumerate(rows, start=1):
        row["rank"] = rank
    return rows


def _salib_s1(
    x: list[np.ndarray], y: np.ndarray, feats: list[prim.Feature], seed: int
) -> dict[str, tuple[float, float]]:
    """SALib's given-data S1 for the ordered, non-constant parameters: name -> (S1, conf).

    SALib's delta module seeds numpy's global generator and resets the warnings filter; both
    are restored here, and its notices (bin merges) are recorded rather than printed.
    """
    from SALib.analyze import delta

    usable = [i for i, f in enumerate(feats) if not f.categorical and np.ptp(x[i]) > 0]
    if not usable:
        return {}
    names = [feats[i].name for i in usable]
    problem = {
        "num_vars": len(usable),
        "names": names,
        "bounds": [[float(x[i].min()), float(x[i].max())] for i in usable],
    }
    matrix = np.column_stack([x[i] for i in usable])
    state = np.random.get_state()
    try:
        with warnings.catch_warnings(record=True), contextlib.redirect_stdout(io.StringIO()):
            result = delta.analyze(
                problem,
                matrix,
                y,
                num_resamples=100,
                seed=seed % 2**32 or 1,
                method="sobol",
                print_to_console=False,
            )
    except Exception:  # too little spread for SALib's bins: eta^2 instead
        return {}
    finally:
        np.random.set_state(state)
    return {
        name: (float(result["S1"][k]), float(result["S1_conf"][k])) for k, name in enumerate(names)
    }


def _number(value: Any) -> float:
    """A sort key: NaN (no index) ranks last."""
    return -1.0 if value is None or math.isnan(float(value)) else float(value)


def _bins(column: np.ndarray, categorical: bool) -> np.ndarray:
    """Levels for discrete parameters, fifths (by rank) for continuous ones."""
    distinct = np.unique(column)
    if categorical or len(distinct) <= 10:
        return np.searchsorted(distinct, column)
    ranks = stats.rankdata(column, method="ordinal") - 1
    return np.floor(ranks * 5 / len(column)).astype(int)


def _eta2(column: np.ndarray, y: np.ndarray, categorical: bool) -> float:
    """Correlation ratio: the share of y's variance between the parameter's bins."""
    bins = _bins(column, categorical)
    total = ((y - y.mean()) ** 2).sum()
    if total == 0:
        return math.nan
    between = sum(
        (bins == b).sum() * (y[bins == b].mean() - y.mean()) ** 2 for b in np.unique(bins)
    )
    return float(between / total)


def _low_high(column: np.ndarray, y: np.ndarray, categorical: bool) -> tuple[float, float]:
    """The KPI's mean in the parameter's lowest and highest bin (categories: min and max)."""
    bins = _bins(column, categorical)
    means = [float(y[bins == b].mean()) for b in np.unique(bins)]
    if categorical:
        return min(means), max(means)
    return means[0], means[-1]


def _sensitivity_table(name: str, block: pd.DataFrame) -> list[str]:
    lines = [
        f"### `{name}`",
        "",
        "| rank | parameter | index | ± | rho | low | high |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for r in block.itertuples():
        lines.append(
            f"| {r.rank} | `{r.parameter}` | {r.index:.3f} ({r.method}) | {_fmt(r.conf)} | "
            f"{_fmt(r.spearman)} | {_fmt(r.kpi_low)} | {_fmt(r.kpi_high)} |"
        )
    lines.append("")
    return lines


def _tornado(block: pd.DataFrame, name: str, path: Path) -> None:
    """Bars from the KPI's mean with the parameter low to its mean with it high, ranked."""
    import matplotlib.pyplot as plt

    from sim.io.plots import OKABE_ITO, save

    block = block.iloc[::-1]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(block) + 1.5), layout="constrained")
    labels = [f"{p} ({i:.2f})" for p, i in zip(block.parameter, block["index"], strict=True)]
    y = np.arange(len(block))
    low, high = block.kpi_low.to_numpy(float), block.kpi_high.to_numpy(float)
    centre = float(block.kpi_mean.iloc[0])
    ax.barh(y, low - centre, left=centre, color=OKABE_ITO[0], label="parameter low")
    ax.barh(y, high - centre, left=centre, color=OKABE_ITO[1], label="parameter high")
    ax.axvline(centre, color="0.3", lw=0.8)
    ax.set_yticks(y, labels, fontsize=8)
    ax.set_xlabel(f"{name}: mean over samples (centre line) and with each parameter low / high")
    ax.set_title(f"Sensitivity of {name} (ranked by index)", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    save(fig, str(path))


def _title(name: str) -> str:
    return name.upper() if len(name) <= 3 else name.replace("_", " ").title()


def _slug(name: str) -> str:
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


# --- scenario discovery ------------------------------------------------------------------------


def _discovery_section(data: Data, out: Path) -> str:
    lines = ["## Scenario discovery", ""]
    if not data.spec.discover:
        (out / "discovery.csv").write_text("outcome,step,coverage,density,mass,rules\n")
        return "\n".join([*lines, "No `discover:` outcomes in the spec.", ""])
    feats = features(data.design, list(data.spec.parameters))
    rows: list[dict[str, Any]] = []
    for discovery in data.spec.discover:
        expression = parse(discovery.outcome)
        planned = pd.MultiIndex.from_frame(
            data.runs.loc[
                (data.runs.status == "ok") & (data.runs["sample"] >= 0), ["sample", "replication"]
            ].astype(int)
        )
        frame = paired_runs(data.kpis, expression.kpis(), planned)
        values = _evaluate(expression, frame)
        known = ~frame[expression.names()].isna().any(axis=1).to_numpy()
        hit = (values > 0)[known]
        index = frame.index.get_level_values("sample").to_numpy(dtype=int)[known]
        run_feats = [
            prim.Feature(f.name, f.values[index], f.categorical, f.labels, f.is_date) for f in feats
        ]
        lines += _discovery_text(discovery.name, discovery.outcome, run_feats, hit, rows)
    pd.DataFrame(rows).to_csv(out / "discovery.csv", index=False, float_format="%.4g")
    return "\n".join(lines)


def _evaluate(expression: Any, frame: pd.DataFrame) -> np.ndarray:
    values = expression.evaluate(lambda n: frame[n].to_numpy(dtype=float))
    return np.broadcast_to(values, (len(frame),))


def _discovery_text(
    name: str,
    outcome: str,
    feats: list[prim.Feature],
    hit: np.ndarray,
    rows: list[dict[str, Any]],
) -> list[str]:
    lines = [f"### `{name}`: `{outcome}`", ""]
    if len(hit) == 0 or hit.all() or not hit.any():
        share = f"{hit.mean():.0%}" if len(hit) else "no"
        return [
            *lines,
            f"The outcome holds in {share} of {len(hit)} runs: nothing to discover.",
            "",
        ]
    trajectory = prim.peel(feats, hit)
    for step, box in enumerate(trajectory):
        rows.append(
            {
                "outcome": name,
                "step": step,
                "coverage": box.coverage,
                "density": box.density,
                "mass": box.mass,
                "rules": " and ".join(box.rules(feats)),
            }
        )
    box = prim.simplify(feats, hit, prim.choose(trajectory))
    rules = box.rules(feats)
    lines += [
        f"The outcome holds in {hit.mean():.0%} of {len(hit)} runs. It is concentrated in the "
        "box where" + (":" if rules else " (no restriction found)."),
        "",
        *[f"- {rule}" for rule in rules],
        "",
        f"coverage {box.coverage:.0%} (of the runs with the outcome, the share inside the box), "
        f"density {box.density:.0%} (of the runs inside, the share with the outcome), "
        f"mass {box.mass:.0%} of all runs. Restrictions that cost under 2 points of density were "
        "dropped; the whole peeling trajectory is in `discovery.csv`.",
        "",
    ]
    return lines
