"""From ledgers to tables: monthly import timelines, flows, events and KPIs.

Reduction happens once per replication, after its run, with numpy; the pandas tables of a
``Result`` are built once from all replications. ``reduce`` gives sweeps the cheap part (KPIs
and the import cube) without building any DataFrame.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from sim import scenario as spec
from sim.clock import DAYS_PER_MONTH, Clock
from sim.engine import Replication

PRODUCTS = list(spec.PRODUCTS)


@dataclass(frozen=True)
class Axes:
    """Names along each axis of the tables, in the scenario's order."""

    importers: list[str]
    origins: list[str]
    months: list[str]
    sites: list[str]
    groups: list[str]
    routes: list[str]
    crossings: list[str]
    processors: list[str]
    crossing_importer: np.ndarray
    site_origin: np.ndarray

    @classmethod
    def of(cls, s: spec.Scenario, clock: Clock) -> Axes:
        importers = list(s.importers)
        origins = sorted(
            {site.country for site in s.sites.values()}
            | {o.origin for o in s.other_supply.values()}
        )
        return cls(
            importers=importers,
            origins=origins,
            months=clock.labels,
            sites=list(s.sites),
            groups=list(s.groups),
            routes=list(s.routes),
            crossings=list(s.crossings),
            processors=list(s.processors),
            crossing_importer=np.array(
                [importers.index(c.importer) for c in s.crossings.values()], dtype=int
            ),
            site_origin=np.array(
                [origins.index(site.country) for site in s.sites.values()], dtype=int
            ),
        )


@dataclass
class Reduced:
    """One replication boiled down: what sweeps keep and what tables are built from."""

    replication: int
    imports: np.ndarray
    """Tonnes by (importer, origin, product, month)."""
    kpis: dict[str, float]
    simpy_events: int
    flows: pd.DataFrame | None = field(default=None, repr=False)


def other_supply(s: spec.Scenario, clock: Clock, axes: Axes) -> np.ndarray:
    """Exogenous imports by (importer, origin, product, month): each level's daily rate times
    the days of the month it was in force."""
    cube = np.zeros((len(axes.importers), len(axes.origins), 2, len(axes.months)))
    lo, hi = clock.bounds[:-1], clock.bounds[1:]
    for flow in s.other_supply.values():
        i, o = axes.importers.index(flow.importer), axes.origins.index(flow.origin)
        levels = sorted(flow.levels, key=lambda lv: lv.start)
        ends = [clock.day(lv.start) for lv in levels[1:]] + [np.inf]
        for level, until in zip(levels, ends, strict=True):
            days = np.clip(np.minimum(hi, until) - np.maximum(lo, clock.day(level.start)), 0, None)
            cube[i, o, 0] += level.tpm.mhree / DAYS_PER_MONTH * days
            cube[i, o, 1] += level.tpm.lree / DAYS_PER_MONTH * days
    return cube


def import_cube(s: spec.Scenario, rep: Replication, clock: Clock, axes: Axes) -> np.ndarray:
    """Tonnes imported by (importer, origin, product, month): border passages plus other supply."""
    cube = other_supply(s, clock, axes)
    if rep.ledger.passed:
        rec = np.array(rep.ledger.passed, dtype=float)
        importer = axes.crossing_importer[rec[:, 2].astype(int)]
        origin = axes.site_origin[rec[:, 4].astype(int)]
        n_i, n_o = len(axes.importers), len(axes.origins)
        binned = clock.bin(rec[:, 0], rec[:, 1], rec[:, 6:8], importer * n_o + origin, n_i * n_o)
        cube += binned.reshape(n_i, n_o, 2, -1)
    return cube


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


