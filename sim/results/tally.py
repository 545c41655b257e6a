"""One replication reduced, as soon as it finishes, to the arrays a run's tables are built from.

A ledger holds every record of a replication (~1.25 MB for six years); its tally holds only the
monthly totals the tables show (~25 kB): imports by (importer, origin, product, month), flows
by observed (crossing, route, site, group) combination, the timeline by measure and entity, the
dated events and the KPIs. ``run_replications`` is what a worker runs, so only tallies cross
process boundaries, and a run's memory grows by a tally, not a ledger, per replication.

numpy only, no pandas (like ``sim.results.kpis``), so that worker processes stay small.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass

import numpy as np

from sim.model.engine import Replication, simulate
from sim.results.columns import Columns, Spread
from sim.results.kpis import PRODUCTS, Axes, Frame, frame_of, reduced
from sim.results.sparse import SparseCube
from sim.scenario import schema as spec

MEASURES = ("mined", "delivered", "lost", "processed", "stockpile", "supplied")
"""The timeline's measures, in table order."""


@dataclass
class Tally:
    """The monthly totals of one replication (tonnes), in the scenario's axis order."""

    replication: int
    simpy_events: int
    imports: np.ndarray
    """(importer, origin, product, month): border passages plus other supply."""
    quad: np.ndarray
    """(destination, origin, month): tonnes entering the Quad, each once at its first Quad
    border, by where it is bound (``Axes.destinations``), both products."""
    flow_keys: np.ndarray
    """(combination, 4) ints: crossing, route, site, group of each combination that carried."""
    flows: np.ndarray
    """(combination, product, month): tonnes counted at the border."""
    timeline: np.ndarray
    """(row, month), rows by measure (``MEASURES``) then entity: see ``timeline_rows``."""
    events: list[tuple[float, str, str, str]]
    """(day, kind, subject, detail) in the order they happened."""
    kpis: dict[str, float]
    outcomes: list[tuple[str, str, bool]]
    """(event id, aspect, yes or no): each random event's discrete outcomes (``Ledger``)."""


PRICES = tuple(f"price_usd_per_t.{product}" for product in PRODUCTS)
"""The timeline's price measures (USD/t in the value column), after ``MEASURES``."""


def timeline_rows(axes: Axes) -> list[tuple[str, str]]:
    """(measure, entity) of each timeline row: mined and stockpile by site, delivered and
    processed by processor, lost by route, supplied by supplier elsewhere, and the feed price
    of each processor whose market sets it, by product."""
    entities = {
        "mined": axes.sites,
        "delivered": axes.processors,
        "lost": axes.routes,
        "processed": axes.processors,
        "stockpile": axes.sites,
        "supplied": axes.suppliers,
    }
    rows = [(measure, name) for measure in MEASURES for name in entities[measure]]
    priced = [axes.processors[i] for i in axes.priced]
    return rows + [(measure, name) for measure in PRICES for name in priced]


def run_replications(scenario: spec.Scenario, seed: int, replications: list[int]) -> list[Tally]:
    """Simulate and tally replications of one scenario: the unit of work sent to a worker.

    Top-level and of plain arguments, so that it runs the same here, in a process pool or on a
    Dask cluster.

    A replication's world is a web of reference cycles (SimPy processes and their callbacks)
    that only the cyclic garbage collector frees. Left to its own pace, it let the worlds of
    ~30 finished replications pile up (~50 MiB of a run's peak). Each is collected as soon as
    it is tallied, with the objects alive before the call set aside (``gc.freeze``, undone on
    return) so that collecting costs what the replication left (~5-10 ms), not a pass over the
    whole process (~150 ms with pandas loaded).
    """
    gc.freeze()
    try:
        tallies = []
        for i in replications:
            tallies.append(tally(scenario, simulate(scenario, seed, i)))
            gc.collect()
        return tallies
    finally:
        gc.unfreeze()


def tally(s: spec.Scenario, rep: Replication) -> Tally:
    """Reduce one replication's ledger to its monthly totals (the ledger is not kept).

    The ledger's records are made arrays once, and border passages cut into months once, for
    the import cube, the Quad series and the flows alike; what depends only on the scenario
    (axes, index maps, KPI names) is worked out once per scenario (``frame_of``).
    """
    f = frame_of(s)
    cols = Columns.of(rep.ledger)
    passed = f.spread(cols.passed)
    reduced_ = reduced(f, rep, cols, passed)
    keys, flows = flow_totals(f, cols.passed, passed)
    return Tally(
        replication=rep.replication,
        simpy_events=rep.simpy_events,
        imports=reduced_.imports,
        quad=reduced_.quad.sum(axis=2),
        flow_keys=keys,
        flows=flows,
        timeline=timeline_totals(f, cols),
        events=list(rep.ledger.events),
        kpis=reduced_.kpis,
        outcomes=list(rep.ledger.outcomes),
    )


