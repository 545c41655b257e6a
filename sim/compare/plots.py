"""Figures of a comparison: one colour per scenario, the same in every figure.

``imports_figure`` shows monthly imports to China and to the Quad from Myanmar (one line per
scenario, mean over replications, with a 5-95% band), the reported 2024 figures for scale, and
below them a strip with every replication's dated events, one row per scenario.
``annual_figure`` shows the annual totals with their 5-95% ranges. Both return the Figure, so
tests can inspect the matplotlib objects.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.compare.comparison import (
    CHINA,
    MYANMAR,
    Comparison,
    china_from_myanmar,
    quad_delivered_by_year,
    quad_from_myanmar,
)
from sim.io.plots import OKABE_ITO, month_axis

REPORTED_2024_CHINA_FROM_MYANMAR_T = 44_000.0
"""China's 2024 imports from Myanmar (seed 003, Guotai Junan via Observer Net), tonnes."""
REPORTED_DEC_2024_T = 300.0
"""China's December 2024 imports from Myanmar, "around 300 tons" (seed 003)."""

SCENARIO_COLOURS = [OKABE_ITO[i] for i in (7, 0, 1, 2, 3, 5, 4, 6)]
"""Black for the first (reference) scenario, then Okabe-Ito blue, orange, green, pink,
vermillion and sky blue; yellow last, as it is faint on white."""
STYLES = ["-", "-", "--", "-.", "-", "--", "-.", ":"]
"""Line styles, so that overlapping lines and grey-scale prints stay apart."""

EVENT_MARKERS: dict[str, tuple[str, str, bool]] = {
    "border_closed": ("v", "border closed", True),
    "border_reopened": ("^", "border reopened", True),
    "offensive": ("X", "offensive begins", True),
    "captured": ("P", "sites change hands", True),
    "control_change": ("P", "sites change hands", True),
    "import_ban": ("s", "import ban", True),
    "import_ban_lifted": ("s", "import ban lifted", False),
    "levy_change": ("D", "levy change", True),
    "tariff_change": ("*", "tariff change", True),
    "sanctions": ("h", "sanctions change", True),
    "buyers_change": ("o", "buyers change", True),
    "interference": (">", "route interference", True),
    "interference_ended": (">", "interference ends", False),
}
"""Event kind -> (marker, legend label, filled). Hollow markers end what the filled began."""


def scenario_colours(names: list[str]) -> dict[str, str]:
    """Colour of each scenario by its position in the comparison (cycled beyond eight)."""
    return {n: SCENARIO_COLOURS[i % len(SCENARIO_COLOURS)] for i, n in enumerate(names)}


def _style(names: list[str], name: str) -> str:
    return STYLES[names.index(name) % len(STYLES)]


def _dates(months: list[str]) -> pd.DatetimeIndex:
    """Mid-month dates for YYYY-MM labels (a month's tonnes are plotted at its middle)."""
    return pd.DatetimeIndex(pd.to_datetime([f"{m}-15" for m in months]))


def _draw_band(ax: Axes, table: pd.DataFrame, name: str, colour: str, style: str) -> None:
    """One scenario: the mean line (labelled with the scenario name) and its 5-95% band."""
    dates = _dates(list(table.columns))
    ax.plot(dates, table.mean().to_numpy(), color=colour, ls=style, lw=1.8, label=name)
    if len(table) > 1:
        ax.fill_between(
            dates,
            table.quantile(0.05).to_numpy(),
            table.quantile(0.95).to_numpy(),
            color=colour,
            alpha=0.12,
            lw=0,
        )


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


def imports_figure(comparison: Comparison) -> Figure:
    """Monthly imports from Myanmar: to China (top), to the Quad (middle), events (bottom)."""
    names = comparison.names
    colours = scenario_colours(names)
    height = 7.0 + 0.32 * len(names)
    fig, (china, quad, events) = plt.subplots(
        3,
        1,
        figsize=(12, height),
        sharex=True,
        layout="constrained",
        gridspec_kw={"height_ratios": [3.0, 2.0, 0.35 * len(names) + 0.6]},
    )
    months: set[str] = set()
    for result in comparison.results:
        name = result.scenario.name
        style = _style(names, name)
        china_series = china_from_myanmar(result)
        months |= set(china_series.columns)
        _draw_band(china, china_series, name, colours[name], style)
        _draw_band(quad, quad_from_myanmar(result), name, colours[name], style)
    _reported(china, sorted(months))
    china.set_title(f"{CHINA.title()}: rare-earth imports from Myanmar", loc="left")
    quad.set_title(
        "Quad (India, US): rare-earth imports from Myanmar, each tonne counted at its first "
        "Quad border",
        loc="left",
    )
    for ax in (china, quad):
        ax.set_ylabel("tonnes per month")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        month_axis(ax)
    if quad.get_ylim()[1] < 1:
        quad.set_ylim(0, 100)
    china.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="scenario", fontsize=9
    )
    _event_strip(events, comparison, colours)
    month_axis(events)
    events.set_xlabel("month")
    fig.suptitle(
        f"Rare-earth imports from Myanmar by scenario: mean of {comparison.replications} "
        f"paired replication(s) (seed {comparison.seed}), shaded 5-95% of replications",
        fontsize=12,
    )
    return fig


