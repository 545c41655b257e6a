"""One replication boiled down to what sweeps and tables need: the monthly import cube and KPIs.

numpy only, no pandas: sweep workers import this module (and the engine) and nothing heavier,
so each worker process stays small. ``sim.results.result`` builds the pandas tables from the
same cube.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from itertools import chain

import numpy as np

from sim.model.clock import Clock
from sim.model.engine import Replication
from sim.results.columns import Columns, Spread, as_array
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


@dataclass(frozen=True)
class Frame:
    """What reducing any replication of one scenario needs, worked out once per scenario: its
    clock and axes, the years of its months, index maps from the ledger's ids to the tables'
    axes, and the KPIs' names."""

    clock: Clock
    axes: Axes
    years: list[int]
    """Each month's year."""
    starts: list[int]
    """The index of the first month of each year."""
    supplier_cell: np.ndarray
    """Supplier elsewhere -> importer x len(origins) + origin of its imports (-1: domestic)."""
    supplier_importer: np.ndarray
    supplier_domestic: np.ndarray
    quad_processor: np.ndarray
    """Processor -> whether it is a Quad plant."""
    quad_importers: bool
    """Whether any importer is in the Quad (the Quad's KPIs are reported)."""
    import_names: list[tuple[int, int, list[str], str]]
    """(importer, origin or all, the ``imports.`` names by product or all and year, the
    ``months_below_half.`` name), in the order the KPIs are listed."""

    @classmethod
    def of(cls, s: spec.Scenario, clock: Clock, axes: Axes) -> Frame:
        """The frame of a scenario with its clock and axes (``frame_of`` keeps the last)."""
        flows = list(s.other_supply.values())
        n_o = len(axes.origins)
        years, starts = _year_starts(axes.months)
        names = [
            (
                i,
                o,
                [f"imports.{imp}.{org}.{p}.{years[k]}" for p in [*PRODUCTS, "all"] for k in starts],
                f"months_below_half.{imp}.{org}",
            )
            for i, imp in enumerate(axes.importers)
            for o, org in enumerate([*axes.origins, "all"])
        ]
        return cls(
            clock=clock,
            axes=axes,
            years=years,
            starts=starts,
            supplier_cell=np.array(
                [
                    -1
                    if f.domestic
                    else axes.importers.index(f.importer) * n_o + axes.origins.index(f.origin)
                    for f in flows
                ],
                dtype=int,
            ),
            supplier_importer=np.array(
                [axes.importers.index(f.importer) for f in flows], dtype=int
            ),
            supplier_domestic=np.array([f.domestic for f in flows], dtype=bool),
            quad_processor=np.array([p.quad for p in s.processors.values()], dtype=bool),
            quad_importers=any(importer.quad for importer in s.importers.values()),
            import_names=names,
        )

    def spread(self, passed: np.ndarray) -> Spread:
        """Border passages (``Columns.passed``) cut at the month boundaries."""
        return Spread.of(self.clock.bounds, passed[:, 0], passed[:, 1])


_FRAMES: dict[int, tuple[spec.Scenario, Frame]] = {}
"""The last scenario's frame, by the scenario's identity (a run, a worker's batch and a sweep's
run reduce one scenario's replications one after another)."""


def frame_of(s: spec.Scenario) -> Frame:
    """The scenario's ``Frame``, made once for its replications (scenarios are frozen)."""
    kept = _FRAMES.get(id(s))
    if kept is None or kept[0] is not s:
        clock = Clock(s.start, s.end)
        kept = (s, Frame.of(s, clock, Axes.of(s, clock)))
        _FRAMES.clear()
        _FRAMES[id(s)] = kept
    return kept[1]


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
    clock = Clock(s.start, s.end)
    return _other_supply(Frame.of(s, clock, axes), as_array(rep.ledger.supplied, 4))


def _other_supply(f: Frame, supplied: np.ndarray) -> np.ndarray:
    n_i, n_o, n_m = len(f.axes.importers), len(f.axes.origins), len(f.axes.months)
    cube = np.zeros((n_i * n_o, 2, n_m))
    if len(supplied):
        cell = f.supplier_cell[supplied[:, 1].astype(int)]
        imported = cell >= 0
        flat = cell[imported] * n_m + supplied[imported, 0].astype(int)
        for p in range(2):
            weights = supplied[imported, 2 + p]
            cube[:, p, :] = np.bincount(flat, weights, minlength=n_i * n_o * n_m).reshape(
                n_i * n_o, n_m
            )
    return cube.reshape(n_i, n_o, 2, n_m)


def import_cube(s: spec.Scenario, rep: Replication, clock: Clock, axes: Axes) -> np.ndarray:
    """Tonnes imported by (importer, origin, product, month): border passages plus other supply."""
    f = Frame.of(s, clock, axes)
    cols = Columns.of(rep.ledger)
    return _import_cube(f, cols, f.spread(cols.passed))


