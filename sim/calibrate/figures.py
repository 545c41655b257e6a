"""The backtest figure: the model's monthly series against every reported point and span, one
panel per customs scope and origin (and per other measure), with the events of the run marked.

A reported total over a span is drawn as its monthly average across the span, its tolerance
shaded; a month as a point with its tolerance bar; a share, ratio or change as the monthly level
it implies given the model's own denominator (so a -33% m/m figure sits a third below the
simulated previous month). Out-of-sample figures are drawn hollow.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from sim.calibrate.measures import Observed, monthly, rate
from sim.calibrate.report import Report, Row
from sim.calibrate.targets import Quantity
from sim.model.clock import Clock

if TYPE_CHECKING:
    from matplotlib.axes import Axes as PlotAxes
    from matplotlib.figure import Figure

_SCOPE_NAMES = {
    "oxide": "oxides (HS 28469019)",
    "carbonate": "carbonates (HS 28469048)",
    "other_compound": "other compounds (HS 28469099)",
    "compounds": "oxides, carbonates and other compounds",
    "ore": "ores and concentrates",
    "all": "all, ores included",
    "oxide+carbonate": "oxides and carbonates",
}
_PRODUCT_NAMES = {"mhree": "medium/heavy", "lree": "light", "all": ""}
SIM_COLOUR = "#0072B2"
IN_COLOUR = "#D55E00"
OUT_COLOUR = "#009E73"
PANEL_COLUMNS = 2


def panel_key(q: Quantity) -> tuple[str, str, str, str]:
    """Figures share a panel when they read the same series: measure, scope, origin, product."""
    return (q.measure, q.scope_name, q.origin, q.product)


def panel_title(key: tuple[str, str, str, str], importer: str) -> str:
    """A panel's title: what is measured, from where, of which product."""
    measure, scope, origin, product = key
    where = "all origins" if origin == "all" else origin.replace("_", " ").title()
    product_text = f", {_PRODUCT_NAMES[product]}" if _PRODUCT_NAMES[product] else ""
    if measure == "imports":
        named = _SCOPE_NAMES.get(scope, scope.replace("_", " ").replace("+", " and "))
        return f"{importer.title()} imports from {where}: {named}{product_text}"
    if measure == "mined":
        return f"Mined in {where}{product_text}"
    return f"Stock held at the sites of {where} (peak in month)"


