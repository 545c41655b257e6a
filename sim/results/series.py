"""Monthly and annual series per replication, as the tables and figures of people need them.

Each function returns replications x months (``YYYY-MM`` columns) or x years, zeros where
nothing flowed. The Quad series count each tonne once, at its first Quad border
(``sim.results.kpis.first_quad_entries``), as the KPIs ``imports.quad.*`` do.
"""

from __future__ import annotations

import pandas as pd

from sim.results.result import Result

CHINA = "china"
MYANMAR = "myanmar"


def imports_monthly(
    result: Result, importer: str, origin: str | None = MYANMAR, product: str = "all"
) -> pd.DataFrame:
    """Monthly tonnes an importer counts (from ``origin``; None: every origin)."""
    return result.monthly(importer, origin, product)


def china_from_myanmar(result: Result, product: str = "all") -> pd.DataFrame:
    """Monthly tonnes China imports from Myanmar: replications x months (YYYY-MM columns)."""
    return imports_monthly(result, CHINA, MYANMAR, product)


def quad_from_myanmar(result: Result, destination: str | None = None) -> pd.DataFrame:
    """Monthly tonnes entering the Quad from Myanmar, each tonne counted once at its first
    Quad border (``first_quad_entries``): replications x months, zeros where
    nothing passed. ``destination`` keeps only product bound for that country's plants."""
    return result.quad_monthly(MYANMAR, destination)


def quad_delivered_by_year(result: Result) -> pd.DataFrame:
    """Tonnes delivered to Quad processors per calendar year: replications x years."""
    quad = [pid for pid, p in result.scenario.processors.items() if p.quad]
    t = result.timeline
    rows = t[(t.measure == "delivered") & t.entity.isin(quad)]
    reps = list(range(result.replications))
    years = sorted({m[:4] for m in result.axes.months})
    if rows.empty:
        return pd.DataFrame(0.0, index=pd.Index(reps, name="replication"), columns=years)
    yearly = rows.assign(year=rows.month.dt.year.astype(str)).pivot_table(
        index="replication", columns="year", values="tonnes", aggfunc="sum", sort=True
    )
    return yearly.reindex(index=reps, columns=years, fill_value=0.0).fillna(0.0)
