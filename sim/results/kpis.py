"""One replication boiled down to what sweeps and tables need: the monthly import cube and KPIs.

numpy only, no pandas: sweep workers import this module (and the engine) and nothing heavier,
so each worker process stays small. ``sim.results.result`` builds the pandas tables from the
same cube.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from sim.model.clock import Clock
from sim.model.engine import Replication
from sim.scenario import schema as spec

PRODUCTS = list(spec.PRODUCTS)
SCOPES = list(spec.SCOPES)
QUAD = "quad"
"""The Quad as one importer in KPI names (``imports.quad...``): each tonne counted once."""


def first_quad_entries(s: spec.Scenario) -> dict[str, str]:
    """Route -> the crossing where its product first enters a Quad country.

    Product bound for the US crosses into India first and is counted again at the US port; a
    Quad total counted once per tonne counts it at its first Quad border only.
    """
    entries = {}
    for rid, route in s.routes.items():
        for leg in route.legs:
            crossing = s.crossings.get(leg.to)
            if crossing is not None and s.importers[crossing.importer].quad:
                entries[rid] = leg.to
                break
    return entries


def route_destination(s: spec.Scenario, rid: str) -> str:
    """The country a route's product is bound for: its processor's country when that is an
    importer, else the importer of its last crossing (the breakdown of the Quad total)."""
    legs = s.routes[rid].legs
    processor = s.processors.get(legs[-1].to)
    if processor is not None and processor.country in s.importers:
        return processor.country
    crossings = [s.crossings[leg.to] for leg in legs if leg.to in s.crossings]
    return crossings[-1].importer if crossings else ""


def quad_destinations(s: spec.Scenario) -> list[str]:
    """The countries Quad-bound product is headed for, in the scenario's importer order."""
    bound = {route_destination(s, rid) for rid in first_quad_entries(s)}
    return [i for i in s.importers if i in bound]


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
    destinations: list[str]
    """Where Quad-bound product is headed (``quad_destinations``)."""
    quad_entry: np.ndarray
    """(route, crossing) -> True where the route's product first enters the Quad."""
    route_destination: np.ndarray
    """Route -> index into ``destinations`` (-1: not Quad-bound)."""
    suppliers: list[str] = field(default_factory=list)
    """Suppliers elsewhere (``other_supply`` ids), domestic ones included."""
    priced: list[int] = field(default_factory=list)
    """Processors (indices) whose market sets their feed price (``markets.<country>.price``)."""

    @classmethod
    def of(cls, s: spec.Scenario, clock: Clock) -> Axes:
        """The axes of a scenario's tables: importers, origins, products, routes, months."""
        importers = list(s.importers)
        destinations = quad_destinations(s)
        entries = first_quad_entries(s)
        routes, crossings = list(s.routes), list(s.crossings)
        quad_entry = np.zeros((len(routes), len(crossings)), dtype=bool)
        for rid, cid in entries.items():
            quad_entry[routes.index(rid), crossings.index(cid)] = True
        bound = [route_destination(s, r) if r in entries else "" for r in routes]
        origins = sorted(
            {site.country for site in s.sites.values()}
            | {o.origin for o in s.other_supply.values() if not o.domestic}
        )
        return cls(
            importers=importers,
            origins=origins,
            months=clock.labels,
            sites=list(s.sites),
            groups=list(s.groups),
            routes=routes,
            crossings=crossings,
            processors=list(s.processors),
            crossing_importer=np.array(
                [importers.index(c.importer) for c in s.crossings.values()], dtype=int
            ),
            site_origin=np.array(
                [origins.index(site.country) for site in s.sites.values()], dtype=int
            ),
            destinations=destinations,
            quad_entry=quad_entry,
            route_destination=np.array(
                [destinations.index(b) if b in destinations else -1 for b in bound], dtype=int
            ),
            suppliers=list(s.other_supply),
            priced=[
                i
                for i, p in enumerate(s.processors.values())
                if p.country in s.markets and s.markets[p.country].price is not None
            ],
        )


