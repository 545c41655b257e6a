"""Figures for people: titles, units, dated axes, colour-blind-safe colours, human names.

Kept out of the core: the model and the Result never import matplotlib. ``event_strip`` draws
the dated events of every replication on lanes named after what they concern (a gate, a group,
a route, a site), so that events neither pile up nor hide the line; ``imports_figure`` is the
figure of ``sim run``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import matplotlib.dates as mdates
import matplotlib.ticker
import numpy as np
import pandas as pd
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from matplotlib.lines import Line2D

from sim.io.canvas import subplots
from sim.results.kpis import quad_destinations
from sim.results.result import Result
from sim.results.series import imports_monthly, quad_from_myanmar
from sim.scenario import schema as spec

OKABE_ITO = ["#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000"]
"""Okabe-Ito palette: distinguishable with the common colour-vision deficiencies."""

EVENT_MARKERS: dict[str, tuple[str, str, bool]] = {
    "border_closed": ("v", "gate closes", True),
    "border_reopened": ("^", "gate reopens", False),
    "offensive": ("X", "offensive begins", True),
    "captured": ("P", "site captured", True),
    "held": ("P", "site held", False),
    "control_change": ("P", "site changes hands", True),
    "import_ban": ("s", "import ban", True),
    "import_ban_lifted": ("s", "ban lifted", False),
    "levy_change": ("D", "levy change", True),
    "tariff_change": ("*", "tariff change", True),
    "sanctions": ("h", "sanctions change", True),
    "buyers_change": ("o", "buyers change", True),
    "interference": (">", "route interference", True),
    "interference_ended": (">", "interference ends", False),
}
"""Event kind -> (marker, legend label, filled). Hollow markers end what filled ones began."""
LABEL_CHARS = 44
"""Lane labels are cut to this many characters."""


def month_axis(ax: Axes) -> None:
    """Date an axis by year, with minor ticks each quarter and a light grid."""
    ax.xaxis.set_major_locator(mdates.YearLocator())
    ax.xaxis.set_major_formatter(mdates.DateFormatter("%Y"))
    ax.xaxis.set_minor_locator(mdates.MonthLocator(bymonth=[4, 7, 10]))
    ax.grid(True, which="major", alpha=0.3)


def tonnes_axis(ax: Axes, label: str = "tonnes per month") -> None:
    """Label an axis in tonnes (from zero, with thousands separators)."""
    ax.set_ylabel(label)
    ax.set_ylim(bottom=0)
    ax.yaxis.set_major_formatter(matplotlib.ticker.StrMethodFormatter("{x:,.0f}"))


def mid_month(months: list[str]) -> pd.DatetimeIndex:
    """Mid-month dates for YYYY-MM labels (a month's tonnes are plotted at its middle)."""
    return pd.DatetimeIndex(pd.to_datetime([f"{m}-15" for m in months]))


def draw_band(
    ax: Axes,
    table: pd.DataFrame,
    label: str,
    colour: str,
    style: str = "-",
    width: float = 1.8,
    band: bool = True,
) -> None:
    """A mean line over replications (labelled) and, with 2+ replications, its 5-95% band."""
    dates = mid_month(list(table.columns))
    ax.plot(dates, table.mean().to_numpy(), color=colour, ls=style, lw=width, label=label)
    if band and len(table) > 1:
        ax.fill_between(
            dates,
            table.quantile(0.05).to_numpy(),
            table.quantile(0.95).to_numpy(),
            color=colour,
            alpha=0.13,
            lw=0,
        )


def short(name: str, limit: int = LABEL_CHARS) -> str:
    """A long entity name cut at its first comma; if still too long, without its parenthesis,
    then to ``limit`` characters: ``Myanmar military (State Administration Council)`` ->
    ``Myanmar military``."""
    text = name.split(",")[0].strip()
    if len(text) > limit and "(" in text:
        text = re.sub(r"\s*\([^)]*\)", "", text).strip() or text
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


# --- the event strip ---------------------------------------------------------------------------


def lane(kind: str, subject: str, detail: str, s: spec.Scenario) -> tuple[tuple[str, ...], str]:
    """The lane an event belongs on, and the lane's label in the scenario's own names.

    Events that begin and end something share a lane (a gate closes and reopens; a ban and its
    lifting; fighting, capture and holding of a site)."""
    names = _Names(s)
    if kind in {"border_closed", "border_reopened"}:
        return ("gate", subject), f"{names.crossing(subject)} crossing"
    if kind in {"offensive", "captured", "held", "control_change"}:
        site = subject.split(",")[0]
        more = subject.count(",")
        label = names.site(site) + (f" and {more} more" if more else "")
        return ("site", site), f"fighting: {label}"
    if kind in {"import_ban", "import_ban_lifted"}:
        importer = detail.split(" ")[0].split(":")[0] if detail else ""
        label = f"{names.importer(importer)} ban on {names.group(subject)}".strip()
        return ("ban", importer, subject), label
    if kind in {"interference", "interference_ended"}:
        return ("route", subject), f"interference: {names.route(subject)}"
    if kind == "levy_change":
        return ("levy", subject), f"{names.group(subject)} levy"
    if kind == "tariff_change":
        return ("tariff", subject), f"{names.importer(subject)} tariff"
    if kind == "sanctions":
        return ("sanctions", subject), f"sanctions on {names.group(subject)}"
    if kind == "buyers_change":
        return ("buyers", subject), f"{names.group(subject)}: buyers"
    return (kind, subject), f"{kind.replace('_', ' ')}: {subject}"


@dataclass(frozen=True)
class _Names:
    """Human names of a scenario's entities, shortened for labels; ids where unknown."""

    s: spec.Scenario

    def crossing(self, cid: str) -> str:
        c = self.s.crossings.get(cid)
        return short(c.name, 34) if c else cid

    def site(self, sid: str) -> str:
        site = self.s.sites.get(sid)
        return short(site.name, 44) if site else sid

    def group(self, gid: str) -> str:
        group = self.s.groups.get(gid)
        return short(group.name, 30) if group else gid

    def importer(self, iid: str) -> str:
        importer = self.s.importers.get(iid)
        return importer.name if importer else iid

    def route(self, rid: str) -> str:
        route = self.s.routes.get(rid)
        return short(route.name or rid, 34) if route else rid


@dataclass(frozen=True)
class EventBlock:
    """One scenario's events on the strip: the header shown above its lanes, and its colour."""

    title: str
    colour: str
    events: pd.DataFrame
    """date, replication, kind, subject, detail (``Result.events``)."""
    scenario: spec.Scenario


def event_strip(ax: Axes, blocks: list[EventBlock], replications: int) -> None:
    """Every replication's dated events, one lane per thing they concern, one block of lanes
    per scenario (with a header when there are several). Markers say the kind (filled: begins;
    hollow: ends), colours the scenario; the spread of markers on a lane is the spread of the
    random dates over replications."""
    ticks: list[tuple[float, str, bool]] = []
    y = 0.0
    seen: dict[str, tuple[str, bool]] = {}
    separators = []
    for block in blocks:
        if len(blocks) > 1:
            ticks.append((y, block.title, True))
            y -= 1
        lanes = _lanes(block)
        if not lanes and len(blocks) > 1:
            ax.text(
                0.5, y + 1, "no dated events", transform=ax.get_yaxis_transform(), fontsize=8,
                color="0.45", va="center", ha="center",
            )  # fmt: skip
        for label, rows in lanes:
            for kind, part in rows.groupby("kind", sort=True):
                marker, legend, filled = EVENT_MARKERS.get(str(kind), ("o", str(kind), True))
                ax.scatter(
                    pd.to_datetime(part["date"]),
                    np.full(len(part), y),
                    marker=marker,
                    s=26,
                    color=block.colour,
                    facecolors=block.colour if filled else "none",
                    alpha=0.55,
                    lw=1.0,
                )
                seen.setdefault(legend, (marker, filled))
            ticks.append((y, label, False))
            y -= 1
        separators.append(y + 0.5)
    for where in separators[:-1]:
        ax.axhline(where, color="0.8", lw=0.8)
    ax.set_yticks([t[0] for t in ticks], labels=[t[1] for t in ticks], fontsize=8)
    for tick, (_, _, header) in zip(ax.get_yticklabels(), ticks, strict=True):
        if header:
            tick.set_fontweight("bold")
    ax.set_ylim(y + 0.5, 0.6)
    ax.tick_params(axis="y", length=0)
    runs = "the one replication" if replications == 1 else f"all {replications} replications"
    ax.set_title(
        f"Dated events of {runs}: one marker per replication (filled: begins; hollow: ends)",
        loc="left",
        fontsize=10,
    )
    if seen:
        handles = [
            Line2D([], [], ls="", marker=m, color="0.3", mfc="0.3" if f else "none", label=label)
            for label, (m, f) in seen.items()
        ]
        ax.legend(
            handles=handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            frameon=False,
            fontsize=8,
            title="event",
            title_fontsize=9,
        )
    else:
        ax.text(0.5, 0.5, "no dated events", transform=ax.transAxes, ha="center", va="center")


def _lanes(block: EventBlock) -> list[tuple[str, pd.DataFrame]]:
    """The block's lanes in order of their first event, each with its events."""
    ev = block.events[block.events.kind.isin(EVENT_MARKERS)]
    if ev.empty:
        return []
    keyed = [
        lane(str(k), str(s), str(d), block.scenario)
        for k, s, d in zip(ev.kind, ev.subject, ev.detail, strict=True)
    ]
    ev = ev.assign(
        _lane=[key for key, _ in keyed], _label=[label for _, label in keyed]
    ).sort_values("date", kind="stable")
    out = []
    for key in dict.fromkeys(ev["_lane"]):
        rows = ev[ev["_lane"] == key]
        out.append((str(rows["_label"].iloc[0]), rows))
    return out


def strip_height(blocks: list[EventBlock]) -> float:
    """Inches the strip needs: a header per block (when several) and a lane per subject."""
    lanes = sum(max(1, len(_lanes(b))) for b in blocks)
    headers = len(blocks) if len(blocks) > 1 else 0
    return 0.75 + 0.2 * (lanes + headers)


# --- sim run -----------------------------------------------------------------------------------


def imports_figure(result: Result, baseline: Result | None = None) -> Figure:
    """Monthly imports from Myanmar (China's and the Quad's, each Quad tonne counted once,
    with where it is bound), mean over replications with a 5-95% band, the baseline's mean
    dashed when one is given, and below them every replication's dated events."""
    s = result.scenario
    title = s.title or s.name.replace("_", " ")
    series = _run_series(result)
    block = EventBlock(title, OKABE_ITO[0], result.events, s)
    fig, (ax, events) = subplots(
        2,
        1,
        figsize=(12.5, 4.6 + strip_height([block])),
        sharex=True,
        gridspec_kw={"height_ratios": [4.6, strip_height([block])]},
    )
    for (label, table, width, style), colour in zip(series, OKABE_ITO, strict=False):
        draw_band(ax, table, label, colour, style, width, band=width > 1)
    if baseline is not None:
        base_title = baseline.scenario.title or baseline.scenario.name.replace("_", " ")
        ax.plot(
            mid_month(list(imports_monthly(baseline, "china").columns)),
            imports_monthly(baseline, "china").mean().to_numpy(),
            color="0.2",
            ls="--",
            lw=1.3,
            label=f"baseline, China from Myanmar:\n{base_title} (mean)",
        )
    tonnes_axis(ax)
    month_axis(ax)
    reps = (
        f"mean of {result.replications} replications, shaded 5-95%"
        if result.replications > 1
        else "one replication"
    )
    ax.set_title(f"Rare-earth imports from Myanmar: {title} ({reps})", loc="left")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), frameon=False, fontsize=9)
    event_strip(events, [block], result.replications)
    month_axis(events)
    return fig


