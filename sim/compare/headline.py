"""The headline of a comparison: which future hurts most, when, how deep, how likely, how long.

Every figure is about China's imports from Myanmar against the reference (the first scenario),
paired by replication (common random numbers), so each replication gives one shortfall and the
5-95% range is the range of the paired difference. Per scenario:

- **shortfall** over the common horizon, % of the reference's tonnes: mean, p5, p95 (and t);
- **worst month**: the earliest month whose mean shortfall in tonnes is within 5% of the
  deepest (a shortfall that lasts years is dated from when it bites), its depth as % of the
  reference's mean that month, with the p5-p95 of the replications' depth that month;
- **chance** that the horizon shortfall exceeds 10, 25 and 50% (share of replications);
- **months to recover** to 90% of the reference, on the mean series (as in the KPI table), and
  the share of replications that never recover within the horizon;
- **Quad** tonnes reaching Quad processors per year (each tonne once: a delivery to a plant),
  in the last year of the horizon, mean and p5-p95.

Scenarios are ranked by mean shortfall, largest first; the reference is not ranked.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
import pandas as pd

from sim.compare.comparison import Comparison, months_to_recover, paired_common, title_of
from sim.results.result import Result
from sim.results.series import china_from_myanmar, quad_delivered_by_year

THRESHOLDS = (10, 25, 50)
"""Shortfall sizes (% of the reference over the horizon) whose chance the headline gives."""


@dataclass(frozen=True)
class Line:
    """One scenario's headline figures (NaN where a figure does not apply)."""

    scenario: str
    title: str
    rank: int | None
    """1 = the largest mean shortfall; None for the reference."""
    shortfall_pct: tuple[float, float, float]
    """Mean, p5, p95 of the paired horizon shortfall, % of the reference's tonnes."""
    shortfall_t: tuple[float, float, float]
    worst_month: str
    worst_depth_pct: tuple[float, float, float]
    worst_shortfall_t: float
    chance: dict[int, float]
    """Threshold (%) -> share of replications whose horizon shortfall exceeds it."""
    recover_months: float
    """On the mean series: 0 never below, NaN never recovers within the horizon."""
    never_recover_share: float
    quad_year: str
    quad_t: tuple[float, float, float]
    """Tonnes delivered to Quad processors in ``quad_year``: mean, p5, p95."""
    quad_processed_t: tuple[float, float, float]
    """Tonnes those processors separated in ``quad_year`` (within their capacity): mean, p5,
    p95."""
    replications: int


def _stats(values: np.ndarray) -> tuple[float, float, float]:
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if not len(v):
        return (math.nan, math.nan, math.nan)
    return float(v.mean()), float(np.quantile(v, 0.05)), float(np.quantile(v, 0.95))


def headline(comparison: Comparison) -> list[Line]:
    """Every scenario's headline, ranked: the largest mean shortfall first, the reference last."""
    lines = [_line(comparison.reference, r) for r in comparison.results]
    ranked = sorted(lines[1:], key=lambda x: -_key(x.shortfall_pct[0]))
    out = [Line(**{**line.__dict__, "rank": k}) for k, line in enumerate(ranked, start=1)]
    return [*out, lines[0]]


def _key(value: float) -> float:
    return -math.inf if math.isnan(value) else value


PLATEAU = 0.95
"""A month within this share of the deepest mean shortfall counts as the worst: the earliest
such month is reported, so that a shortfall that stays for years is dated from when it bites."""


def _worst_month(gap: pd.Series) -> str:
    """The earliest month whose mean shortfall (t) is within ``PLATEAU`` of the deepest one;
    empty when there is no shortfall in any month."""
    if not len(gap) or not (gap > 0).any():
        return ""
    deepest = float(gap.max())
    return str(gap.index[np.argmax(gap.to_numpy() >= PLATEAU * deepest)])