@dataclass
class Reduced:
    """One replication boiled down: what sweeps keep and what tables are built from."""

    replication: int
    imports: np.ndarray
    """Tonnes by (importer, origin, product, month)."""
    quad: np.ndarray
    """Tonnes entering the Quad, each once at its first Quad border, by (destination, origin,
    product, month); destinations are ``Axes.destinations``."""
    kpis: dict[str, float]
    simpy_events: int


def other_supply(s: spec.Scenario, rep: Replication, axes: Axes) -> np.ndarray:
    """Imports from other origins by (importer, origin, product, month), as the replication's
    suppliers delivered them (fixed levels and their response to a shortfall); domestic supply
    is not an import and is left out."""
    cube = np.zeros((len(axes.importers), len(axes.origins), 2, len(axes.months)))
    flows = list(s.other_supply.values())
    for month, supplier, mhree, lree in rep.ledger.supplied:
        flow = flows[supplier]
        if flow.domestic:
            continue
        i, o = axes.importers.index(flow.importer), axes.origins.index(flow.origin)
        cube[i, o, 0, month] += mhree
        cube[i, o, 1, month] += lree
    return cube


def import_cube(s: spec.Scenario, rep: Replication, clock: Clock, axes: Axes) -> np.ndarray:
    """Tonnes imported by (importer, origin, product, month): border passages plus other supply."""
    cube = other_supply(s, rep, axes)
    if rep.ledger.passed:
        rec = np.array(rep.ledger.passed, dtype=float)
        importer = axes.crossing_importer[rec[:, 2].astype(int)]
        origin = axes.site_origin[rec[:, 4].astype(int)]
        n_i, n_o = len(axes.importers), len(axes.origins)
        binned = clock.bin(rec[:, 0], rec[:, 1], rec[:, 6:8], importer * n_o + origin, n_i * n_o)
        cube += binned.reshape(n_i, n_o, 2, -1)
    return cube


def quad_cube(rep: Replication, clock: Clock, axes: Axes) -> np.ndarray:
    """Tonnes entering the Quad by (destination, origin, product, month), each tonne counted
    once, at the first Quad border its route crosses."""
    n_d, n_o = len(axes.destinations), len(axes.origins)
    cube = np.zeros((n_d, n_o, 2, len(axes.months)))
    if not rep.ledger.passed or not n_d:
        return cube
    rec = np.array(rep.ledger.passed, dtype=float)
    route, crossing = rec[:, 3].astype(int), rec[:, 2].astype(int)
    first = axes.quad_entry[route, crossing]
    if not first.any():
        return cube
    rec, route = rec[first], route[first]
    dest = axes.route_destination[route]
    origin = axes.site_origin[rec[:, 4].astype(int)]
    binned = clock.bin(rec[:, 0], rec[:, 1], rec[:, 6:8], dest * n_o + origin, n_d * n_o)
    return binned.reshape(n_d, n_o, 2, -1)


def _year_starts(months: list[str]) -> tuple[list[int], list[int]]:
    """Each month's year, and the index of the first month of each year."""
    years = [int(m[:4]) for m in months]
    return years, [i for i, y in enumerate(years) if i == 0 or y != years[i - 1]]


def _with_totals(cube: np.ndarray) -> np.ndarray:
    """(x, origin, product, month) with an "all" origin and an "all" product appended."""
    with_all = np.concatenate([cube, cube.sum(axis=1, keepdims=True)], axis=1)
    return np.concatenate([with_all, with_all.sum(axis=2, keepdims=True)], axis=2)


