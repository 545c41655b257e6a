"""From ledgers to tables: monthly import timelines, flows, events and KPIs.

Each replication is reduced once, after its run, by ``sim.results.kpis`` (numpy only: what sweeps
keep); the pandas tables of a ``Result`` are built here, once, from all replications.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.clock import Clock
from sim.model.engine import Replication
from sim.results.kpis import (
    PRODUCTS,
    SCOPES,
    Axes,
    Reduced,
    import_cube,
    kpis,
    reduce,
    scope_shares,
)
from sim.scenario import schema as spec

__all__ = ["PRODUCTS", "Axes", "Reduced", "Result", "build_result", "import_cube", "kpis", "reduce"]


def flows_table(rep: Replication, clock: Clock, axes: Axes) -> pd.DataFrame:
    """Imports per month by site, group, route and crossing (observed combinations only)."""
    columns = [
        "month",
        "replication",
        "importer",
        "origin",
        "product",
        "site",
        "group",
        "route",
        "crossing",
        "tonnes",
    ]
    if not rep.ledger.passed:
        return pd.DataFrame(columns=columns)
    rec = np.array(rep.ledger.passed, dtype=float)
    keys = rec[:, [2, 3, 4, 5]].astype(int)
    combos, inverse = np.unique(keys, axis=0, return_inverse=True)
    n_months = len(axes.months)
    binned = clock.bin(rec[:, 0], rec[:, 1], rec[:, 6:8], inverse.ravel(), len(combos))
    frames = []
    for p in range(2):
        total = binned[:, p, :]
        c, r, site, g = (combos[:, k] for k in range(4))
        frames.append(
            pd.DataFrame(
                {
                    "month": np.tile(axes.months, len(combos)),
                    "replication": rep.replication,
                    "importer": np.repeat(
                        np.array(axes.importers)[axes.crossing_importer[c]], n_months
                    ),
                    "origin": np.repeat(np.array(axes.origins)[axes.site_origin[site]], n_months),
                    "product": PRODUCTS[p],
                    "site": np.repeat(np.array(axes.sites)[site], n_months),
                    "group": np.repeat(np.array(axes.groups)[g], n_months),
                    "route": np.repeat(np.array(axes.routes)[r], n_months),
                    "crossing": np.repeat(np.array(axes.crossings)[c], n_months),
                    "tonnes": total.ravel(),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)[columns]


@dataclass
class Result:
    """All replications of one scenario as tables. Built once, after the runs."""

    scenario: spec.Scenario
    seed: int
    imports: pd.DataFrame
    """month, replication, importer, origin, product, tonnes (every combination, zeros too)."""
    flows: pd.DataFrame
    events: pd.DataFrame
    timeline: pd.DataFrame
    """month, replication, measure (mined/stockpile/delivered/processed/lost), entity, tonnes."""
    kpis: pd.DataFrame
    """replication, kpi, value."""
    simpy_events: list[int]
    wall_seconds: float = 0.0
    meta: dict[str, Any] = field(default_factory=dict)
    outcomes: pd.DataFrame = field(default_factory=lambda: outcomes_table([]))
    """replication, event, aspect, outcome (bool): each random event's discrete outcomes."""
    folder: Path | None = None
    """Where ``sim.run(..., out=...)`` wrote the outputs; None when nothing was written."""

    @property
    def replications(self) -> int:
        return len(self.simpy_events)

    def imports_by_scope(self) -> pd.DataFrame:
        """Imports in the customs scopes of trade statistics (oxide, carbonate, other_compound,
        ore; ``unscoped`` for origins the scenario's ``customs_scopes`` do not cover): month,
        replication, importer, origin, product, scope, tonnes."""
        return scoped_table(self.scenario, self.imports)

    def kpi_summary(self) -> pd.DataFrame:
        """Per KPI: mean, 5th and 95th percentile over replications."""
        g = self.kpis.groupby("kpi", sort=True)["value"]
        return pd.DataFrame(
            {
                "mean": g.mean(),
                "p5": g.quantile(0.05),
                "p95": g.quantile(0.95),
            }
        )


def build_result(
    s: spec.Scenario, seed: int, reps: list[Replication], wall_seconds: float = 0.0
) -> Result:
    """Tables of a whole run, from its replications (in replication order)."""
    clock = Clock(s.start, s.end)
    axes = Axes.of(s, clock)
    reduced = [reduce(s, rep) for rep in reps]
    return Result(
        scenario=s,
        seed=seed,
        imports=imports_table([r.imports for r in reduced], [r.replication for r in reduced], axes),
        flows=pd.concat([flows_table(rep, clock, axes) for rep in reps], ignore_index=True),
        events=events_table(reps, clock),
        timeline=timeline_table(reps, clock, axes),
        kpis=pd.DataFrame(
            [(r.replication, k, v) for r in reduced for k, v in r.kpis.items()],
            columns=["replication", "kpi", "value"],
        ),
        simpy_events=[r.simpy_events for r in reduced],
        wall_seconds=wall_seconds,
        outcomes=outcomes_table(reps),
    )


