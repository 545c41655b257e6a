"""A sweep's analysis: figures, tables, ``summary.md`` and ``report.html``, from the folder alone.

    report.html               one self-contained page: what matters most, expectations, KPI
                              distributions, fan charts, sensitivity with tornado charts,
                              scenario discovery (tables sortable, images embedded)
    summary.md                the same in Markdown
    fan_<importer>.png        monthly imports by origin: median, 25-75% and 5-95% bands over all
                              sample runs (the baseline's median dashed); China and the Quad
                              (each tonne once), never an empty panel
    fans.csv                  the same numbers
    kpi_distributions.png     a histogram per analysed KPI over sample runs (baseline dashed),
                              titled with its human name, its unit on the axis
    kpi_summary.csv           mean and percentiles per analysed KPI, with the baseline's
    sensitivity.csv           per KPI and parameter: the ranked index, its interval, its method
                              (``sim.sweep.sensitivity``), Spearman's rho, and any warning
    swings.csv, tornado_<kpi>.png
                              with ``tornado: true``: the one-at-a-time swings and their chart
    discovery.csv             the peeling trajectory of each scenario-discovery outcome
    runs.csv                  one row per run: sample, replication, status, every parameter and
                              every analysed KPI (a spreadsheet's view of the sweep)
    sweep.xlsx                with ``xlsx``: runs, KPI summary, sensitivity, swings, discovery
    expectations.json         each expectation's verdict

The design's samples (0 .. design_size - 1) are what distributions, fans, expectations,
discovery and indices describe; the tornado's swing samples follow them and feed only the
tornado charts; the baseline is sample -1.
"""

from __future__ import annotations

import json
import math
import textwrap
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.io import html
from sim.io.outputs import atomic_folder
from sim.sweep import labels, prim, report, sensitivity
from sim.sweep.expectations import Verdict, check, paired_runs
from sim.sweep.expressions import parse
from sim.sweep.findings import Data, Discovered, Section, design_text, load, slug
from sim.sweep.spec import BASELINE_SAMPLE
from sim.sweep.store import Store, kpi_failures

__all__ = ["Data", "Report", "analyze", "features", "load"]

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
        """Whether every expectation held."""
        return all(v.passed for v in self.verdicts)


def analyze(folder: Path, xlsx: bool = False) -> Report:
    """Write ``folder/analysis`` (atomically) and return the verdicts."""
    data = load(folder)
    verdicts = check(data.spec, data.design_kpis, data.design[: data.n_design], data.runs)
    with atomic_folder(folder / "analysis") as out:
        sections = {
            "expectations": _expectations_section(verdicts, out),
            "kpis": _kpi_section(data, out),
            "fans": _fan_section(data, Store(folder), out),
            "sensitivity": _sensitivity_section(data, out),
            "discovery": _discovery_section(data, out),
        }
        runs = runs_table(data)
        runs.to_csv(out / "runs.csv", index=False, float_format="%.6g")
        summary = _header(data) + "\n".join("\n".join(s.markdown) for s in sections.values())
        (out / "summary.md").write_text(summary)
        (out / "report.html").write_text(report.render(data, sections), encoding="utf-8")
        if xlsx:
            report.workbook(data, sections, runs, out / "sweep.xlsx")
    failed = int((data.runs.status != "ok").sum())
    return Report(folder, len(data.runs), failed, verdicts)


# --- summary header ----------------------------------------------------------------------------