def quad_kpis(quad: np.ndarray, axes: Axes) -> dict[str, float]:
    """Annual Quad imports, each tonne once: ``imports.quad.<origin|all>.<product|all>.<year>``,
    and its breakdown by where the product is bound, ``quad_bound.<country>.<origin|all>.<year>``
    (tonnes)."""
    years, starts = _year_starts(axes.months)
    total = _with_totals(quad.sum(axis=0, keepdims=True))[0]  # origin+all, product+all, month
    annual = np.add.reduceat(total, starts, axis=2)
    out: dict[str, float] = {}
    for o, origin in enumerate([*axes.origins, "all"]):
        for p, product in enumerate([*PRODUCTS, "all"]):
            for k, start in enumerate(starts):
                out[f"imports.{QUAD}.{origin}.{product}.{years[start]}"] = float(annual[o, p, k])
    bound = quad.sum(axis=2)  # destination, origin, month
    bound = np.concatenate([bound, bound.sum(axis=1, keepdims=True)], axis=1)
    by_destination = np.add.reduceat(bound, starts, axis=2)
    for d, destination in enumerate(axes.destinations):
        for o, origin in enumerate([*axes.origins, "all"]):
            for k, start in enumerate(starts):
                key = f"quad_bound.{destination}.{origin}.{years[start]}"
                out[key] = float(by_destination[d, o, k])
    return out


def scope_shares(s: spec.Scenario, clock: Clock, axes: Axes) -> np.ndarray:
    """Share of each origin's tonnes under each customs scope, by (origin, product, scope,
    month); each sums to 1 over scopes.

    A month's share is the day-weighted mean of the levels in force during it (the first level
    also covers the days before its date). Origins without ``customs_scopes`` are ``unscoped``.
    """
    n_months = len(axes.months)
    out = np.zeros((len(axes.origins), len(PRODUCTS), len(SCOPES), n_months))
    out[:, :, SCOPES.index("unscoped"), :] = 1.0
    lo, hi = clock.bounds[:-1], clock.bounds[1:]
    for origin, levels in s.customs_scopes.items():
        o = axes.origins.index(origin)
        out[o] = 0.0
        starts = [-np.inf] + [clock.day(level.start) for level in levels[1:]]
        ends = [*starts[1:], np.inf]
        for level, since, until in zip(levels, starts, ends, strict=True):
            days = np.clip(np.minimum(hi, until) - np.maximum(lo, since), 0, None) / (hi - lo)
            for p, product in enumerate(PRODUCTS):
                out[o, p] += _shares(getattr(level, product))[:, None] * days
    return out


def _shares(shares: spec.ScopeShares) -> np.ndarray:
    """One class's shares in the order of SCOPES."""
    by_name = {
        "oxide": shares.oxide,
        "carbonate": shares.carbonate,
        "other_compound": shares.other_compound,
        "ore": shares.ore,
        "unscoped": 0.0,
    }
    return np.array([by_name[scope] for scope in SCOPES])


def scoped_imports(cube: np.ndarray, shares: np.ndarray) -> np.ndarray:
    """Tonnes by (..., importer, origin, product, scope, month) from an import cube shaped
    (..., importer, origin, product, month) and ``scope_shares`` (origin, product, scope,
    month); summing over scopes gives the cube back."""
    return np.asarray(cube[..., :, :, :, None, :] * shares)


def mined_by_origin(rep: Replication, clock: Clock, axes: Axes) -> np.ndarray:
    """Tonnes mined by (origin, product, month), from the ledger's production records."""
    out = np.zeros((len(axes.origins), len(PRODUCTS), len(axes.months)))
    if rep.ledger.mined:
        rec = np.array(rep.ledger.mined, dtype=float)
        origin = axes.site_origin[rec[:, 2].astype(int)]
        out += clock.bin(rec[:, 0], rec[:, 1], rec[:, 4:6], origin, len(axes.origins))
    return out