def _import_cube(f: Frame, cols: Columns, passed: Spread) -> np.ndarray:
    cube = _other_supply(f, cols.supplied)
    rec = cols.passed
    if len(rec):
        axes = f.axes
        importer = axes.crossing_importer[rec[:, 2].astype(int)]
        origin = axes.site_origin[rec[:, 4].astype(int)]
        n_i, n_o = len(axes.importers), len(axes.origins)
        binned = passed.bin(rec[:, 6:8], importer * n_o + origin, n_i * n_o)
        cube += binned.reshape(n_i, n_o, 2, -1)
    return cube


def quad_cube(rep: Replication, clock: Clock, axes: Axes) -> np.ndarray:
    """Tonnes entering the Quad by (destination, origin, product, month), each tonne counted
    once, at the first Quad border its route crosses."""
    passed = as_array(rep.ledger.passed, 8)
    return _quad_cube(axes, passed, Spread.of(clock.bounds, passed[:, 0], passed[:, 1]))


def _quad_cube(axes: Axes, rec: np.ndarray, passed: Spread) -> np.ndarray:
    n_d, n_o = len(axes.destinations), len(axes.origins)
    if not len(rec) or not n_d:
        return np.zeros((n_d, n_o, 2, len(axes.months)))
    route, crossing = rec[:, 3].astype(int), rec[:, 2].astype(int)
    first = axes.quad_entry[route, crossing]
    if not first.any():
        return np.zeros((n_d, n_o, 2, len(axes.months)))
    dest = axes.route_destination[route]
    origin = axes.site_origin[rec[:, 4].astype(int)]
    binned = passed.subset(first).bin(rec[:, 6:8], dest * n_o + origin, n_d * n_o)
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
        rec = as_array(rep.ledger.mined, 6)
        origin = axes.site_origin[rec[:, 2].astype(int)]
        spread = Spread.of(clock.bounds, rec[:, 0], rec[:, 1])
        out += spread.bin(rec[:, 4:6], origin, len(axes.origins))
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
    f = Frame.of(s, clock, axes)
    cols = Columns.of(rep.ledger)
    if quad is None and f.quad_importers:
        quad = _quad_cube(axes, cols.passed, f.spread(cols.passed))
    return _kpis(f, cols, cube, quad)


def _kpis(f: Frame, cols: Columns, cube: np.ndarray, quad: np.ndarray | None) -> dict[str, float]:
    out = _import_kpis(f, cube)
    if f.quad_importers and quad is not None:
        out.update(quad_kpis(quad, f.axes))
    out.update(_quad_plant_kpis(f, cols))
    out.update(_heavy_dependence(f, cols, cube))
    out.update(_ledger_totals(f, cols))
    out.update(price_kpis(cols.prices, f.axes, f.years, f.starts))
    return out


def _import_kpis(f: Frame, cube: np.ndarray) -> dict[str, float]:
    """imports.<importer>.<origin|all>.<product|all>.<year>, and months_below_half.<importer>.
    <origin|all> where the first year imported anything, importer by importer, origin by
    origin (names made once, ``Frame.import_names``)."""
    with_all = _with_totals(cube)
    annual = np.add.reduceat(with_all, f.starts, axis=3).tolist()  # i, o+all, p+all, year
    out: dict[str, float] = {}
    for i, o, names, below in f.import_names:
        out.update(zip(names, chain.from_iterable(annual[i][o]), strict=True))
        monthly = with_all[i, o, -1]
        first = monthly[: min(12, len(monthly))].mean()
        if first > 0:
            out[below] = float((monthly < 0.5 * first).sum())
    return out


def price_kpis(
    prices: np.ndarray, axes: Axes, years: list[int], starts: list[int]
) -> dict[str, float]:
    """price.<processor>.<product>.<year>: mean feed price paid over the year's months, and
    price_peak.<processor>.<product>: the dearest month, USD/t (processors whose market sets
    prices only), from the ledger's prices as an array (``Columns.prices``)."""
    if not len(prices):
        return {}
    n = len(axes.months)
    paid: dict[int, np.ndarray] = {}
    for month, proc, m, lr in prices.tolist():
        paid.setdefault(int(proc), np.zeros((2, n)))[:, int(month)] = (m, lr)
    out: dict[str, float] = {}
    ends = [*starts[1:], n]
    for proc, table in paid.items():
        name = axes.processors[proc]
        for p, product in enumerate(PRODUCTS):
            for start, end in zip(starts, ends, strict=True):
                out[f"price.{name}.{product}.{years[start]}"] = float(table[p, start:end].mean())
            out[f"price_peak.{name}.{product}"] = float(table[p].max())
    return out


def _by_month(
    months: np.ndarray, keys: np.ndarray, tonnes: np.ndarray, n: int, n_months: int
) -> np.ndarray:
    """Tonnes of monthly records summed by (key, month), in record order (``np.bincount``)."""
    flat = keys.astype(int) * n_months + months.astype(int)
    return np.bincount(flat, tonnes, minlength=n * n_months).reshape(n, n_months)