def _line(reference: Result, result: Result) -> Line:
    ref, this = paired_common(china_from_myanmar(reference), china_from_myanmar(result))
    first, own = ref.sum(axis=1).to_numpy(), this.sum(axis=1).to_numpy()
    gap = first - own
    with np.errstate(divide="ignore", invalid="ignore"):
        pct = np.where(first > 0, 100.0 * gap / first, np.nan)
    monthly_gap = (ref - this).mean()
    worst = _worst_month(monthly_gap)
    depth = (math.nan, math.nan, math.nan)
    if worst:
        base = ref[worst].to_numpy()
        with np.errstate(divide="ignore", invalid="ignore"):
            per_rep = np.where(base > 0, 100.0 * (base - this[worst].to_numpy()) / base, np.nan)
        mean_base = float(base.mean())
        centre = 100.0 * float(monthly_gap[worst]) / mean_base if mean_base > 0 else math.nan
        _, low, high = _stats(per_rep)
        depth = (centre, low, high)
    recover = months_to_recover(ref.mean().to_numpy(), this.mean().to_numpy())
    per_rep_recovery = [
        months_to_recover(ref.loc[r].to_numpy(), this.loc[r].to_numpy()) for r in ref.index
    ]
    quad = quad_delivered_by_year(result)
    year = str(quad.columns[-1]) if len(quad.columns) else ""
    return Line(
        scenario=result.scenario.name,
        title=title_of(result.scenario),
        rank=None,
        shortfall_pct=_stats(pct),
        shortfall_t=_stats(gap),
        worst_month=worst,
        worst_depth_pct=depth,
        worst_shortfall_t=float(monthly_gap[worst]) if worst else math.nan,
        chance={t: float(np.mean(np.nan_to_num(pct, nan=-np.inf) > t)) for t in THRESHOLDS},
        recover_months=math.nan if recover is None else float(recover),
        never_recover_share=float(np.mean([m is None for m in per_rep_recovery])),
        quad_year=year,
        quad_t=_stats(quad[year].to_numpy()) if year else (0.0, 0.0, 0.0),
        quad_processed_t=_quad_processed(result, year),
        replications=len(ref),
    )


# --- for people --------------------------------------------------------------------------------


def _pct(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.0f}%"


def _range(values: tuple[float, float, float], unit: str = "%") -> str:
    mean, low, high = values
    if math.isnan(mean):
        return "-"
    if unit == "%":
        return f"{mean:.0f}% ({low:.0f} to {high:.0f}%)"
    return f"{mean:,.0f} t ({low:,.0f} to {high:,.0f} t)"


def recovery_text(line: Line, short: bool = False) -> str:
    """``16 months``, ``never below 90%``, ``not within the horizon``; and, unless ``short``,
    how often a replication never recovers."""
    if line.recover_months == 0:
        text = "never below 90%"
    elif math.isnan(line.recover_months):
        text = "not by the end" if short else "not within the horizon"
    else:
        text = f"{line.recover_months:.0f} months"
    if not short and line.never_recover_share > 0 and line.recover_months != 0:
        text += f" ({line.never_recover_share:.0%} of replications never recover)"
    return text


def month_name(month: str) -> str:
    """``2026-03`` -> ``Mar 2026``."""
    try:
        return str(pd.Timestamp(f"{month}-01").strftime("%b %Y"))
    except ValueError:
        return month


def table(lines: list[Line], reference: str) -> pd.DataFrame:
    """The headline as a table of numbers (the report formats it; CSV and xlsx keep numbers)."""
    rows = []
    for line in lines:
        rows.append(
            {
                "rank": line.rank,
                "scenario": line.scenario,
                "title": line.title,
                "shortfall_pct_mean": line.shortfall_pct[0],
                "shortfall_pct_p5": line.shortfall_pct[1],
                "shortfall_pct_p95": line.shortfall_pct[2],
                "shortfall_t_mean": line.shortfall_t[0],
                "shortfall_t_p5": line.shortfall_t[1],
                "shortfall_t_p95": line.shortfall_t[2],
                "worst_month": line.worst_month,
                "worst_month_depth_pct": line.worst_depth_pct[0],
                "worst_month_depth_pct_p5": line.worst_depth_pct[1],
                "worst_month_depth_pct_p95": line.worst_depth_pct[2],
                "worst_month_shortfall_t": line.worst_shortfall_t,
                **{f"p_shortfall_over_{t}pct": line.chance[t] for t in THRESHOLDS},
                "months_to_recover_90": line.recover_months,
                "never_recover_share": line.never_recover_share,
                "quad_year": line.quad_year,
                "quad_delivered_t_mean": line.quad_t[0],
                "quad_delivered_t_p5": line.quad_t[1],
                "quad_delivered_t_p95": line.quad_t[2],
                "quad_processed_t_mean": line.quad_processed_t[0],
                "quad_processed_t_p5": line.quad_processed_t[1],
                "quad_processed_t_p95": line.quad_processed_t[2],
                "replications": line.replications,
                "reference": reference,
            }
        )
    return pd.DataFrame(rows)