def peak_stock_by_origin(rep: Replication, clock: Clock, axes: Axes) -> np.ndarray:
    """Largest tonnes held at an origin's sites at once in each month, by (origin, month), from
    the stock sampled at every dispatch (a month without a sample carries the last level)."""
    n_origins, n_months = len(axes.origins), len(axes.months)
    out = np.zeros((n_origins, n_months))
    held = np.zeros(len(axes.sites))
    month = 0
    for t, site, tonnes in rep.ledger.stock.rows():
        now = clock.month_of(t)
        while month < now:
            month += 1
            out[:, month] = np.maximum(out[:, month], _by_origin(held, axes, n_origins))
        held[site] = tonnes
        out[:, now] = np.maximum(out[:, now], _by_origin(held, axes, n_origins))
    for later in range(month + 1, n_months):
        out[:, later] = _by_origin(held, axes, n_origins)
    return out


def _by_origin(held: np.ndarray, axes: Axes, n_origins: int) -> np.ndarray:
    return np.bincount(axes.site_origin, weights=held, minlength=n_origins)


def kpis(
    s: spec.Scenario,
    rep: Replication,
    cube: np.ndarray,
    clock: Clock,
    axes: Axes,
    quad: np.ndarray | None = None,
) -> dict[str, float]:
    """Headline figures of one replication, under flat dotted names (sweeps key on them).

    imports.<importer>.<origin|all>.<product|all>.<year>  tonnes in that calendar year
    imports.quad.<origin|all>.<product|all>.<year>  tonnes entering the Quad, each tonne once
    quad_bound.<country>.<origin|all>.<year>  of those, tonnes bound for that country's plants
    months_below_half.<importer>.<origin|all>  months under 50% of the first year's monthly mean
    quad_delivered.<year>, quad_processed.<year>  tonnes reaching Quad processors in the year,
        and tonnes they separated (their ramped capacity bounds the second, not the first)
    heavy_dependence.<importer>.<year>  medium/heavy imports from the modelled origins over the
        importer's domestic medium/heavy supply (China: Myanmar against its ionic-clay quota,
        R43-R45; 1.6 in 2024 by seed 003)
    peak_stockpile_t, lost_t, quad_delivered_t, quad_processed_t, processed_t, mined_t  tonnes
    price.<processor>.<product>.<year>, price_peak.<processor>.<product>  USD/t, under a price
    response only
    """
    out: dict[str, float] = {}
    years, starts = _year_starts(axes.months)
    with_all = _with_totals(cube)
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
    if any(importer.quad for importer in s.importers.values()):
        out.update(quad_kpis(quad if quad is not None else quad_cube(rep, clock, axes), axes))
    out.update(quad_plant_kpis(s, rep, clock, axes))
    out.update(heavy_dependence(s, rep, cube, axes))
    out.update(_ledger_totals(s, rep, len(axes.sites)))
    out.update(price_kpis(rep, axes, years, starts))
    return out


def price_kpis(
    rep: Replication, axes: Axes, years: list[int], starts: list[int]
) -> dict[str, float]:
    """price.<processor>.<product>.<year>: mean feed price paid over the year's months, and
    price_peak.<processor>.<product>: the dearest month, USD/t (processors whose market sets
    prices only)."""
    if not rep.ledger.prices:
        return {}
    n = len(axes.months)
    paid: dict[int, np.ndarray] = {}
    for month, proc, m, lr in rep.ledger.prices:
        paid.setdefault(proc, np.zeros((2, n)))[:, month] = (m, lr)
    out: dict[str, float] = {}
    ends = [*starts[1:], n]
    for proc, table in paid.items():
        name = axes.processors[proc]
        for p, product in enumerate(PRODUCTS):
            for start, end in zip(starts, ends, strict=True):
                out[f"price.{name}.{product}.{years[start]}"] = float(table[p, start:end].mean())
            out[f"price_peak.{name}.{product}"] = float(table[p].max())
    return out