def _event_strip(ax: Axes, comparison: Comparison, colours: dict[str, str]) -> None:
    """One row per scenario; a marker per dated event of every replication, so that the
    spread of random dates shows. Markers say the kind; colours say the scenario. Kinds get
    their own lane within the row, so that events on the same day do not hide each other."""
    names = comparison.names
    seen: dict[str, tuple[str, bool]] = {}
    for row, result in enumerate(comparison.results):
        name = result.scenario.name
        ev = result.events[result.events.kind.isin(EVENT_MARKERS)]
        lanes = list(dict.fromkeys(EVENT_MARKERS[k][1] for k in ev.sort_values("date").kind))
        for kind, part in ev.groupby("kind", sort=True):
            marker, label, filled = EVENT_MARKERS[str(kind)]
            y = len(names) - 1 - row + _lane_offset(lanes.index(label), len(lanes))
            ax.scatter(
                pd.to_datetime(part["date"]),
                np.full(len(part), y),
                marker=marker,
                s=30,
                color=colours[name],
                facecolors=colours[name] if filled else "none",
                alpha=0.6,
                lw=1.0,
            )
            seen.setdefault(label, (marker, filled))
    ax.set_yticks(range(len(names)), labels=list(reversed(names)), fontsize=9)
    ax.set_ylim(-0.6, len(names) - 0.4)
    ax.set_title("Dated events, every replication (colour: scenario; marker: kind)", loc="left")
    handles = [
        Line2D([], [], ls="", marker=m, color="0.3", mfc="0.3" if filled else "none", label=label)
        for label, (m, filled) in seen.items()
    ]
    if handles:
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=8,
            title="event",
        )
    else:
        ax.text(0.5, 0.5, "no dated events", transform=ax.transAxes, ha="center", va="center")


def _lane_offset(lane: int, lanes: int) -> float:
    """Vertical offset of a lane within a scenario's row (rows are one unit apart)."""
    if lanes <= 1:
        return 0.0
    return 0.32 - 0.64 * lane / (lanes - 1)


def annual_figure(comparison: Comparison, kpis: pd.DataFrame) -> Figure:
    """Annual totals by scenario, bars with 5-95% ranges: China's imports from Myanmar (top)
    and tonnes delivered to Quad processors (bottom)."""
    names = comparison.names
    colours = scenario_colours(names)
    fig, (china, quad) = plt.subplots(2, 1, figsize=(12, 7.5), layout="constrained")
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
        _bars(china, x + offset, rows["mean"], rows["p5"], rows["p95"], width, colours[name], name)
        delivered = quad_delivered_by_year(result).reindex(columns=years, fill_value=0.0)
        _bars(
            quad,
            x + offset,
            delivered.mean(),
            delivered.quantile(0.05),
            delivered.quantile(0.95),
            width,
            colours[name],
            name,
        )
    china.axhline(
        REPORTED_2024_CHINA_FROM_MYANMAR_T,
        color="0.35",
        ls=":",
        lw=1.4,
        label=f"2024 (reported): {REPORTED_2024_CHINA_FROM_MYANMAR_T:,.0f} t",
    )
    china.set_title("China: rare-earth imports from Myanmar per year", loc="left")
    quad.set_title("Delivered to Quad processors (India, US) per year", loc="left")
    for ax in (china, quad):
        ax.set_xticks(x, labels=years)
        ax.set_ylabel("tonnes per year")
        ax.set_ylim(bottom=0)
        ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))
        ax.grid(True, axis="y", alpha=0.3)
    if quad.get_ylim()[1] < 1:
        quad.set_ylim(0, 100)
    quad.set_xlabel("year")
    china.legend(
        loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, title="scenario", fontsize=9
    )
    fig.suptitle(
        f"Annual totals by scenario: mean of {comparison.replications} paired replication(s), "
        "whiskers 5-95%",
        fontsize=12,
    )
    return fig


def _bars(
    ax: Axes,
    x: np.ndarray,
    mean: pd.Series,
    p5: pd.Series,
    p95: pd.Series,
    width: float,
    colour: str,
    name: str,
) -> None:
    """Bars of the mean with 5-95% whiskers (none where every replication gave zero)."""
    m = np.asarray(mean, dtype=float)
    lo, hi = np.asarray(p5, dtype=float), np.asarray(p95, dtype=float)
    ax.bar(x, m, width=width, color=colour, label=name)
    some = hi > 0
    if some.any():
        err = [np.clip(m - lo, 0, None)[some], np.clip(hi - m, 0, None)[some]]
        ax.errorbar(
            x[some], m[some], yerr=err, fmt="none", ecolor="0.25", capsize=2, elinewidth=0.8
        )


def save_both(fig: Figure, stem: Path) -> None:
    """Write ``stem``.png (for the report and quick looks) and ``stem``.svg (for print),
    without timestamps in the files, then free the figure."""
    fig.savefig(stem.with_suffix(".png"), dpi=110, metadata={"Software": None})
    fig.savefig(stem.with_suffix(".svg"), metadata={"Date": None})
    plt.close(fig)
