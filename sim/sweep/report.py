"""The sweep's report: ``analysis/report.html`` (self-contained, tables sortable), the
sensitivity and discovery sections in Markdown and HTML, and ``sweep.xlsx``.

The page opens with what matters most: for each analysed KPI its median and 5-95% range
against the baseline's, the parameter it is most sensitive to and, with tornado swings, the
parameter that moves it furthest. Everything from the sweep file is HTML-escaped.
"""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

import pandas as pd

from sim import __version__
from sim.io import html
from sim.sweep import labels
from sim.sweep.findings import Data, Discovered, Section, design_text, slug
from sim.sweep.sensitivity import METHOD_TEXT, Finding, Swing

Swings = dict[str, tuple[float, list[Swing]]]


def render(data: Data, sections: dict[str, Section]) -> str:
    """The whole page."""
    spec = data.spec
    runs = data.runs
    ok = int((runs.status == "ok").sum())
    baseline = f"; baseline <b>{html.e(data.meta.get('baseline'))}</b>" if spec.baseline else ""
    body = [
        f"<h1>Sweep: {html.e(spec.name)}</h1>",
        f"<p>{html.e(spec.description.strip())}</p>",
        f'<p class="meta">Base scenario <b>{html.e(data.meta.get("base"))}</b>{baseline}. '
        f"{html.e(design_text(data))}; master seed {spec.seed}, common random numbers "
        f"(replication r of every sample and of the baseline shares its random streams). "
        f"{ok} of {len(runs)} runs finished. sim {__version__}.</p>",
        '<nav><a href="#headline">What matters most</a><a href="#expectations">Expectations'
        '</a><a href="#kpis">KPI distributions</a><a href="#fans">Imports over time</a>'
        '<a href="#sensitivity">Sensitivity</a><a href="#discovery">Scenario discovery</a>'
        "</nav>",
        '<h2 id="headline">What matters most</h2>',
        *_headline(data, sections),
        '<h2 id="expectations">Expectations</h2>',
        *(sections["expectations"].html or ["<p>None in the spec.</p>"]),
        '<h2 id="kpis">KPI distributions</h2>',
        *sections["kpis"].html,
        '<h2 id="fans">Imports over time</h2>',
        *sections["fans"].html,
        '<h2 id="sensitivity">Sensitivity</h2>',
        *sections["sensitivity"].html,
        '<h2 id="discovery">Scenario discovery</h2>',
        *sections["discovery"].html,
        "<h2>Every run</h2><p><code>runs.csv</code> holds one row per run: its sample, "
        "replication, role (design, swing or baseline), every parameter and every analysed "
        "KPI.</p>",
    ]
    return html.page(f"Sweep {spec.name}", body)


def _headline(data: Data, sections: dict[str, Section]) -> list[str]:
    summary = sections["kpis"].tables.get("KPI summary")
    sens = sections["sensitivity"].tables.get("sensitivity", pd.DataFrame())
    swings = sections["sensitivity"].tables.get("swings", pd.DataFrame())
    if summary is None or summary.empty:
        return ["<p>No KPI to report.</p>"]
    heads = ["KPI", "unit", "median", "5-95%", "baseline median", "most sensitive to", "index"]
    heads += ["largest swing", "swing"] if not swings.empty else []
    rows, lead = [], ""
    for r in summary.itertuples():
        top = _top(sens, str(r.kpi))
        swing = _top_swing(swings, str(r.kpi))
        unit = str(r.unit)
        cells = [
            html.Cell(html.e(r.label), str(r.label)),
            html.text_cell(unit),
            html.number_cell(float(r.p50), _fmt(r.p50)),
            html.Cell(html.e(f"{_fmt(r.p5)} to {_fmt(r.p95)}"), float(r.p5), True),
            html.number_cell(float(r.baseline_median), _fmt(r.baseline_median)),
            html.text_cell(top[0] if top else "-"),
            html.Cell(html.e(top[1]) if top else "-", top[2] if top else -1.0, True),
        ]
        if not swings.empty:
            cells += [
                html.text_cell(swing[0] if swing else "-"),
                html.number_cell(swing[1] if swing else None),
            ]
        rows.append(cells)
        if not lead:
            lead = _lead(data, r, top, swing)
    return [
        f'<p class="lead">{html.e(lead)}</p>',
        html.table(heads, rows, table_id="headline-table"),
    ]


def _top(sens: pd.DataFrame, kpi: str) -> tuple[str, str, float] | None:
    """(parameter label, index text, index) of the KPI's first-ranked parameter."""
    if sens.empty:
        return None
    rows = sens[(sens.kpi == kpi) & (sens["rank"] == 1)]
    if rows.empty:
        return None
    row = rows.iloc[0]
    value = float(row["index"])
    conf = float(row["conf"])
    text = f"{row['method']} {value:.2f}" + ("" if math.isnan(conf) else f" ± {conf:.2f}")
    return str(row["label"]), text, value