def _header(data: Data) -> str:
    spec = data.spec
    runs = data.runs
    ok = runs[runs.status == "ok"]
    baseline = f"; baseline: {data.meta.get('baseline')}" if spec.baseline else ""
    lines = [
        f"# Sweep `{spec.name}`",
        "",
        spec.description.strip(),
        "",
        f"- base scenario: `{data.meta.get('base')}` (`{spec.base}`){baseline}",
        f"- design: {design_text(data)}, master seed {spec.seed} (common random numbers: "
        "replication *r* of every sample and of the baseline uses the same random streams)",
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


def _expectations_section(verdicts: list[Verdict], out: Path) -> Section:
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
    section = Section()
    if not verdicts:
        section.markdown = ["## Expectations", "", "None in the spec.", ""]
        return section
    lines = ["## Expectations", "", "| | name | expectation | result |", "|---|---|---|---|"]
    for v in verdicts:
        mark = "PASS" if v.passed else "**FAIL**"
        lines.append(f"| {mark} | {v.expectation.name} | `{v.expectation.expect}` | {v.summary} |")
    for v in verdicts:
        if not v.passed:
            lines += ["", f"`{v.expectation.name}` fails for:", ""]
            lines += [f"- {f}" for f in v.failures]
    section.markdown = [*lines, ""]
    section.tables["expectations"] = pd.DataFrame(document)
    heads = ["", "name", "expectation", "result"]
    rows = [
        [
            html.Cell("PASS" if v.passed else "<b>FAIL</b>", int(v.passed)),
            html.text_cell(v.expectation.name),
            html.Cell(f"<code>{html.e(v.expectation.expect)}</code>", v.expectation.expect),
            html.text_cell(v.summary),
        ]
        for v in verdicts
    ]
    section.html = [html.table(heads, rows, table_id="expectations-table")]
    for v in verdicts:
        if not v.passed:
            section.html.append(
                f"<p><code>{html.e(v.expectation.name)}</code> fails for:</p><ul>"
                + "".join(f"<li>{html.e(f)}</li>" for f in v.failures)
                + "</ul>"
            )
    return section


# --- KPI distributions -------------------------------------------------------------------------


def wide(data: Data, names: list[str]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Per-run KPI values of design runs and of baseline runs (one column per KPI)."""
    frame = data.kpis[data.kpis.kpi.isin(names)]
    table = frame.pivot_table(index=["sample", "replication"], columns="kpi", values="value")
    table = table.reindex(columns=names)
    sample = table.index.get_level_values("sample")
    return table[(sample >= 0) & (sample < data.n_design)], table[sample == BASELINE_SAMPLE]


def _kpi_section(data: Data, out: Path) -> Section:
    section = Section()
    if not data.analysed:
        section.markdown = ["## KPI distributions", "", "No KPI matched `analyze`.", ""]
        return section
    samples, base = wide(data, data.analysed)
    rows = []
    for name in data.analysed:
        values = samples[name].dropna().to_numpy()
        row: dict[str, Any] = {
            "kpi": name,
            "label": labels.kpi_label(name, data.spec),
            "unit": labels.kpi_unit(name, data.spec),
            "runs": len(values),
            "mean": _mean(values),
        }
        row.update({f"p{round(q * 100)}": _q(values, q) for q in QUANTILES})
        row["baseline_median"] = _q(base[name].dropna().to_numpy(), 0.5)
        rows.append(row)
    table = pd.DataFrame(rows)
    table.to_csv(out / "kpi_summary.csv", index=False, float_format="%.6g")
    section.tables["KPI summary"] = table
    _histograms(data, samples, base, data.analysed[:MAX_FIGURES], out / "kpi_distributions.png")
    lines = [
        "## KPI distributions",
        "",
        "Over all runs of the design's samples.",
        "",
        "| KPI | unit | median | 5% | 25% | 75% | 95% | baseline median |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cells = [r["p50"], r["p5"], r["p25"], r["p75"], r["p95"], r["baseline_median"]]
        lines.append(
            f"| {r['label']} (`{r['kpi']}`) | {r['unit']} | "
            + " | ".join(fmt(c) for c in cells)
            + " |"
        )
    section.markdown = [*lines, "", "![KPI distributions](kpi_distributions.png)", ""]
    heads = ["KPI", "unit", "median", "5%", "25%", "75%", "95%", "baseline median"]
    cells = [
        [
            html.Cell(html.e(r["label"]), r["label"], name=False),
            html.text_cell(r["unit"]),
            *(html.number_cell(r[k], fmt(r[k])) for k in ("p50", "p5", "p25", "p75", "p95")),
            html.number_cell(r["baseline_median"], fmt(r["baseline_median"])),
        ]
        for r in rows
    ]
    section.html = [
        "<p>Over all runs of the design's samples.</p>",
        html.table(heads, cells, table_id="kpi-table"),
        html.image(out / "kpi_distributions.png", "KPI distributions"),
    ]
    return section


def _mean(values: np.ndarray) -> float:
    return float(values.mean()) if len(values) else math.nan


def _q(values: np.ndarray, q: float) -> float:
    return float(np.quantile(values, q)) if len(values) else math.nan


def fmt(value: float) -> str:
    if value is None or not np.isfinite(value):
        return "-"
    return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"


def _histograms(
    data: Data, samples: pd.DataFrame, base: pd.DataFrame, names: list[str], path: Path
) -> None:
    import matplotlib.ticker

    from sim.io.canvas import subplots
    from sim.io.plots import OKABE_ITO, save

    cols = min(3, max(1, len(names)))
    rows = math.ceil(len(names) / cols)
    fig, axes = subplots(rows, cols, figsize=(4.6 * cols, 3.3 * rows), squeeze=False)
    for ax, name in zip(axes.ravel(), names, strict=False):
        values = samples[name].dropna().to_numpy()
        unit = labels.kpi_unit(name, data.spec)
        if len(values) and np.ptp(values) <= 1e-9 * max(1.0, float(np.abs(values).max())):
            ax.text(0.5, 0.5, f"every run: {fmt(float(values[0]))} {unit}".strip(),
                    transform=ax.transAxes, ha="center", va="center", fontsize=9)  # fmt: skip
            ax.set_yticks([])
        elif len(values):
            ax.hist(values, bins=min(30, max(5, len(values) // 4)), color=OKABE_ITO[0], alpha=0.8)
        if len(values) and np.abs(values).max() >= 1000:
            ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        baseline = base[name].dropna().to_numpy()
        if len(baseline):
            ax.axvline(
                float(np.median(baseline)), color="black", ls="--", lw=1, label="baseline median"
            )
            ax.legend(frameon=False, fontsize=7)
        ax.set_title(_wrap(labels.kpi_label(name, data.spec), 42), fontsize=8.5, loc="left")
        ax.set_xlabel(unit or "value", fontsize=8)
        ax.tick_params(labelsize=7.5)
        ax.set_ylabel("runs")
    for ax in axes.ravel()[len(names) :]:
        ax.set_visible(False)
    fig.suptitle(f"KPI distributions over {len(samples)} runs of the design's samples")
    save(fig, str(path))


def _wrap(text: str, width: int) -> str:
    """Break a long title or legend entry over lines at spaces (never inside a word)."""
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


# --- fan charts --------------------------------------------------------------------------------


def _fan_section(data: Data, store: Store, out: Path) -> Section:
    section = Section()
    ok = data.runs.loc[data.runs.status == "ok", ["sample", "replication"]].to_numpy()
    runs = {(int(s), int(r)) for s, r in ok if s < data.n_design}
    series = _monthly_by_run(store, runs)
    if not series:
        section.markdown = ["## Imports over time", "", "No finished runs.", ""]
        return section
    fans = _fan_table(series)
    fans.to_csv(out / "fans.csv", index=False, float_format="%.6g")
    shown, left_out = shown_importers(fans, data)
    once = " The Quad counts each tonne once, at its first Quad border." if "quad" in shown else ""
    lines = [
        "## Imports over time",
        "",
        "Median, 25-75% and 5-95% bands over all runs of the design's samples; dashed: the "
        f"baseline's median.{once}",
        "",
    ]
    if left_out:
        lines += [f"Not shown: {left_out}.", ""]
    section.html = [f"<p>{html.e(lines[2])}</p>"]
    if left_out:
        section.html.append(f"<p>Not shown: {html.e(left_out)}.</p>")
    for importer in shown:
        name = f"fan_{importer}.png"
        _fan_figure(fans[fans.importer == importer], importer, out / name)
        lines += [f"![{_importer_name(importer)}]({name})", ""]
        section.html.append(html.image(out / name, f"Imports into {_importer_name(importer)}"))
    section.markdown = lines
    return section


def _fan_table(series: dict[tuple[str, str, str], pd.DataFrame]) -> pd.DataFrame:
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
    return pd.DataFrame(rows)


def shown_importers(fans: pd.DataFrame, data: Data) -> tuple[list[str], str]:
    """The importers with a fan chart, and a sentence on those left out: those without any
    tonnes, and the Quad's members when the Quad (each tonne once) is shown, since adding
    theirs would count a tonne crossing India to the US twice."""
    samples = fans[fans.runs == "samples"]
    peak = samples.groupby("importer")["p95"].max()
    present = [str(i) for i in dict.fromkeys(samples.importer) if peak.get(i, 0) > 0]
    members = set(data.destinations)
    shown = [i for i in present if i == "quad" or i not in members]
    quiet = [i for i in dict.fromkeys(samples.importer) if i not in present]
    parts = []
    if "quad" in present and any(i in members for i in present):
        parts.append(
            ", ".join(_importer_name(i) for i in present if i in members)
            + " (in the Quad's chart, each tonne once)"
        )
    if quiet:
        parts.append(", ".join(_importer_name(i) for i in quiet) + " (no imports in any run)")
    return shown, "; ".join(parts)


def _importer_name(importer: str) -> str:
    return {"quad": "the Quad", "us": "the US"}.get(importer, importer.replace("_", " ").title())


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
    from sim.io.canvas import subplots
    from sim.io.plots import OKABE_ITO, month_axis, save, tonnes_axis

    sample_rows = fans[fans.runs == "samples"]
    origins = [
        o
        for o in dict.fromkeys(sample_rows.origin)
        if sample_rows.loc[sample_rows.origin == o, "p95"].max() > 0
    ]
    fig, axes = subplots(
        len(origins), 1, figsize=(11, 3.2 * len(origins) + 0.4), squeeze=False, sharex=True
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
        tonnes_axis(ax)
        top = max(1.0, float(part["p95"].max()), float(base["p50"].max()) if len(base) else 0.0)
        ax.set_ylim(0, top * 1.08)
        once = ", each tonne once at its first Quad border" if importer == "quad" else ""
        title = f"Imports into {_importer_name(importer)} from {_origin_name(origin)}{once}"
        ax.set_title(title, fontsize=10, loc="left")
        ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=8)
    save(fig, str(path))


def _origin_name(origin: str) -> str:
    return "other origins" if origin == "other" else origin.replace("_", " ").title()


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
            labels_ = list(
                dict.fromkeys(json.dumps(v) if not isinstance(v, str) else v for v in values)
            )
            codes = [labels_.index(json.dumps(v) if not isinstance(v, str) else v) for v in values]
            out.append(prim.Feature(name, np.asarray(codes, dtype=float), True, tuple(labels_)))
    return out


def _is_date(text: str) -> bool:
    try:
        date.fromisoformat(text)
    except ValueError:
        return False
    return len(text) == 10


def _sensitivity_section(data: Data, out: Path) -> Section:
    section = Section()
    samples, _ = wide(data, data.analysed)
    means = samples.groupby(level="sample").mean()
    design = data.design[: data.n_design]
    feats = features(design, list(data.spec.parameters))
    method = sensitivity.method_for(data.spec.method, len(means))
    unit = _unit_design(data) if method == "morris" else None
    findings, steady = [], []
    for name in data.analysed:
        y = means[name].dropna() if name in means else pd.Series(dtype=float)
        if len(y) < 3 or np.ptp(y.to_numpy()) == 0:
            steady.append(name)
            continue
        findings.append(
            sensitivity.analyse(
                name, method, y, feats, unit, data.n_design, data.spec.seed, data.spec.levels
            )
        )
    rows = [
        {
            **row,
            "label": labels.parameter_label(row["parameter"], data.spec),
            "warning": " | ".join(f.warnings),
        }
        for f in findings
        for row in f.rows
    ]
    table = pd.DataFrame(rows, columns=SENSITIVITY_COLUMNS)
    table.to_csv(out / "sensitivity.csv", index=False, float_format="%.6g")
    section.tables["sensitivity"] = table
    swings = _swings(data)
    swing_table = pd.DataFrame(
        [
            {
                "kpi": kpi,
                "parameter": s.parameter,
                "label": labels.parameter_label(s.parameter, data.spec),
                "low_value": s.low_value,
                "high_value": s.high_value,
                "kpi_low": s.kpi_low,
                "kpi_high": s.kpi_high,
                "kpi_centre": centre,
                "swing": s.swing,
            }
            for kpi, (centre, found) in swings.items()
            for s in found
        ]
    )
    if swings:
        swing_table.to_csv(out / "swings.csv", index=False, float_format="%.6g")
        section.tables["swings"] = swing_table
        drawn = [k for k, (_, found) in swings.items() if any(s.swing > 0 for s in found)]
        for kpi in drawn[:MAX_FIGURES]:
            centre, found = swings[kpi]
            tornado(data, kpi, centre, found, out / f"tornado_{slug(kpi)}.png")
    section.markdown = report.sensitivity_markdown(data, method, findings, swings, steady)
    section.html = report.sensitivity_html(data, method, findings, swings, out, steady)
    return section


SENSITIVITY_COLUMNS = [
    "kpi", "parameter", "label", "method", "index", "conf", "total", "total_conf", "sigma", "mu",
    "spearman", "rank", "warning",
]  # fmt: skip


def _unit_design(data: Data) -> np.ndarray:
    from sim.sweep.sampling import unit_design

    return unit_design(data.spec)


def _swings(data: Data) -> dict[str, tuple[float, list[sensitivity.Swing]]]:
    """Per analysed KPI: the centre's value and the parameters' swings (``tornado: true``)."""
    if len(data.design) <= data.n_design or not data.analysed:
        return {}
    frame = data.kpis[(data.kpis["sample"] >= data.n_design) & data.kpis.kpi.isin(data.analysed)]
    means = frame.groupby(["kpi", "sample"])["value"].mean()
    values = {i: row for i, row in enumerate(data.design)}
    out = {}
    for name in data.analysed:
        if name not in means.index.get_level_values("kpi"):
            continue
        y = {int(s): float(v) for s, v in means.loc[name].items()}
        out[name] = sensitivity.swings(dict(data.spec.parameters), y, data.n_design, values)
    return out


def tornado(
    data: Data, kpi: str, centre: float, found: list[sensitivity.Swing], path: Path
) -> None:
    """One-at-a-time swings, largest at the top: for each parameter a bar from the centre (every
    parameter at its median) to the KPI with the parameter at its 10th percentile, and one to
    its 90th, side by side so that both show even when they point the same way."""
    import matplotlib.ticker

    from sim.io.canvas import subplots
    from sim.io.plots import OKABE_ITO, save

    rows = list(reversed(found))
    fig, ax = subplots(figsize=(10, 0.62 * len(rows) + 1.9))
    y = np.arange(len(rows), dtype=float)
    low = np.array([s.kpi_low for s in rows]) - centre
    high = np.array([s.kpi_high for s in rows]) - centre
    ax.barh(
        y + 0.19,
        low,
        left=centre,
        height=0.36,
        color=OKABE_ITO[0],
        label="parameter at its 10th percentile",
    )
    ax.barh(
        y - 0.19,
        high,
        left=centre,
        height=0.36,
        color=OKABE_ITO[1],
        label="parameter at its 90th percentile",
    )
    ax.axvline(centre, color="0.2", lw=1)
    names = [
        f"{labels.parameter_label(s.parameter, data.spec)}\n"
        f"{_shown(s.low_value)} → {_shown(s.high_value)}"
        for s in rows
    ]
    ax.set_yticks(y, names, fontsize=8)
    unit = labels.kpi_unit(kpi, data.spec)
    ax.xaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
    for k, s in enumerate(rows):
        end = max(centre, s.kpi_low, s.kpi_high)
        ax.annotate(
            f" swing {s.swing:,.0f}{' ' + unit if unit else ''}",
            (end, y[k]),
            va="center",
            fontsize=7.5,
            color="0.3",
        )
    ax.margins(x=0.18)
    ax.set_xlabel(
        _wrap(
            f"{labels.kpi_title(kpi, data.spec)}: mean over replications. Centre line: every "
            f"parameter at its median ({centre:,.0f}); bars: one parameter at a time at its "
            "10th (low) and 90th (high) percentile",
            120,
        ),
        fontsize=8.5,
    )
    ax.set_title(_wrap(f"Tornado: {labels.kpi_label(kpi, data.spec)}", 90), loc="left", fontsize=10)
    ax.legend(frameon=False, fontsize=8, loc="lower right")
    save(fig, str(path))


def _shown(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3g}"
    return str(value)


# --- scenario discovery ------------------------------------------------------------------------


def _discovery_section(data: Data, out: Path) -> Section:
    section = Section()
    if not data.spec.discover:
        (out / "discovery.csv").write_text("outcome,step,coverage,density,mass,rules\n")
        section.markdown = ["## Scenario discovery", "", "No `discover:` outcomes in the spec.", ""]
        return section
    design = data.design[: data.n_design]
    feats = features(design, list(data.spec.parameters))
    rows: list[dict[str, Any]] = []
    found = [_discover(data, d, feats, rows) for d in data.spec.discover]
    table = pd.DataFrame(rows, columns=["outcome", "step", "coverage", "density", "mass", "rules"])
    table.to_csv(out / "discovery.csv", index=False, float_format="%.4g")
    section.tables["discovery"] = table
    section.markdown = report.discovery_markdown(found)
    section.html = report.discovery_html(found)
    return section


def _discover(
    data: Data, discovery: Any, feats: list[prim.Feature], rows: list[dict[str, Any]]
) -> Discovered:
    expression = parse(discovery.outcome)
    ok = data.runs[(data.runs.status == "ok") & (data.runs["sample"] >= 0)]
    ok = ok[ok["sample"] < data.n_design]
    planned = pd.MultiIndex.from_frame(ok[["sample", "replication"]].astype(int))
    frame = paired_runs(data.kpis, expression.kpis(), planned)
    values = _evaluate(expression, frame)
    known = ~frame[expression.names()].isna().any(axis=1).to_numpy()
    hit = (values > 0)[known]
    index = frame.index.get_level_values("sample").to_numpy(dtype=int)[known]
    run_feats = [
        prim.Feature(f.name, f.values[index], f.categorical, f.labels, f.is_date) for f in feats
    ]
    share = float(hit.mean()) if len(hit) else 0.0
    if len(hit) == 0 or hit.all() or not hit.any():
        return Discovered(discovery.name, discovery.outcome, discovery.description, share,
                          len(hit), None, [])  # fmt: skip
    trajectory = prim.peel(run_feats, hit)
    for step, box in enumerate(trajectory):
        rows.append(
            {
                "outcome": discovery.name,
                "step": step,
                "coverage": box.coverage,
                "density": box.density,
                "mass": box.mass,
                "rules": " and ".join(box.rules(run_feats)),
            }
        )
    chosen = prim.simplify(run_feats, hit, prim.choose(trajectory))
    box = prim.rounded(run_feats, hit, chosen)
    names = {f.name: labels.parameter_label(f.name, data.spec) for f in feats}
    return Discovered(
        discovery.name,
        discovery.outcome,
        discovery.description,
        share,
        len(hit),
        box,
        prim.describe(box, run_feats, names),
    )


def _evaluate(expression: Any, frame: pd.DataFrame) -> np.ndarray:
    values = expression.evaluate(lambda n: frame[n].to_numpy(dtype=float))
    return np.broadcast_to(values, (len(frame),))


# --- one row per run ---------------------------------------------------------------------------


def runs_table(data: Data) -> pd.DataFrame:
    """One row per run: sample, replication, status, role (design, swing or baseline), every
    parameter's value and every analysed KPI (a spreadsheet's view of the sweep)."""
    runs = data.runs[["sample", "replication", "status"]].copy()
    runs["role"] = np.where(
        runs["sample"] == BASELINE_SAMPLE,
        "baseline",
        np.where(runs["sample"] < data.n_design, "design", "swing"),
    )
    params = pd.DataFrame(data.design, columns=list(data.spec.parameters))
    params["sample"] = range(len(params))
    runs = runs.merge(params, on="sample", how="left")
    values = data.kpis[data.kpis.kpi.isin(data.analysed)].pivot_table(
        index=["sample", "replication"], columns="kpi", values="value"
    )
    values = values.reindex(columns=data.analysed).reset_index()
    values.columns.name = None
    return runs.merge(values, on=["sample", "replication"], how="left")