def sentence(line: Line, reference: str, span: str) -> str:
    """A few short plain-language sentences about one scenario."""
    mean, low, high = line.shortfall_pct
    if math.isnan(mean):
        return f"{line.title}: no shortfall can be measured (the reference has no imports)."
    if mean < 0:
        parts = [
            f"{line.title}: China's imports from Myanmar over {span} are {-mean:.0f}% above "
            f"{reference} (5-95%: {-high:.0f} to {-low:.0f}% above)."
        ]
    else:
        parts = [
            f"{line.title}: China's imports from Myanmar over {span} fall {mean:.0f}% short of "
            f"{reference} (5-95%: {low:.0f} to {high:.0f}%)."
        ]
    depth = line.worst_depth_pct[0]
    if line.worst_month and not math.isnan(depth) and depth > 0:
        parts.append(
            f"Worst month: {month_name(line.worst_month)}, {depth:.0f}% below "
            f"({line.worst_shortfall_t:,.0f} t short)."
        )
    if mean > 0:
        chances = " / ".join(f"{line.chance[t]:.0%}" for t in THRESHOLDS)
        sizes = " / ".join(f"{t}%" for t in THRESHOLDS)
        parts.append(f"Chance of a shortfall over {sizes}: {chances}.")
        parts.append(f"Back to 90%: {recovery_text(line)}.")
    if line.quad_t[0] > 0:
        parts.append(
            f"Quad processors receive {line.quad_t[0]:,.0f} t in {line.quad_year} "
            f"(5-95%: {line.quad_t[1]:,.0f} to {line.quad_t[2]:,.0f} t) and separate "
            f"{line.quad_processed_t[0]:,.0f} t."
        )
    return " ".join(parts)


def _quad_processed(result: Result, year: str) -> tuple[float, float, float]:
    """Tonnes Quad processors separated in ``year`` (KPI ``quad_processed.<year>``)."""
    values = np.asarray(result.kpi_values.get(f"quad_processed.{year}", []), dtype=float)
    values = values[~np.isnan(values)]
    return _stats(values) if year and len(values) else (0.0, 0.0, 0.0)


def text(lines: list[Line], reference: str, span: str) -> str:
    """The printed headline: one ranked table, then a sentence on the scenario that hurts most."""
    heads = ["rank", "scenario", "shortfall (5-95%)", "worst month", ">10%", ">25%", ">50%"]
    heads += ["recover", "Quad t/yr", "separated"]
    rows = []
    for line in lines:
        rank = "ref" if line.rank is None else str(line.rank)
        depth = line.worst_depth_pct[0]
        worst = (
            f"{line.worst_month} {depth:.0f}%"
            if line.worst_month and not math.isnan(depth) and depth > 0
            else "-"
        )
        recover = recovery_text(line, short=True)
        rows.append(
            [
                rank,
                line.scenario,
                "-" if line.rank is None else _range(line.shortfall_pct),
                worst if line.rank is not None else "-",
                *("-" if line.rank is None else f"{line.chance[t]:.0%}" for t in THRESHOLDS),
                recover if line.rank is not None else "-",
                f"{line.quad_t[0]:,.0f}",
                f"{line.quad_processed_t[0]:,.0f}",
            ]
        )
    widths = [max(len(h), *(len(r[k]) for r in rows)) for k, h in enumerate(heads)]
    out = [
        f"Headline: shortfall of China's imports from Myanmar against {reference} over {span}, "
        "paired by replication; ranked, largest first",
        "",
        "  ".join(
            h.ljust(w) if k < 2 else h.rjust(w)
            for k, (h, w) in enumerate(zip(heads, widths, strict=True))
        ),
    ]
    for row in rows:
        out.append(
            "  ".join(
                c.ljust(w) if k < 2 else c.rjust(w)
                for k, (c, w) in enumerate(zip(row, widths, strict=True))
            )
        )
    ranked = [line for line in lines if line.rank == 1]
    if ranked:
        out += ["", "Hurts most: " + sentence(ranked[0], reference, span)]
    out.append(
        f"  >N%: share of replications whose shortfall exceeds N%; recover: months to get back "
        f"to 90% of {reference} (mean series); Quad t/yr: delivered to Quad processors in the "
        "last year, each tonne once"
    )
    return "\n".join(out)
