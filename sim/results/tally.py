"""One replication reduced, as soon as it finishes, to the arrays a run's tables are built from.

A ledger holds every record of a replication (~1.25 MB for six years); its tally holds only the
monthly totals the tables show (~25 kB): imports by (importer, origin, product, month), flows
by observed (crossing, route, site, group) combination, the timeline by measure and entity, the
dated events and the KPIs. ``run_replications`` is what a worker runs, so only tallies cross
process boundaries, and a run's memory grows by a tally, not a ledger, per replication.

numpy only, no pandas (like ``sim.results.kpis``), so that worker processes stay small.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from sim.model.clock import Clock
from sim.model.engine import Replication, simulate
from sim.model.ledger import Ledger
from sim.results.kpis import PRODUCTS, Axes, reduce
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
    """
    return [tally(scenario, simulate(scenario, seed, i)) for i in replications]


def tally(s: spec.Scenario, rep: Replication) -> Tally:
    """Reduce one replication's ledger to its monthly totals (the ledger is not kept)."""
    clock = Clock(s.start, s.end)
    axes = Axes.of(s, clock)
    reduced = reduce(s, rep)
    keys, flows = flow_totals(rep.ledger, clock)
    return Tally(
        replication=rep.replication,
        simpy_events=rep.simpy_events,
        imports=reduced.imports,
        quad=reduced.quad.sum(axis=2),
        flow_keys=keys,
        flows=flows,
        timeline=timeline_totals(rep.ledger, clock, axes),
        events=list(rep.ledger.events),
        kpis=reduced.kpis,
        outcomes=list(rep.ledger.outcomes),
    )


def flow_totals(ledger: Ledger, clock: Clock) -> tuple[np.ndarray, np.ndarray]:
    """Border passages by observed (crossing, route, site, group), product and month."""
    months = len(clock.labels)
    if not ledger.passed:
        return np.zeros((0, 4), dtype=np.int32), np.zeros((0, 2, months))
    rec = np.array(ledger.passed, dtype=float)
    keys = rec[:, [2, 3, 4, 5]].astype(np.int32)
    combos, inverse = np.unique(keys, axis=0, return_inverse=True)
    binned = clock.bin(rec[:, 0], rec[:, 1], rec[:, 6:8], inverse.ravel(), len(combos))
    return combos, binned


def timeline_totals(ledger: Ledger, clock: Clock, axes: Axes) -> np.ndarray:
    """Monthly tonnes mined, delivered, processed and lost where, and each site's largest
    stockpile in the month, what each supplier elsewhere delivered (levels and response;
    domestic too), and the feed prices of priced processors (USD/t), stacked in
    ``timeline_rows`` order."""
    return np.concatenate(
        [
            _binned(ledger.mined, 0, 1, 2, (4, 5), len(axes.sites), clock),
            _binned(ledger.delivered, 0, 0, 1, (5, 6), len(axes.processors), clock),
            _binned(ledger.lost, 0, 0, 1, (4, 5), len(axes.routes), clock),
            _by_month(ledger.processed.rows(), len(axes.processors), len(clock.labels)),
            _stockpiles(ledger.stock.rows(), len(axes.sites), clock),
            _by_month(ledger.supplied.rows(), len(axes.suppliers), len(clock.labels)),
            _prices(ledger.prices.rows(), axes.priced, len(clock.labels)),
        ]
    )


def _prices(
    records: list[tuple[int, int, float, float]], priced: list[int], months: int
) -> np.ndarray:
    """Feed price paid (USD/t) by product, then priced processor, and month."""
    table = np.zeros((len(PRODUCTS), len(priced), months))
    row = {proc: k for k, proc in enumerate(priced)}
    for month, proc, m, lr in records:
        table[:, row[proc], month] = (m, lr)
    return table.reshape(len(PRODUCTS) * len(priced), months)


def _binned(
    records: list[Any],
    t0: int,
    t1: int,
    entity: int,
    cols: tuple[int, int],
    n: int,
    clock: Clock,
) -> np.ndarray:
    """Tonnes (both products) of records flowing over [t0, t1], binned by entity and month."""
    if not records:
        return np.zeros((n, len(clock.labels)))
    rec = np.array(records, dtype=float)
    amount = (rec[:, cols[0]] + rec[:, cols[1]])[:, None]
    keys = rec[:, entity].astype(int)
    return np.asarray(clock.bin(rec[:, t0], rec[:, t1], amount, keys, n)[:, 0, :])


def _by_month(records: list[tuple[int, int, float, float]], n: int, months: int) -> np.ndarray:
    """Tonnes (both products) of (month, entity, mhree, lree) records by entity and month."""
    total = np.zeros((n, months))
    for month, proc, m, lr in records:
        total[proc, month] += m + lr
    return total


def _stockpiles(samples: list[tuple[float, int, float]], n: int, clock: Clock) -> np.ndarray:
    """Each site's largest stockpile sampled in each month (0 where none was)."""
    months = len(clock.labels)
    peak = np.zeros((n, months))
    if samples:
        rec = np.array(samples, dtype=float)
        month = np.clip(np.searchsorted(clock.bounds, rec[:, 0], side="right") - 1, 0, months - 1)
        np.maximum.at(peak, (rec[:, 1].astype(int), month), rec[:, 2])
    return peak


@dataclass
class RunArrays:
    """Every replication's monthly totals, in memory, in replication order.

    Imports and the Quad series are always kept (what tables, KPIs and figures of people
    need: a few kB a replication); flows, timeline and events only when the run keeps its
    tables (a run streamed to files writes them instead)."""

    imports: np.ndarray
    """(replication, importer, origin, product, month), tonnes."""
    quad: np.ndarray
    """(replication, destination, origin, month), tonnes."""
    timeline: np.ndarray | None = None
    """(replication, timeline row, month), tonnes."""
    flow_keys: list[np.ndarray] | None = None
    flows: list[np.ndarray] | None = None
    events: list[list[tuple[float, str, str, str]]] | None = None
