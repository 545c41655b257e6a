"""Figures of a comparison: one colour per scenario, the same in every figure.

``imports_figure`` shows monthly imports to China and to the Quad from Myanmar (one line per
scenario, mean over replications, with a 5-95% band), the reported 2024 figures for scale, and
below them every replication's dated events on lanes named after what they concern.
``annual_figure`` shows the annual totals with their 5-95% ranges. ``outcomes_figure`` shows
each outcome split (``sim.compare.branches``): a line and band per branch and the mixture.
Panels without any tonnes in any scenario are left out. Every function returns the Figure, so
tests can inspect the matplotlib objects. Legends and titles use the scenarios' titles.
"""

from __future__ import annotations

import textwrap
from pathlib import Path

import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from sim.compare.branches import Split
from sim.compare.comparison import CHINA, MYANMAR, Comparison
from sim.io.canvas import figure, subplots
from sim.io.plots import (
    OKABE_ITO,
    EventBlock,
    draw_band,
    event_strip,
    mid_month,
    month_axis,
    strip_height,
    tonnes_axis,
)
from sim.results.series import china_from_myanmar, quad_delivered_by_year, quad_from_myanmar

REPORTED_2024_CHINA_FROM_MYANMAR_T = 44_000.0
"""China's 2024 imports from Myanmar (seed 003, Guotai Junan via Observer Net), tonnes."""
REPORTED_DEC_2024_T = 300.0
"""China's December 2024 imports from Myanmar, "around 300 tons" (seed 003)."""

SCENARIO_COLOURS = [OKABE_ITO[i] for i in (7, 0, 1, 2, 3, 5, 4, 6)]
"""Black for the first (reference) scenario, then Okabe-Ito blue, orange, green, pink,
vermillion and sky blue; yellow last, as it is faint on white."""
STYLES = ["-", "-", "--", "-.", "-", "--", "-.", ":"]
"""Line styles, so that overlapping lines and grey-scale prints stay apart."""
BRANCH_COLOURS = {"yes": OKABE_ITO[5], "no": OKABE_ITO[0], "n/a": OKABE_ITO[1]}
"""Vermillion: the event happens (or the site is taken); blue: it does not; orange: undecided."""
BRANCH_WORDS = {"yes": "yes", "no": "no", "n/a": "undecided"}


def scenario_colours(names: list[str]) -> dict[str, str]:
    """Colour of each scenario by its position in the comparison (cycled beyond eight)."""
    return {n: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)] for i, n in enumerate(names)}


def _style(names: list[str], name: str) -> str:
    return STYLES[names.index(name) % len(STYLES)]


def _reported(ax: Axes, months: list[str]) -> None:
    """The reported 2024 figures, for scale: the monthly average as a dotted line, and the
    December 2024 collapse as a point when the plotted range includes it."""
    average = REPORTED_2024_CHINA_FROM_MYANMAR_T / 12
    ax.axhline(
        average,
        color="0.35",
        ls=":",
        lw=1.4,
        label=f"2024 average (reported): {average:,.0f} t/month",
    )
    if "2024-12" in months:
        ax.plot(
            [pd.Timestamp("2024-12-15")],
            [REPORTED_DEC_2024_T],
            "o",
            color="0.35",
            mfc="white",
            ms=7,
            label="December 2024 (reported): ~300 t",
        )


def has_quad(comparison: Comparison) -> bool:
    """Whether any scenario brings any tonne into the Quad (else no Quad panel is drawn)."""
    return any(quad_from_myanmar(r).to_numpy().sum() > 0 for r in comparison.results)