def flow_totals(f: Frame, rec: np.ndarray, passed: Spread) -> tuple[np.ndarray, np.ndarray]:
    """Border passages (``Columns.passed``, cut into months as ``passed``) by observed
    (crossing, route, site, group), product and month; the combinations in ascending order."""
    months = len(f.axes.months)
    if not len(rec):
        return np.zeros((0, 4), dtype=np.int32), np.zeros((0, 2, months))
    # one integer per combination, in mixed radix: ordered as the (crossing, route, site,
    # group) rows are, and np.unique of integers is much cheaper than of rows
    radix = np.array([len(f.axes.routes), len(f.axes.sites), len(f.axes.groups)], dtype=np.int64)
    keys = rec[:, 2:6].astype(np.int64)
    code = ((keys[:, 0] * radix[0] + keys[:, 1]) * radix[1] + keys[:, 2]) * radix[2] + keys[:, 3]
    codes, inverse = np.unique(code, return_inverse=True)
    combos = np.empty((len(codes), 4), dtype=np.int32)
    for k in (3, 2, 1):
        codes, combos[:, k] = np.divmod(codes, radix[k - 1])
    combos[:, 0] = codes
    return combos, passed.bin(rec[:, 6:8], inverse.ravel(), len(combos))


def timeline_totals(f: Frame, cols: Columns) -> np.ndarray:
    """Monthly tonnes mined, delivered, processed and lost where, and each site's largest
    stockpile in the month, what each supplier elsewhere delivered (levels and response;
    domestic too), and the feed prices of priced processors (USD/t), stacked in
    ``timeline_rows`` order."""
    axes, bounds, n_m = f.axes, f.clock.bounds, len(f.axes.months)
    return np.concatenate(
        [
            _binned(cols.mined, 0, 1, 2, (4, 5), len(axes.sites), bounds),
            _binned(cols.delivered, 0, 0, 1, (5, 6), len(axes.processors), bounds),
            _binned(cols.lost, 0, 0, 1, (4, 5), len(axes.routes), bounds),
            _monthly(cols.processed, len(axes.processors), n_m),
            _stockpiles(cols.stock, len(axes.sites), bounds),
            _monthly(cols.supplied, len(axes.suppliers), n_m),
            _prices(cols.prices, axes.priced, n_m),
        ]
    )


def _prices(records: np.ndarray, priced: list[int], months: int) -> np.ndarray:
    """Feed price paid (USD/t) by product, then priced processor, and month."""
    table = np.zeros((len(PRODUCTS), len(priced), months))
    row = {proc: k for k, proc in enumerate(priced)}
    for month, proc, m, lr in records.tolist():
        table[:, row[int(proc)], int(month)] = (m, lr)
    return table.reshape(len(PRODUCTS) * len(priced), months)


def _binned(
    rec: np.ndarray,
    t0: int,
    t1: int,
    entity: int,
    cols: tuple[int, int],
    n: int,
    bounds: np.ndarray,
) -> np.ndarray:
    """Tonnes (both products) of records flowing over [t0, t1], binned by entity and month."""
    if not len(rec):
        return np.zeros((n, len(bounds) - 1))
    amount = (rec[:, cols[0]] + rec[:, cols[1]])[:, None]
    keys = rec[:, entity].astype(int)
    return Spread.of(bounds, rec[:, t0], rec[:, t1]).bin(amount, keys, n)[:, 0, :]


def _monthly(rec: np.ndarray, n: int, months: int) -> np.ndarray:
    """Tonnes (both products) of (month, entity, mhree, lree) records by entity and month,
    added up in record order."""
    flat = rec[:, 1].astype(int) * months + rec[:, 0].astype(int)
    weights = rec[:, 2] + rec[:, 3]
    return np.bincount(flat, weights, minlength=n * months).reshape(n, months)


def _stockpiles(rec: np.ndarray, n: int, bounds: np.ndarray) -> np.ndarray:
    """Each site's largest stockpile sampled in each month (0 where none was)."""
    months = len(bounds) - 1
    peak = np.zeros((n, months))
    if len(rec):
        month = np.clip(np.searchsorted(bounds, rec[:, 0], side="right") - 1, 0, months - 1)
        np.maximum.at(peak, (rec[:, 1].astype(int), month), rec[:, 2])
    return peak


@dataclass
class RunArrays:
    """Every replication's monthly totals, in memory, in replication order.

    Imports and the Quad series are always kept (what tables, KPIs and figures of people
    need), only for the combinations that carried anything (a few kB a replication at
    most); flows, timeline and events only when the run keeps its tables (a run streamed to
    files writes them instead)."""

    imports: SparseCube
    """(replication, importer, origin, product, month), tonnes."""
    quad: SparseCube
    """(replication, destination, origin, month), tonnes."""
    timeline: np.ndarray | None = None
    """(replication, timeline row, month), tonnes."""
    flow_keys: list[np.ndarray] | None = None
    flows: list[np.ndarray] | None = None
    events: list[list[tuple[float, str, str, str]]] | None = None