def _run_series(result: Result) -> list[tuple[str, pd.DataFrame, float, str]]:
    """(label, replications x months, line width, style) of each line with any tonnes: every
    non-Quad importer from Myanmar, the Quad once, and where Quad tonnes are bound (thin)."""
    s = result.scenario
    out = []
    for iid, importer in s.importers.items():
        if importer.quad:
            continue
        table = imports_monthly(result, iid)
        if table.to_numpy().sum() > 0:
            out.append((f"{importer.name} from Myanmar", table, 2.0, "-"))
    if any(i.quad for i in s.importers.values()):
        quad = quad_from_myanmar(result)
        if quad.to_numpy().sum() > 0:
            out.append(("Quad from Myanmar (each tonne once)", quad, 2.0, "-"))
            for destination in quad_destinations(s):
                part = quad_from_myanmar(result, destination)
                if part.to_numpy().sum() > 0:
                    name = s.importers[destination].name
                    out.append((f"  of which bound for {name}", part, 1.0, ":"))
    return out


def save(fig: Figure, path: str, dpi: int = 120) -> None:
    """Write a PNG without a timestamp in its metadata (the figure is freed with its last
    reference: it belongs to no pyplot backend)."""
    fig.savefig(path, dpi=dpi, metadata={"Software": None})
