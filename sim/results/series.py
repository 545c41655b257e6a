"""Monthly and annual series per replication, as the tables and figures of people need them.

Each function returns replications x months (``YYYY-MM`` columns) or x years, zeros where
nothing flowed. The Quad series count each tonne once, at its first Quad border
(``sim.results.kpis.first_quad_entries``), as the KPIs ``imports.quad.*`` do.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from sim.results.kpis import first_quad_entries, route_destination
from sim.results.result import Result

CHINA = "china"
MYANMAR = "myanmar"


def imports_monthly(
    result: Result, importer: str, origin: str | None = MYANMAR, product: str = "all"
) -> pd.DataFrame:
    """Monthly tonnes an importer counts (from ``origin``; None: every origin)."""
    imports = result.imports
    rows = imports[imports.importer == importer]
    if origin is not None:
        rows = rows[rows.origin == origin]
    if product != "all":
        rows = rows[rows["product"] == product]
    months = sorted(imports.month.unique())
    reps = sorted(imports.replication.unique())
    table = rows.pivot_table(
        index="replication", columns="month", values="tonnes", aggfunc="sum", sort=True
    )
    return table.reindex(index=pd.Index(reps, name="replication"), columns=months).fillna(0.0)


def china_from_myanmar(result: Result, product: str = "all") -> pd.DataFrame:
    """Monthly tonnes China imports from Myanmar: replications x months (YYYY-MM columns)."""
    return imports_monthly(result, CHINA, MYANMAR, product)


def quad_from_myanmar(result: Result, destination: str | None = None) -> pd.DataFrame:
    """Monthly tonnes entering the Quad from Myanmar, each tonne counted once at its first
    Quad border (``first_quad_entries``): replications x months, zeros where
    nothing passed. ``destination`` keeps only product bound for that country's plants."""
    months = sorted(result.imports.month.unique())
    reps = sorted(result.imports.replication.unique())
    flows = result.flows
    s = result.scenario
    entries = {
        (rid, cid)
        for rid, cid in first_quad_entries(s).items()
        if destination is None or route_destination(s, rid) == destination
    }
    if flows.empty or not entries:
        return pd.DataFrame(0.0, index=pd.Index(reps, name="replication"), columns=months)
    first_entry = np.fromiter(
        (k in entries for k in zip(flows["route"], flows["crossing"], strict=True)),
        dtype=bool,
        count=len(flows),
    )
    chosen = flows[first_entry & (flows.origin == MYANMAR).to_numpy()]
    table = chosen.pivot_table(
        index="replication", columns="month", values="tonnes", aggfunc="sum", sort=True
    )
    return table.reindex(index=reps, columns=months, fill_value=0.0).fillna(0.0)


def quad_delivered_by_year(result: Result) -> pd.DataFrame:
    """Tonnes delivered to Quad processors per calendar year: replications x years."""
    quad = [pid for pid, p in result.scenario.processors.items() if p.quad]
    t = result.timeline
    rows = t[(t.measure == "delivered") & t.entity.isin(quad)]
    reps = sorted(result.imports.replication.unique())
    years = sorted({m[:4] for m in result.imports.month.unique()})
    if rows.empty:
        return pd.DataFrame(0.0, index=pd.Index(reps, name="replication"), columns=years)
    yearly = rows.assign(year=rows.month.str[:4]).pivot_table(
        index="replication", columns="year", values="tonnes", aggfunc="sum", sort=True
    )
    return yearly.reindex(index=reps, columns=years, fill_value=0.0).fillna(0.0)