def kpis(
    s: spec.Scenario, rep: Replication, cube: np.ndarray, clock: Clock, axes: Axes
) -> dict[str, float]:
    """Headline figures of one replication, under flat dotted names (sweeps key on them).

    imports.<importer>.<origin|all>.<product|all>.<year>  tonnes in that calendar year
    months_below_half.<importer>.<origin|all>  months under 50% of the first year's monthly mean
    peak_stockpile_t, lost_t, quad_delivered_t, processed_t, mined_t  tonnes
    """
    out: dict[str, float] = {}
    years = [int(m[:4]) for m in axes.months]
    starts = [i for i, y in enumerate(years) if i == 0 or y != years[i - 1]]
    with_all = np.concatenate([cube, cube.sum(axis=1, keepdims=True)], axis=1)
    with_all = np.concatenate([with_all, with_all.sum(axis=2, keepdims=True)], axis=2)
    annual = np.add.reduceat(with_all, starts, axis=3)  # importer, origin+all, product+all, year
    origins = [*axes.origins, "all"]
    products = [*PRODUCTS, "all"]
    for i, importer in enumerate(axes.importers):
        for o, origin in enumerate(origins):
            for p, product in enumerate(products):
                for k, start in enumerate(starts):
                    key = f"imports.{importer}.{origin}.{product}.{years[start]}"
                    out[key] = float(annual[i, o, p, k])
            monthly = with_all[i, o, -1]
            first = monthly[: min(12, len(monthly))].mean()
            if first > 0:
                out[f"months_below_half.{importer}.{origin}"] = float((monthly < 0.5 * first).sum())
    out.update(_ledger_totals(s, rep, len(axes.sites)))
    return out


def _ledger_totals(s: spec.Scenario, rep: Replication, n_sites: int) -> dict[str, float]:
    ledger = rep.ledger
    quad = {i for i, p in enumerate(s.processors.values()) if p.quad}
    return {
        "peak_stockpile_t": _peak_total_stock(ledger.stock, n_sites),
        "lost_t": float(sum(r[4] + r[5] for r in ledger.lost)),
        "quad_delivered_t": float(sum(r[5] + r[6] for r in ledger.delivered if r[1] in quad)),
        "processed_t": float(sum(r[2] + r[3] for r in ledger.processed)),
        "mined_t": float(sum(r[4] + r[5] for r in ledger.mined)),
    }


def _peak_total_stock(samples: list[tuple[float, int, float]], n_sites: int) -> float:
    """Largest total held across sites, from the stock sampled at each dispatch."""
    current = [0.0] * n_sites
    total = peak = 0.0
    for _, site, held in samples:
        total += held - current[site]
        current[site] = held
        peak = max(peak, total)
    return peak


def reduce(s: spec.Scenario, rep: Replication, with_flows: bool = False) -> Reduced:
    """The cheap summary of one replication (no DataFrame unless flows are asked for)."""
    clock = Clock(s.start, s.end)
    axes = Axes.of(s, clock)
    cube = import_cube(s, rep, clock, axes)
    return Reduced(
        replication=rep.replication,
        imports=cube,
        kpis=kpis(s, rep, cube, clock, axes),
        simpy_events=rep.simpy_events,
        flows=flows_table(rep, clock, axes) if with_flows else None,
    )


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

    @property
    def replications(self) -> int:
        return len(self.simpy_events)

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
    reduced = [reduce(s, rep, with_flows=True) for rep in reps]
    return Result(
        scenario=s,
        seed=seed,
        imports=imports_table([r.imports for r in reduced], [r.replication for r in reduced], axes),
        flows=pd.concat([r.flows for r in reduced if r.flows is not None], ignore_index=True),
        events=events_table(reps, clock),
        timeline=timeline_table(reps, clock, axes),
        kpis=pd.DataFrame(
            [(r.replication, k, v) for r in reduced for k, v in r.kpis.items()],
            columns=["replication", "kpi", "value"],
        ),
        simpy_events=[r.simpy_events for r in reduced],
        wall_seconds=wall_seconds,
    )


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
    where, and each site's largest stockpile in the month."""
    frames = []
    for rep in reps:
        led = rep.ledger
        parts = [
            _monthly("mined", led.mined, 0, 1, 2, (4, 5), axes.sites, clock),
            _monthly("delivered", led.delivered, 0, 0, 1, (5, 6), axes.processors, clock),
            _monthly("lost", led.lost, 0, 0, 1, (4, 5), axes.routes, clock),
            _processed(led.processed, axes, clock),
            _stockpiles(led.stock, axes, clock),
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