def imports_figure(comparison: Comparison) -> Figure:
    """Monthly imports from Myanmar: to China (top), to the Quad (middle, when any scenario
    has any), every replication's dated events (bottom)."""
    names = comparison.names
    titles = comparison.titles
    colours = scenario_colours(names)
    blocks = [
        EventBlock(titles[r.scenario.name], colours[r.scenario.name], r.events, r.scenario)
        for r in comparison.results
    ]
    quad_shown = has_quad(comparison)
    heights = [3.2, *([2.2] if quad_shown else []), strip_height(blocks)]
    fig, axes = subplots(
        len(heights),
        1,
        figsize=(12, sum(heights) + 0.6),
        sharex=True,
        gridspec_kw={"height_ratios": heights},
    )
    china, events = axes[0], axes[-1]
    months: set[str] = set()
    for result in comparison.results:
        name = result.scenario.name
        style = _style(names, name)
        china_series = china_from_myanmar(result)
        months |= set(china_series.columns)
        draw_band(china, china_series, titles[name], colours[name], style)
        if quad_shown:
            draw_band(axes[1], quad_from_myanmar(result), titles[name], colours[name], style)
    _reported(china, sorted(months))
    china.set_title("China: rare-earth imports from Myanmar", loc="left")
    if quad_shown:
        axes[1].set_title(
            "Quad (India, US): rare-earth imports from Myanmar, each tonne counted once, at its "
            "first Quad border",
            loc="left",
        )
    for ax in axes[:-1]:
        tonnes_axis(ax)
        month_axis(ax)
    china.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="scenario", fontsize=9
    )
    event_strip(events, blocks, comparison.replications)
    month_axis(events)
    fig.suptitle(
        f"Rare-earth imports from Myanmar by scenario: mean of {comparison.replications} "
        f"paired replication(s) (seed {comparison.seed}), shaded 5-95% of replications\n"
        "Where random events split a scenario's futures, its mean mixes them: see the outcome "
        "splits",
        fontsize=11,
    )
    return fig


def annual_figure(comparison: Comparison, kpis: pd.DataFrame) -> Figure:
    """Annual totals by scenario, bars with 5-95% ranges: China's imports from Myanmar (top)
    and tonnes delivered to Quad processors (bottom, when any scenario delivers any)."""
    names = comparison.names
    titles = comparison.titles
    colours = scenario_colours(names)
    delivered = {r.scenario.name: quad_delivered_by_year(r) for r in comparison.results}
    quad_shown = any(d.to_numpy().sum() > 0 for d in delivered.values())
    panels = 2 if quad_shown else 1
    fig, axes = subplots(panels, 1, figsize=(12, 3.9 * panels), squeeze=False)
    china = axes[0, 0]
    years = sorted({str(y) for y in kpis[kpis.kpi == "imports"].year.unique()})
    x = np.arange(len(years))
    width = 0.8 / max(1, len(names))
    for i, result in enumerate(comparison.results):
        name = result.scenario.name
        offset = (i - (len(names) - 1) / 2) * width
        rows = kpis[
            (kpis.scenario == name)
            & (kpis.kpi == "imports")
            & (kpis.importer == CHINA)
            & (kpis.origin == MYANMAR)
            & (kpis["product"] == "all")
        ].set_index("year")
        rows = rows.reindex(years)
        _bars(
            china, x + offset, rows["mean"], rows["p5"], rows["p95"], width, colours[name],
            titles[name],
        )  # fmt: skip
        if quad_shown:
            d = delivered[name].reindex(columns=years, fill_value=0.0)
            _bars(
                axes[1, 0], x + offset, d.mean(), d.quantile(0.05), d.quantile(0.95), width,
                to_rgba(colours[name], 0.35),
            )  # fmt: skip
            separated = _annual_kpi(kpis, name, "quad_processed").reindex(years)
            axes[1, 0].bar(
                x + offset, separated.fillna(0.0).to_numpy(), width=width * 0.5,
                color=colours[name],
            )  # fmt: skip
    china.axhline(
        REPORTED_2024_CHINA_FROM_MYANMAR_T,
        color="0.35",
        ls=":",
        lw=1.4,
        label=f"2024 (reported): {REPORTED_2024_CHINA_FROM_MYANMAR_T:,.0f} t",
    )
    china.set_title("China: rare-earth imports from Myanmar per year", loc="left")
    if quad_shown:
        axes[1, 0].set_title(
            "Quad processors (IREL, Lynas, MP) per year: delivered (pale bars, each tonne once) "
            "and separated within their capacity (solid)",
            loc="left",
        )
    for ax in axes[:, 0]:
        ax.set_xticks(x, labels=years)
        tonnes_axis(ax, "tonnes per year")
        ax.grid(True, axis="y", alpha=0.3)
    axes[-1, 0].set_xlabel("year")
    china.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="scenario", fontsize=9
    )
    fig.suptitle(
        f"Annual totals by scenario: mean of {comparison.replications} paired replication(s), "
        "whiskers 5-95%",
        fontsize=12,
    )
    return fig


def _annual_kpi(kpis: pd.DataFrame, name: str, kpi: str) -> pd.Series:
    """A scenario's per-year KPI (mean over replications), indexed by year as text."""
    rows = kpis[(kpis.scenario == name) & (kpis.kpi == kpi)]
    return pd.Series(rows["mean"].to_numpy(), index=rows["year"].astype(str).to_numpy())


