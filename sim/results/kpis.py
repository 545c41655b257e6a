"""One replication boiled down to what sweeps and tables need: the monthly import cube and KPIs.

numpy only, no pandas: sweep workers import this module (and the engine) and nothing heavier,
so each worker process stays small. ``sim.results.result`` builds the pandas tables from the
same cube.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from sim.model.clock import DAYS_PER_MONTH, Clock
from sim.model.engine import Replication
from sim.scenario import schema as spec

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


def reduce(s: spec.Scenario, rep: Replication) -> Reduced:
    """The cheap summary of one replication: numpy and plain numbers, no DataFrame."""
    clock = Clock(s.start, s.end)
    axes = Axes.of(s, clock)
    cube = import_cube(s, rep, clock, axes)
    return Reduced(
        replication=rep.replication,
        imports=cube,
        kpis=kpis(s, rep, cube, clock, axes),
        simpy_events=rep.simpy_events,
    )