def quad_plant_kpis(
    s: spec.Scenario, rep: Replication, clock: Clock, axes: Axes
) -> dict[str, float]:
    """Tonnes delivered to and separated by Quad processors per calendar year:
    ``quad_delivered.<year>`` and ``quad_processed.<year>``.

    Delivered is feed reaching the plant's queue; processed is what its (ramped) monthly
    capacity separated. The two differ wherever feed outruns a plant: the corridor delivers
    about twice what India can separate.
    """
    quad = np.array([p.quad for p in s.processors.values()], dtype=bool)
    if not quad.any():
        return {}
    years, starts = _year_starts(axes.months)
    delivered = np.zeros(len(axes.months))
    rows = [r for r in rep.ledger.delivered if quad[r[1]]]
    if rows:
        rec = np.array(rows, dtype=float)
        days = rec[:, 0]
        delivered += clock.bin(days, days, rec[:, 5:7], np.zeros(len(rec), dtype=int), 1).sum(
            axis=(0, 1)
        )
    processed = np.zeros(len(axes.months))
    for month, processor, mhree, lree in rep.ledger.processed:
        if quad[processor]:
            processed[month] += mhree + lree
    out: dict[str, float] = {}
    for name, monthly in (("quad_delivered", delivered), ("quad_processed", processed)):
        annual = np.add.reduceat(monthly, starts)
        for k, start in enumerate(starts):
            out[f"{name}.{years[start]}"] = float(annual[k])
    return out


def heavy_dependence(
    s: spec.Scenario, rep: Replication, cube: np.ndarray, axes: Axes
) -> dict[str, float]:
    """Per importer with domestic medium/heavy supply, and per year: medium/heavy imports from
    the modelled sites' origins over that domestic supply (a ratio).

    For China this is Myanmar's medium/heavy product against its own ionic-clay mining under
    quota (R43-R45): seed 003 put 2024 at "1.6 times the domestic quota". Above 1, China
    separates more Myanmar heavy feed than it mines itself.
    """
    flows = list(s.other_supply.values())
    domestic = np.zeros((len(axes.importers), len(axes.months)))
    for month, supplier, mhree, _ in rep.ledger.supplied:
        flow = flows[supplier]
        if flow.domestic:
            domestic[axes.importers.index(flow.importer), month] += mhree
    years, starts = _year_starts(axes.months)
    modelled = sorted({int(o) for o in axes.site_origin})
    out: dict[str, float] = {}
    for i, importer in enumerate(axes.importers):
        if not domestic[i].any():
            continue
        imported = np.add.reduceat(cube[i, modelled, 0, :].sum(axis=0), starts)
        own = np.add.reduceat(domestic[i], starts)
        for k, start in enumerate(starts):
            if own[k] > 0:
                out[f"heavy_dependence.{importer}.{years[start]}"] = float(imported[k] / own[k])
    return out


def _ledger_totals(s: spec.Scenario, rep: Replication, n_sites: int) -> dict[str, float]:
    ledger = rep.ledger
    quad = {i for i, p in enumerate(s.processors.values()) if p.quad}
    return {
        "peak_stockpile_t": _peak_total_stock(ledger.stock.rows(), n_sites),
        "lost_t": float(sum(r[4] + r[5] for r in ledger.lost.rows())),
        "quad_delivered_t": float(
            sum(r[5] + r[6] for r in ledger.delivered.rows() if r[1] in quad)
        ),
        "quad_processed_t": float(
            sum(r[2] + r[3] for r in ledger.processed.rows() if r[1] in quad)
        ),
        "processed_t": float(sum(r[2] + r[3] for r in ledger.processed.rows())),
        "mined_t": float(sum(r[4] + r[5] for r in ledger.mined.rows())),
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
    quad = quad_cube(rep, clock, axes)
    return Reduced(
        replication=rep.replication,
        imports=cube,
        quad=quad,
        kpis=kpis(s, rep, cube, clock, axes, quad),
        simpy_events=rep.simpy_events,
    )