def _bars(
    ax: Axes,
    x: np.ndarray,
    mean: pd.Series,
    p5: pd.Series,
    p95: pd.Series,
    width: float,
    colour: str | tuple[float, float, float, float],
    label: str | None = None,
) -> None:
    """Bars of the mean with 5-95% whiskers (none where every replication gave zero)."""
    m = np.asarray(mean, dtype=float)
    lo, hi = np.asarray(p5, dtype=float), np.asarray(p95, dtype=float)
    ax.bar(x, m, width=width, color=colour, label=label)
    some = hi > 0
    if some.any():
        err = [np.clip(m - lo, 0, None)[some], np.clip(hi - m, 0, None)[some]]
        ax.errorbar(
            x[some], m[some], yerr=err, fmt="none", ecolor="0.25", capsize=2, elinewidth=0.8
        )


# --- outcome splits ----------------------------------------------------------------------------


def outcomes_figure(comparison: Comparison, found: list[Split]) -> Figure:
    """One row per outcome split: China's imports from Myanmar per branch (line and 5-95%
    band), the scenario's mixture (all replications) and the reference's mean; a Quad panel
    beside it when the scenario brings tonnes into the Quad."""
    by_name = {r.scenario.name: r for r in comparison.results}
    reference = comparison.reference
    fig = figure((13, 3.0 * len(found) + 0.8))
    grid = fig.add_gridspec(len(found), 2, width_ratios=[1.35, 1.0])
    for row, split in enumerate(found):
        result = by_name[split.scenario]
        quad = quad_from_myanmar(result)
        with_quad = quad.to_numpy().sum() > 0
        china_ax = fig.add_subplot(grid[row, 0] if with_quad else grid[row, :])
        _split_panel(china_ax, china_from_myanmar(result), split, comparison)
        ref = china_from_myanmar(reference)
        china_ax.plot(
            mid_month(list(ref.columns)),
            ref.mean().to_numpy(),
            color="0.55",
            lw=1.0,
            label="reference: " + comparison.titles[reference.scenario.name],
        )
        question = split.branches[0].label
        heading = f"{comparison.titles[split.scenario]}: {question[:1].upper()}{question[1:]}?"
        china_ax.set_title(
            _wrap(heading, 80 if with_quad else 140) + "\nChina's imports from Myanmar",
            loc="left",
            fontsize=10,
        )
        china_ax.legend(loc="best", fontsize=8, frameon=True, framealpha=0.85)
        if with_quad:
            quad_ax = fig.add_subplot(grid[row, 1], sharex=china_ax)
            _split_panel(quad_ax, quad, split, comparison)
            quad_ax.set_title("Quad imports from Myanmar, each tonne once", loc="left", fontsize=10)
            quad_ax.legend(loc="best", fontsize=8, frameon=True, framealpha=0.85)
    fig.suptitle(
        f"Outcome splits: replications grouped by how a random event turned out (of "
        f"{comparison.replications}); mean line and 5-95% band per branch, dashed: all "
        "replications together (the mixture)",
        fontsize=11,
    )
    return fig


def _split_panel(ax: Axes, table: pd.DataFrame, split: Split, comparison: Comparison) -> None:
    for branch in split.branches:
        reps = [r for r in branch.replications if r in table.index]
        label = f"{BRANCH_WORDS.get(branch.outcome, branch.outcome)} ({len(reps)} of {len(table)})"
        colour = BRANCH_COLOURS.get(branch.outcome, OKABE_ITO[2])
        draw_band(ax, table.loc[reps], label, colour, "-", 1.8, band=len(reps) > 2)
    draw_band(ax, table, "all (mixture)", "black", "--", 1.2, band=False)
    tonnes_axis(ax)
    month_axis(ax)


def _wrap(text: str, width: int = 60) -> str:
    """Break a long title or legend entry over lines at spaces (never inside a word)."""
    return textwrap.fill(text, width, break_long_words=False, break_on_hyphens=False)


def save_both(fig: Figure, stem: Path) -> None:
    """Write ``stem``.png (for the report and quick looks) and ``stem``.svg (for print),
    without timestamps in the files (the figure is freed with its last reference)."""
    fig.savefig(stem.with_suffix(".png"), dpi=110, metadata={"Software": None})
    fig.savefig(stem.with_suffix(".svg"), metadata={"Date": None})