def _top_swing(swings: pd.DataFrame, kpi: str) -> tuple[str, float] | None:
    if swings.empty:
        return None
    rows = swings[swings.kpi == kpi]
    if rows.empty:
        return None
    row = rows.sort_values("swing", ascending=False).iloc[0]
    if not float(row["swing"]) > 0:
        return None
    return str(row["label"]), float(row["swing"])


def _lead(data: Data, r: Any, top: tuple[str, str, float] | None, swing: Any) -> str:
    unit = f" {r.unit}" if r.unit else ""
    text = (
        f"{r.label}: median {_fmt(r.p50)}{unit} over the sweep (5-95%: {_fmt(r.p5)} to "
        f"{_fmt(r.p95)}{unit})"
    )
    if not math.isnan(float(r.baseline_median)):
        text += f", against {_fmt(r.baseline_median)}{unit} in the baseline"
    text += "."
    if top:
        text += f" Most sensitive to {top[0]} ({top[1]})."
    if swing:
        text += (
            f" Swinging {swing[0]} from its 10th to its 90th percentile moves it "
            f"{swing[1]:,.0f}{unit}."
        )
    return text


def _fmt(value: Any) -> str:
    v = float(value)
    if not math.isfinite(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 100 else f"{v:.3g}"


# --- sensitivity -------------------------------------------------------------------------------


def _columns(method: str) -> list[str]:
    if method == "sobol":
        return ["rank", "parameter", "S1", "±", "ST", "±", "rho"]
    if method == "morris":
        return ["rank", "parameter", "mu*", "±", "sigma", "rho"]
    return ["rank", "parameter", "index", "±", "method", "rho"]


def _values(method: str, row: dict[str, Any]) -> list[float | str]:
    if method == "sobol":
        return [row["index"], row["conf"], row["total"], row["total_conf"], row["spearman"]]
    if method == "morris":
        return [row["index"], row["conf"], row["sigma"], row["spearman"]]
    return [row["index"], row["conf"], row["method"], row["spearman"]]


def chance_note(data: Data) -> str:
    """Chance parameters act through each replication's draw: with few replications their
    effect is a few steps, which the indices inherit."""
    chances = [p for p in data.spec.parameters if p.endswith("probability")]
    reps = data.spec.replications
    if not chances or reps >= 20:
        return ""
    names = ", ".join(labels.parameter_label(p, data.spec) for p in chances)
    return (
        f"Chances ({names}) act through each replication's own random draw, shared by every "
        f"sample: with {reps} replication(s) a chance changes the outcome only where it "
        f"crosses one of those {reps} draws, so its index reflects the draws as well as the "
        "chance; more replications smooth it."
    )


def _steady(data: Data, steady: list[str]) -> str:
    names = ", ".join(labels.kpi_title(k, data.spec) for k in steady)
    return f"Not analysed, the same in every sample: {names}."


def sensitivity_markdown(
    data: Data, method: str, findings: list[Finding], swings: Swings, steady: list[str]
) -> list[str]:
    """The sensitivity section of summary.md: indices by KPI, swings, steady KPIs."""
    lines = ["## Sensitivity", "", f"Method: {METHOD_TEXT[method]}; on each sample's mean over "
             "its replications. rho: Spearman rank correlation (the direction).", ""]  # fmt: skip
    if steady:
        lines += [_steady(data, steady), ""]
    if chance_note(data):
        lines += [chance_note(data), ""]
    if not findings:
        return [*lines, "No analysed KPI varies across samples.", ""]
    for finding in findings:
        lines += [f"### {labels.kpi_title(finding.kpi, data.spec)}", ""]
        for w in finding.warnings:
            lines += [f"> **Warning:** {w}", ""]
        heads = _columns(finding.method)
        lines += ["| " + " | ".join(heads) + " |", "|" + "---:|" * len(heads)]
        for row in finding.rows:
            cells = [str(row["rank"]), labels.parameter_label(row["parameter"], data.spec)]
            cells += [v if isinstance(v, str) else _num(v) for v in _values(finding.method, row)]
            lines.append("| " + " | ".join(cells) + " |")
        lines.append("")
        if _has_tornado(finding.kpi, swings):
            lines += [f"![tornado: {finding.kpi}](tornado_{slug(finding.kpi)}.png)", ""]
    if not swings:
        lines += [_no_tornado(), ""]
    return lines


def _no_tornado() -> str:
    return (
        "No tornado charts: add `tornado: true` to the sweep file for one-at-a-time swing runs "
        "(1 + 2 per parameter samples, each run for every replication)."
    )


def _num(value: Any) -> str:
    v = float(value)
    if math.isnan(v):
        return "-"
    return f"{v:,.0f}" if abs(v) >= 1000 else f"{v:.3f}"


def _has_tornado(kpi: str, swings: Swings) -> bool:
    return kpi in swings and any(s.swing > 0 for s in swings[kpi][1])


def sensitivity_html(
    data: Data,
    method: str,
    findings: list[Finding],
    swings: Swings,
    out: Path,
    steady: list[str],
) -> list[str]:
    """The sensitivity section of report.html, with its tables and figures."""
    parts = [
        f"<p>Method: {html.e(METHOD_TEXT[method])}; on each sample's mean over its "
        "replications. rho: Spearman rank correlation (the direction of the effect).</p>"
    ]
    if steady:
        parts.append(f"<p>{html.e(_steady(data, steady))}</p>")
    if chance_note(data):
        parts.append(f'<p class="warning">{html.e(chance_note(data))}</p>')
    if not findings:
        return [*parts, "<p>No analysed KPI varies across samples.</p>"]
    for finding in findings:
        parts.append(f"<h3>{html.e(labels.kpi_title(finding.kpi, data.spec))}</h3>")
        parts += [f'<p class="warning">Warning: {html.e(w)}</p>' for w in finding.warnings]
        rows = []
        for row in finding.rows:
            label = labels.parameter_label(row["parameter"], data.spec)
            cells = [html.number_cell(row["rank"]), html.Cell(html.e(label), label, name=True)]
            for v in _values(finding.method, row):
                cells.append(html.text_cell(v) if isinstance(v, str) else html.number_cell(
                    float(v), _num(v)))  # fmt: skip
            rows.append(cells)
        parts.append(html.table(_columns(finding.method), rows))
        image = out / f"tornado_{slug(finding.kpi)}.png"
        if _has_tornado(finding.kpi, swings) and image.exists():
            parts.append(html.image(image, f"Tornado chart: {finding.kpi}"))
    if not swings:
        parts.append(f"<p>{html.e(_no_tornado().replace('`', ''))}</p>")
    return parts


# --- scenario discovery ------------------------------------------------------------------------


def _box_sentence(found: Discovered) -> str:
    assert found.box is not None
    where = "in the box below" if found.rules else "nowhere in particular (no restriction found)"
    return (
        f"It is concentrated {where}: there, {found.box.density:.0%} of the runs reach it "
        f"(density); the box holds {found.box.coverage:.0%} of the runs that reach it "
        f"(coverage) and {found.box.mass:.0%} of all runs."
    )


def _intro(found: Discovered) -> str:
    return f"The outcome holds in {found.share:.0%} of {found.runs} runs."


def discovery_markdown(found: list[Discovered]) -> list[str]:
    """The scenario-discovery section of summary.md: each outcome's boxes in words."""
    lines = ["## Scenario discovery", ""]
    for d in found:
        lines += [f"### `{d.name}`: `{d.outcome}`", ""]
        if d.description:
            lines += [d.description.strip(), ""]
        if d.box is None:
            lines += [f"{_intro(d)} Nothing to discover.", ""]
            continue
        lines += [f"{_intro(d)} {_box_sentence(d)}", ""]
        lines += [f"- {rule}" for rule in d.rules]
        lines += [
            "",
            "Bounds are rounded to a round step of each parameter's range, and the figures "
            "are for the rounded box; restrictions that cost under 2 points of density were "
            "dropped; the whole peeling trajectory is in `discovery.csv`.",
            "",
        ]
    return lines


def discovery_html(found: list[Discovered]) -> list[str]:
    """The scenario-discovery section of report.html."""
    parts = []
    for d in found:
        parts.append(f"<h3>{html.e(d.name)}: <code>{html.e(d.outcome)}</code></h3>")
        if d.description:
            parts.append(f"<p>{html.e(d.description.strip())}</p>")
        if d.box is None:
            parts.append(f"<p>{html.e(_intro(d))} Nothing to discover.</p>")
            continue
        parts.append(f'<p class="lead">{html.e(_intro(d) + " " + _box_sentence(d))}</p>')
        if d.rules:
            parts.append("<ul>" + "".join(f"<li>{html.e(r)}</li>" for r in d.rules) + "</ul>")
        parts.append(
            '<p class="meta">Bounds rounded to a round step of each parameter\'s range; the '
            "figures are the rounded box's. The peeling trajectory is in discovery.csv.</p>"
        )
    return parts


# --- the workbook ------------------------------------------------------------------------------


def workbook(data: Data, sections: dict[str, Section], runs: pd.DataFrame, path: Path) -> None:
    """sweep.xlsx: every run on a row, then the analysis tables, a sheet each."""
    from sim.io.exports import write_workbook

    sheets = {"runs": runs}
    for section in sections.values():
        sheets.update(section.tables)
    about = {
        "runs": "One row per run: sample, replication, status, role (design, swing, baseline), "
        "every parameter and every analysed KPI.",
        "expectations": "Each expectation's verdict.",
        "KPI summary": "Each analysed KPI's mean and percentiles over the design's runs, with "
        "the baseline's median.",
        "sensitivity": "Per KPI and parameter: the index, its 95% interval, the method, "
        "Spearman's rho, the rank and any warning.",
        "swings": "One-at-a-time swings: the KPI with every parameter at its median (centre) and "
        "with one at its 10th and 90th percentile.",
        "discovery": "Scenario discovery: each outcome's peeling trajectory.",
    }
    write_workbook(path, sheets, about, f"Sweep {data.spec.name}")