def scoped_table(s: spec.Scenario, imports: pd.DataFrame) -> pd.DataFrame:
    """An imports table split by customs scope with the scenario's ``customs_scopes`` (each
    month's share by origin; summing over scopes gives the imports table back)."""
    clock = Clock(s.start, s.end)
    axes = Axes.of(s, clock)
    shares = scope_shares(s, clock, axes)  # origin, product, scope, month
    index = pd.MultiIndex.from_product(
        [axes.origins, PRODUCTS, SCOPES, axes.months],
        names=["origin", "product", "scope", "month"],
    )
    table = pd.DataFrame({"share": shares.ravel()}, index=index).reset_index()
    table = table[table["share"] > 0]
    frame = imports.merge(table, on=["origin", "product", "month"], how="inner")
    frame["tonnes"] = frame["tonnes"] * frame.pop("share")
    keys = ["month", "replication", "importer", "origin", "product", "scope"]
    order = {name: i for i, name in enumerate(SCOPES)}
    frame = frame.sort_values(keys, key=lambda c: c.map(order) if c.name == "scope" else c)
    return frame[[*keys, "tonnes"]].reset_index(drop=True)


def outcomes_table(reps: list[Replication]) -> pd.DataFrame:
    """Each replication's discrete event outcomes: whether an event happened within the
    horizon, whether an offensive took each site (see ``Ledger.outcomes``)."""
    rows = [
        (rep.replication, event, aspect, bool(value))
        for rep in reps
        for event, aspect, value in rep.ledger.outcomes
    ]
    frame = pd.DataFrame(rows, columns=["replication", "event", "aspect", "outcome"])
    return frame.astype({"replication": "int64", "outcome": "bool"})


def imports_table(cubes: list[np.ndarray], replications: list[int], axes: Axes) -> pd.DataFrame:
    """The long import timeline: one row per month, replication, importer, origin, product."""
    stacked = np.stack(cubes)  # (rep, importer, origin, product, month)
    index = pd.MultiIndex.from_product(
        [replications, axes.importers, axes.origins, PRODUCTS, axes.months],
        names=["replication", "importer", "origin", "product", "month"],
    )
    frame = pd.DataFrame({"tonnes": stacked.ravel()}, index=index).reset_index()
    frame = frame.sort_values(
        ["month", "replication", "importer", "origin", "product"], kind="stable"
    )
    return frame[["month", "replication", "importer", "origin", "product", "tonnes"]].reset_index(
        drop=True
    )


def events_table(reps: list[Replication], clock: Clock) -> pd.DataFrame:
    rows = [
        (clock.date(t).isoformat(), rep.replication, kind, subject, detail)
        for rep in reps
        for t, kind, subject, detail in rep.ledger.events
    ]
    frame = pd.DataFrame(rows, columns=["date", "replication", "kind", "subject", "detail"])
    return frame.sort_values(["replication", "date"], kind="stable").reset_index(drop=True)


def timeline_table(reps: list[Replication], clock: Clock, axes: Axes) -> pd.DataFrame:
    """Monthly tonnes by measure and entity: what was mined, delivered, processed and lost
    where, each site's largest stockpile in the month, and what each supplier elsewhere
    delivered."""
    frames = []
    for rep in reps:
        led = rep.ledger
        parts = [
            _monthly("mined", led.mined, 0, 1, 2, (4, 5), axes.sites, clock),
            _monthly("delivered", led.delivered, 0, 0, 1, (5, 6), axes.processors, clock),
            _monthly("lost", led.lost, 0, 0, 1, (4, 5), axes.routes, clock),
            _processed(led.processed, axes, clock),
            _stockpiles(led.stock, axes, clock),
            _supplied(led.supplied, axes, clock),
        ]
        for frame in parts:
            frame.insert(1, "replication", rep.replication)
        frames.extend(parts)
    return pd.concat(frames, ignore_index=True)


def _monthly(
    measure: str,
    records: list[tuple[Any, ...]],
    t0: int,
    t1: int,
    entity: int,
    cols: tuple[int, int],
    names: list[str],
    clock: Clock,
) -> pd.DataFrame:
    total = np.zeros((len(names), len(clock.labels)))
    if records:
        rec = np.array(records, dtype=float)
        amount = (rec[:, cols[0]] + rec[:, cols[1]])[:, None]
        keys = rec[:, entity].astype(int)
        total = clock.bin(rec[:, t0], rec[:, t1], amount, keys, len(names))[:, 0, :]
    return _long(measure, total, names, clock)


def _supplied(
    records: list[tuple[int, int, float, float]], axes: Axes, clock: Clock
) -> pd.DataFrame:
    """Tonnes each supplier elsewhere delivered by month (levels and response; domestic too)."""
    total = np.zeros((len(axes.suppliers), len(clock.labels)))
    for month, supplier, m, lr in records:
        total[supplier, month] += m + lr
    return _long("supplied", total, axes.suppliers, clock)


def _processed(
    records: list[tuple[int, int, float, float]], axes: Axes, clock: Clock
) -> pd.DataFrame:
    total = np.zeros((len(axes.processors), len(clock.labels)))
    for month, proc, m, lr in records:
        total[proc, month] += m + lr
    return _long("processed", total, axes.processors, clock)


def _stockpiles(samples: list[tuple[float, int, float]], axes: Axes, clock: Clock) -> pd.DataFrame:
    peak = np.zeros((len(axes.sites), len(clock.labels)))
    for t, site, held in samples:
        k = clock.month_of(t)
        peak[site, k] = max(peak[site, k], held)
    return _long("stockpile", peak, axes.sites, clock)


def _long(measure: str, table: np.ndarray, names: list[str], clock: Clock) -> pd.DataFrame:
    return pd.DataFrame(
        {
            "month": np.tile(clock.labels, len(names)),
            "measure": measure,
            "entity": np.repeat(names, len(clock.labels)),
            "tonnes": table.ravel(),
        }
    )
