"""Figures for people: titles, units, dated axes, colour-blind-safe colours.

Kept out of the core: the model and the Result never import matplotlib.
"""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure

from sim.results.result import Result

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe-Ito palette: distinguishable with the common colour-vision deficiencies."""

EVENT_KINDS_SHOWN = {
    "border_closed",
    "border_reopened",
    "offensive",
    "captured",
    "control_change",
    "import_ban",
    "import_ban_lifted",
    "levy_change",
    "tariff_change",
    "sanctions",
    "buyers_change",
    "interference",
}


def month_axis(ax: plt.Axes) -> None:
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=[4, 7, 10]))
    ax.grid(True, which="major", alpha=0.3)


def band(frame: pd.DataFrame, keys: list[str]) -> pd.DataFrame:
    """Per month (and keys): mean, 5th and 95th percentile of tonnes over replications."""
    total = frame.groupby([*keys, "month", "replication"], sort=True)["tonnes"].sum()
    g = total.groupby(level=[*keys, "month"], sort=True)
    out = pd.DataFrame({"mean": g.mean(), "p5": g.quantile(0.05), "p95": g.quantile(0.95)})
    out = out.reset_index()
    out["date"] = pd.to_datetime(out["month"] + "-15")
    return out


def imports_figure(result: Result) -> Figure:
    """Monthly imports by importer and origin, mean with a 5-95% band, events marked."""
    series = band(result.imports, ["importer", "origin"])
    totals = series.groupby(["importer", "origin"])["mean"].sum()
    shown = [key for key, value in totals.items() if value > 0]
    fig, ax = plt.subplots(figsize=(10, 5.5), layout="constrained")
    for colour, (importer, origin) in zip(OKABE_ITO, shown, strict=False):
        part = series[(series.importer == importer) & (series.origin == origin)]
        label = f"{importer.title()} from {origin}"
        ax.plot(part["date"], part["mean"], color=colour, lw=2, label=label)
        if result.replications > 1:
            ax.fill_between(part["date"], part["p5"], part["p95"], color=colour, alpha=0.2)
    mark_events(ax, result.events)
    month_axis(ax)
    ax.set_ylabel("tonnes per month")
    ax.set_ylim(bottom=0)
    reps = (
        f"mean of {result.replications} replications, 5-95% band"
        if (result.replications > 1)
        else "one replication"
    )
    ax.set_title(f"Rare-earth imports: {result.scenario.name} ({reps})")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False)
    return fig


def mark_events(ax: plt.Axes, events: pd.DataFrame) -> None:
    """Dashed verticals at dated events of the first replication, labelled along the top."""
    if events.empty:
        return
    first = events[events.replication == events.replication.min()]
    shown = first[first.kind.isin(EVENT_KINDS_SHOWN)].drop_duplicates(["date", "kind"])
    for _, row in shown.iterrows():
        when = pd.Timestamp(row["date"])
        ax.axvline(when, color="0.4", ls="--", lw=0.8)
        ax.annotate(
            row["kind"].replace("_", " "),
            (when, 1.0),
            xycoords=("data", "axes fraction"),
            rotation=90,
            va="top",
            ha="right",
            fontsize=7,
            color="0.3",
        )


def save(fig: Figure, path: str) -> None:
    fig.savefig(path, dpi=120)
    plt.close(fig)