def backtest_figure(report: Report) -> Figure:
    """One panel per series that some figure reads, mean and 5-95% band over replications."""
    from sim.io.canvas import subplots
    from sim.io.plots import month_axis

    ev = report.evaluation
    groups: dict[tuple[str, str, str, str], list[Row]] = {}
    for row in report.rows:
        groups.setdefault(panel_key(row.resolved.target.quantity), []).append(row)
    keys = sorted(groups, key=lambda k: (k[0] != "imports", k[1], k[2] != "myanmar", k[2], k[3]))
    n_rows = max(1, -(-len(keys) // PANEL_COLUMNS))
    fig, axes = subplots(
        n_rows, PANEL_COLUMNS, figsize=(15, 3.1 * n_rows + 1.2), sharex=True, squeeze=False
    )
    dates = pd.to_datetime([f"{m}-15" for m in ev.observed.axes.months])
    spans = closure_spans(report)
    for i, ax in enumerate(axes.flat):
        if i >= len(keys):
            ax.set_visible(False)
            continue
        rows = groups[keys[i]]
        _panel(ax, ev.observed, rows, dates)
        _mark_events(ax, spans, label=i < PANEL_COLUMNS)
        ax.set_title(panel_title(keys[i], rows[0].resolved.target.quantity.importer), fontsize=9)
        month_axis(ax)
    _legend(fig)
    fig.suptitle(
        f"{ev.scenario.name}: simulated monthly series (mean of {report.k} replication(s), "
        "5-95% band) against every reported figure",
        fontsize=11,
    )
    return fig


def _panel(ax: PlotAxes, observed: Observed, rows: Sequence[Row], dates: pd.DatetimeIndex) -> None:
    from matplotlib.ticker import StrMethodFormatter

    series = monthly(observed, rows[0].resolved.target.quantity)
    ax.plot(dates, series.mean(axis=0), color=SIM_COLOUR, lw=1.6)
    if series.shape[0] > 1:
        low, high = np.percentile(series, [5, 95], axis=0)
        ax.fill_between(dates, low, high, color=SIM_COLOUR, alpha=0.2, lw=0)
    for row in rows:
        _mark_reported(ax, observed, row)
    ax.yaxis.set_major_formatter(StrMethodFormatter("{x:,.0f}"))
    ax.set_ylim(bottom=0)
    ax.set_ylabel("t per month", fontsize=8)
    ax.tick_params(labelsize=8)


def implied_levels(observed: Observed, row: Row) -> tuple[float, float, float]:
    """A figure as a monthly level with its tolerance limits (t per month; a stock: tonnes).

    A total over a span is spread evenly over it; a share or ratio multiplies, and a change in
    percent scales, the simulated monthly rate of its denominator.
    """
    t = row.resolved.target
    low, high = row.resolved.limits()
    points = np.array([t.value, low, high])
    if t.kind == "level":
        months = 1.0 if t.quantity.measure == "stock" else float(t.quantity.span.length)
        out = points / months
    else:
        base = float(np.mean(rate(observed, t.denominator)))
        out = base * (1.0 + points / 100.0) if t.kind == "change" else base * points
    return float(out[0]), float(out[1]), float(out[2])


def _mark_reported(ax: PlotAxes, observed: Observed, row: Row) -> None:
    """A figure as the monthly level it states or implies, with its tolerance."""
    t = row.resolved.target
    q = t.quantity
    colour = IN_COLOUR if row.fitted else OUT_COLOUR
    face = colour if row.fitted else "white"
    level, lo, hi = implied_levels(observed, row)
    first = pd.Timestamp(f"{q.span.months[0]}-01")
    last = pd.Timestamp(f"{q.span.months[-1]}-01") + pd.offsets.MonthEnd(0)
    if q.span.length == 1 or t.kind != "level":
        when = first + (last - first) / 2
        marker = "D" if t.kind == "level" else "^"
        ax.errorbar(
            [when],
            [level],
            yerr=[[max(level - lo, 0.0)], [max(hi - level, 0.0)]],
            fmt=marker,
            color=colour,
            mfc=face,
            mec=colour,
            ms=5,
            capsize=3,
            zorder=5,
        )
    else:
        ax.hlines(level, first, last, colors=colour, lw=1.8, linestyles="-" if row.fitted else "--")
        alpha = 0.15 if row.fitted else 0.08
        ax.fill_between([first, last], lo, hi, color=colour, alpha=alpha, lw=0)
    ax.annotate(
        t.id, (last, hi), xytext=(2, 1), textcoords="offset points", fontsize=6, color=colour
    )


def closure_spans(report: Report) -> list[tuple[pd.Timestamp, pd.Timestamp, str]]:
    """Border closures of replication 0 as (from, to, crossing), and single events as (at, at,
    label), for marking."""
    ev = report.evaluation
    clock = Clock(ev.scenario.start, ev.scenario.end)
    open_at: dict[str, float] = {}
    out: list[tuple[float, float, str]] = []
    for day, kind, subject, _ in ev.first.ledger.events:
        if kind == "border_closed":
            open_at.setdefault(subject, day)
        elif kind == "border_reopened" and subject in open_at:
            out.append((open_at.pop(subject), day, subject))
        elif kind in _POINT_EVENTS:
            out.append((day, day, f"{kind.replace('_', ' ')}: {subject}"))
    out += [(day, clock.horizon, subject) for subject, day in open_at.items()]
    return [(pd.Timestamp(clock.date(a)), pd.Timestamp(clock.date(b)), s) for a, b, s in out]


_POINT_EVENTS = {
    "offensive",
    "captured",
    "control_change",
    "import_ban",
    "levy_change",
    "buyers_change",
}


def _mark_events(
    ax: PlotAxes, spans: Sequence[tuple[pd.Timestamp, pd.Timestamp, str]], label: bool
) -> None:
    for a, b, what in spans:
        if b > a:
            ax.axvspan(a, b, color="0.8", alpha=0.35, lw=0, zorder=0)
        else:
            ax.axvline(a, color="0.45", ls=":", lw=0.8, zorder=0)
            if label:
                ax.annotate(
                    what,
                    (a, 1.0),
                    xycoords=("data", "axes fraction"),
                    rotation=90,
                    va="top",
                    ha="right",
                    fontsize=5.5,
                    color="0.35",
                )


def _legend(fig: Figure) -> None:
    from matplotlib.lines import Line2D
    from matplotlib.patches import Patch

    handles = [
        Line2D([], [], color=SIM_COLOUR, lw=1.6),
        Line2D([], [], color=IN_COLOUR, lw=1.8),
        Line2D([], [], color=IN_COLOUR, marker="D", ls=""),
        Line2D([], [], color=IN_COLOUR, marker="^", ls=""),
        Line2D([], [], color=OUT_COLOUR, marker="D", ls="", mfc="white"),
        Patch(color="0.8", alpha=0.35),
        Line2D([], [], color="0.45", ls=":"),
    ]
    labels = [
        "simulated (mean, 5-95% band)",
        "reported total over a span, as its monthly average (shaded: tolerance)",
        "reported month (bar: tolerance)",
        "reported share, ratio or change, as the level it implies from the simulated denominator",
        "out of sample (hollow, dashed): not fitted",
        "a border crossing closed (replication 0)",
        "an offensive, capture, control or levy change, ban or sales halt",
    ]
    fig.legend(handles, labels, loc="outside lower center", ncols=3, fontsize=8, frameon=False)