def _quad_plant_kpis(f: Frame, cols: Columns) -> dict[str, float]:
    """Tonnes delivered to and separated by Quad processors per calendar year:
    ``quad_delivered.<year>`` and ``quad_processed.<year>``.

    Delivered is feed reaching the plant's queue; processed is what its (ramped) monthly
    capacity separated. The two differ wherever feed outruns a plant: the corridor delivers
    about twice what India can separate.
    """
    quad = f.quad_processor
    if not quad.any():
        return {}
    n_m = len(f.axes.months)
    delivered = np.zeros(n_m)
    rec = cols.delivered[quad[cols.delivered[:, 1].astype(int)]]
    if len(rec):
        days = rec[:, 0]
        spread = Spread.of(f.clock.bounds, days, days)
        delivered += spread.bin(rec[:, 5:7], np.zeros(len(rec), dtype=int), 1).sum(axis=(0, 1))
    rec = cols.processed[quad[cols.processed[:, 1].astype(int)]]
    processed = _by_month(rec[:, 0], np.zeros(len(rec)), rec[:, 2] + rec[:, 3], 1, n_m)[0]
    out: dict[str, float] = {}
    for name, monthly in (("quad_delivered", delivered), ("quad_processed", processed)):
        annual = np.add.reduceat(monthly, f.starts)
        for k, start in enumerate(f.starts):
            out[f"{name}.{f.years[start]}"] = float(annual[k])
    return out


def _heavy_dependence(f: Frame, cols: Columns, cube: np.ndarray) -> dict[str, float]:
    """Per importer with domestic medium/heavy supply, and per year: medium/heavy imports from
    the modelled sites' origins over that domestic supply (a ratio).

    For China this is Myanmar's medium/heavy product against its own ionic-clay mining under
    quota (R43-R45): seed 003 put 2024 at "1.6 times the domestic quota". Above 1, China
    separates more Myanmar heavy feed than it mines itself.
    """
    axes, rec = f.axes, cols.supplied
    supplier = rec[:, 1].astype(int)
    rec = rec[f.supplier_domestic[supplier]]
    importer = f.supplier_importer[rec[:, 1].astype(int)]
    domestic = _by_month(rec[:, 0], importer, rec[:, 2], len(axes.importers), len(axes.months))
    years, starts = f.years, f.starts
    modelled = sorted({int(o) for o in axes.site_origin})
    out: dict[str, float] = {}
    for i, importer_name in enumerate(axes.importers):
        if not domestic[i].any():
            continue
        imported = np.add.reduceat(cube[i, modelled, 0, :].sum(axis=0), starts)
        own = np.add.reduceat(domestic[i], starts)
        for k, start in enumerate(starts):
            if own[k] > 0:
                out[f"heavy_dependence.{importer_name}.{years[start]}"] = float(
                    imported[k] / own[k]
                )
    return out


def _running_total(tonnes: np.ndarray) -> float:
    """The sum added up in record order (``np.cumsum``; as Python's ``sum`` of the records)."""
    return float(np.cumsum(tonnes)[-1]) if len(tonnes) else 0.0


def _ledger_totals(f: Frame, cols: Columns) -> dict[str, float]:
    delivered = cols.delivered[f.quad_processor[cols.delivered[:, 1].astype(int)]]
    quad_processed = cols.processed[f.quad_processor[cols.processed[:, 1].astype(int)]]
    return {
        "peak_stockpile_t": peak_total_stock(cols.stock),
        "lost_t": _running_total(cols.lost[:, 4] + cols.lost[:, 5]),
        "quad_delivered_t": _running_total(delivered[:, 5] + delivered[:, 6]),
        "quad_processed_t": _running_total(quad_processed[:, 2] + quad_processed[:, 3]),
        "processed_t": _running_total(cols.processed[:, 2] + cols.processed[:, 3]),
        "mined_t": _running_total(cols.mined[:, 4] + cols.mined[:, 5]),
    }


def peak_total_stock(samples: np.ndarray) -> float:
    """Largest total held across sites, from the stock sampled at each dispatch: (day, site,
    tonnes) rows; the total moves by each sample's change from its site's previous one."""
    if not len(samples):
        return 0.0
    site, held = samples[:, 1].astype(int), samples[:, 2]
    order = np.argsort(site, kind="stable")  # each site's samples together, in time order
    ranked, before = site[order], np.zeros(len(samples))
    same = np.flatnonzero(ranked[1:] == ranked[:-1]) + 1
    before[order[same]] = held[order[same - 1]]
    return max(0.0, float(np.cumsum(held - before).max()))


def reduce(s: spec.Scenario, rep: Replication) -> Reduced:
    """The cheap summary of one replication: numpy and plain numbers, no DataFrame."""
    f = frame_of(s)
    cols = Columns.of(rep.ledger)
    return reduced(f, rep, cols, f.spread(cols.passed))


def reduced(f: Frame, rep: Replication, cols: Columns, passed: Spread) -> Reduced:
    """``reduce`` from a replication's ledger already made columns and its border passages
    already cut into months (a tally reuses both)."""
    cube = _import_cube(f, cols, passed)
    quad = _quad_cube(f.axes, cols.passed, passed)
    return Reduced(
        replication=rep.replication,
        imports=cube,
        quad=quad,
        kpis=_kpis(f, cols, cube, quad),
        simpy_events=rep.simpy_events,
    )
