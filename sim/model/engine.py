"""One replication: build the world from a scenario, run SimPy, check the books, return data.

``simulate`` is a top-level function of plain, picklable arguments and results, so that the
same call runs serially, in a process pool or on a Dask cluster.
"""

from __future__ import annotations

import gc
from dataclasses import dataclass, field, fields
from typing import Any

import simpy

from sim.errors import RunError, run_name
from sim.model import season
from sim.model.agenda import Environment
from sim.model.clock import Clock
from sim.model.draws import replication_seed
from sim.model.events import start_all
from sim.model.ledger import Ledger, clipped
from sim.model.processor import Processor
from sim.model.world import World
from sim.scenario import schema as spec

BALANCE_TOLERANCE = 1e-6
"""Relative tolerance of the tonnes balance (floating-point rounding only)."""


def processed_events(env: simpy.Environment) -> int:
    """SimPy events processed so far: every event scheduled, less those still queued.

    Read from SimPy's event-id counter rather than by wrapping ``step``, which would tax every
    event of every run for a figure only the manifest and the benchmark need. Private
    attributes, pinned by tests/test_private_reads.py; reading draws one id, so read it once.
    """
    scheduled = next(env._eid)
    return int(scheduled) - len(env._queue)


@dataclass
class Replication:
    """What one replication returns: its ledger and a few counters, all plain data."""

    replication: int
    ledger: Ledger
    simpy_events: int
    final_stock: list[float]
    in_transit: list[float]
    """Tonnes on the road at the horizon by site, those held at shut gates included."""
    processor_queues: list[float]
    at_gates: list[float] = field(default_factory=list)
    """Tonnes held at shut gates at the horizon by site (part of ``in_transit``)."""


def simulate(scenario: spec.Scenario, seed: int, replication: int) -> Replication:
    """Run one replication of a scenario with the stream of ``(seed, replication)``.

    Any failure is a ``RunError`` that names the scenario, seed and replication (the original
    exception chained for ``--debug``), so the one failing run can be run again on its own.

    Python's cyclic garbage collector is paused while the replication runs (and resumed after,
    if it was running): the ledger's tens of thousands of new tuples would otherwise set off
    collections that walk them, and everything else alive, again and again (5-10% of a
    replication), though none of them can be cyclic garbage. What a replication leaves cyclic
    (the world and its callbacks) is collected at the next collection after it.
    """
    collecting = gc.isenabled()
    if collecting:  # a thread that finds it paused leaves it to the one that paused it
        gc.disable()
    try:
        return _replicate(scenario, seed, replication)
    except RunError as exc:
        raise RunError(exc.message, run_name(scenario.name, seed, replication)) from exc
    except Exception as exc:  # a bug in the model: still named, never a bare traceback
        message = f"{type(exc).__name__}: {exc}"
        raise RunError(message, run_name(scenario.name, seed, replication)) from exc
    finally:
        if collecting:
            gc.enable()


class Shared:
    """What every replication of a scenario works out the same, worked out once and only read:
    its clock, its seasons' factors by site and month, and its markets' references by month
    (``Market.memo``: filled as replications ask, while no capacity change has touched them)."""

    def __init__(self, scenario: spec.Scenario) -> None:
        self.clock = Clock(scenario.first_day, scenario.end)
        self.seasons = season.factors(scenario, self.clock) if scenario.seasons else None
        self.references: dict[int, list[tuple[float, float] | None]] = {}


LAST: list[Any] = [(None, None)]
"""The scenario last simulated and its ``Shared``, as one tuple (replaced whole, so that
threads running replications at once each read a matching pair)."""


def shared(scenario: spec.Scenario) -> Shared:
    """The ``Shared`` of a scenario: the last one's again while the same scenario (the same
    object: scenarios are frozen) is simulated, replication after replication."""
    last = LAST[0]
    if last[0] is not scenario:
        last = (scenario, Shared(scenario))
        LAST[0] = last
    found: Shared = last[1]
    return found


def _replicate(scenario: spec.Scenario, seed: int, replication: int) -> Replication:
    common = shared(scenario)
    clock = common.clock
    env = Environment()
    world = World(scenario, env, clock, replication_seed(seed, replication), common.references)
    world.refresh()
    world.agenda.every(scenario.dispatch_days, world.dispatch_all)
    _monthly(world)
    _seasons(world, common.seasons)
    start_all(world)
    cut = world.cut
    if cut > 0:
        world.agenda.later(cut, lambda _: _mark_stock(world))
    env.run(until=clock.horizon)
    _finish(world)
    check_balance(world)
    ledger = world.hand_over()
    if cut > 0:
        ledger = reported(ledger, cut, clock.month_of(cut), framed=FRAMED)
    done = Replication(
        replication=replication,
        ledger=ledger,
        simpy_events=processed_events(env),
        final_stock=[s.held for s in world.sites],
        in_transit=[s.in_transit for s in world.sites],
        at_gates=list(world.at_gates),
        processor_queues=[p.queue_m + p.queue_l for p in world.processors],
    )
    world.dismantle()
    return done


def _mark_stock(world: World) -> None:
    """At the start of the reported horizon, each site's stock (the prefix's legacy), so that
    peak stockpiles count what the history left on site."""
    for site in world.sites:
        site.settle(world.env.now, world.rows_mined)
        world.rows_stock.append((world.env.now - world.cut, site.index, site.held))


def _monthly(world: World) -> None:
    """At the end of each month but the last, every processor works its feedstock queue at
    that month's capacity (the last month is worked by ``_finish``)."""
    if len(world.clock.edges) > 2:
        world.agenda.later(world.clock.edges[1], MonthEnd(world))


class MonthEnd:
    """The end of each month but the last (``_monthly``): a callback that books itself for
    the next month (no closure, whose cell would make a reference cycle)."""

    def __init__(self, world: World) -> None:
        self.world = world
        self.month = 0

    def __call__(self, _: object) -> None:
        """A month is over: its feedstock worked, its markets closed; the next month booked."""
        world, month = self.world, self.month
        bounds = world.clock.edges
        world.arrive_before(bounds[month + 1])
        for processor in world.processors:
            _work(world, processor, month)
        _close_markets(world, month)
        if month + 2 < len(bounds) - 1:
            self.month = month + 1
            world.agenda.later(bounds[month + 2] - world.env.now, self)


def _seasons(world: World, factors: tuple[list[list[float]], list[list[float]]] | None) -> None:
    """Set each site's season factors (``season.factors``) for every month at its first day
    (settling first, so output before the boundary accrues at the old month's rate). No
    seasons: nothing scheduled."""
    if factors is None:
        return
    MonthStart(world, *factors)(None)


class MonthStart:
    """The first day of each month, under seasons (``_seasons``): a callback that books itself
    for the next month (``MonthEnd``)."""

    def __init__(
        self, world: World, mining: list[list[float]], transport: list[list[float]]
    ) -> None:
        self.world = world
        self.mining = mining
        """Share of output each month's mining seasons leave, by site and month."""
        self.transport = transport
        """Share of haulage each month's transport seasons leave, by site and month."""
        self.month = 0

    def __call__(self, _: object) -> None:
        """A month begins: each site's season factors set; the next month booked."""
        world, month = self.world, self.month
        bounds = world.clock.edges
        env = world.env
        for site in world.sites:
            m, t = self.mining[site.index][month], self.transport[site.index][month]
            if (m, t) != (site.season_mining, site.season_transport):
                site.settle(env.now, world.rows_mined)
                site.season_mining, site.season_transport = m, t
        if month + 1 < len(bounds) - 1:
            self.month = month + 1
            world.agenda.later(bounds[month + 1] - env.now, self)


def _close_markets(world: World, month: int) -> None:
    """Record what suppliers elsewhere delivered in the month; they answer its shortfall (and
    prices move with it)."""
    for market in world.markets:
        world.close_market(market, month)


def _work(world: World, processor: Processor, month: int) -> None:
    bounds = world.clock.edges
    done = processor.work(bounds[month], bounds[month + 1])
    if done[0] + done[1] > 0 and month >= world.months:  # the reported horizon's, its frame
        world.ledger.processed.append((month - world.months, processor.index, done[0], done[1]))


def _finish(world: World) -> None:
    """Close the books at the horizon: settle every site and work the last month."""
    world.settle_all()
    world.arrive_before(world.clock.horizon)
    last = len(world.clock.bounds) - 2
    for processor in world.processors:
        _work(world, processor, last)
    _close_markets(world, last)


def check_balance(world: World) -> None:
    """Conservation of tonnes, per site: mined = on site + moving + held at gates + delivered
    + lost.

    Also no stock, queue or transit may be negative. A violation is a bug, named, never silent.
    """
    for site in world.sites:
        i = site.index
        at_gates = world.at_gates[i]
        moving = site.in_transit - at_gates
        accounted = site.held + moving + at_gates + site.delivered + world.lost[i]
        scale = max(1.0, site.mined_total)
        if abs(site.mined_total - accounted) > BALANCE_TOLERANCE * scale:
            raise RunError(
                f"tonnes not conserved at site {site.id!r}: mined {site.mined_total:.3f} t, "
                f"accounted {accounted:.3f} t"
            )
        if min(site.stock_m, site.stock_l, moving, at_gates) < -BALANCE_TOLERANCE * scale:
            raise RunError(f"negative stock, transit or stock at gates for site {site.id!r}")
    for processor in world.processors:
        if min(processor.queue_m, processor.queue_l) < -1e-6:
            raise RunError(f"negative feedstock queue at processor {processor.id!r}")
        queued = processor.queue_m + processor.queue_l
        balance = processor.delivered_total - processor.processed_total - queued
        if abs(balance) > BALANCE_TOLERANCE * max(1.0, processor.delivered_total):
            raise RunError(f"tonnes not conserved at processor {processor.id!r}")


def reported(
    ledger: Ledger, cut: float, months: int, framed: frozenset[str] = frozenset()
) -> Ledger:
    """The ledger of the reported horizon only: what happened from day ``cut`` of the run (the
    scenario's start after a ``run_from`` prefix), in days from that start and month indices
    from its first month (``months`` whole months precede it).

    Records are told apart by their first fields: a flow over (t0, t1) spanning the cut keeps
    the share that flowed after it (``sim.model.ledger.clipped``); an instant (t) or a month
    before the cut is dropped; anything else (outcomes) is kept. (Events that began in the
    prefix record no outcome: ``start_all``.) The kinds named in ``framed`` are already in the
    reported frame and kept as they are: a replication writes its busiest kinds that way as it
    runs (``FRAMED``, ``World.cut``), so that the prefix makes none of them.
    """
    out = Ledger()
    for part in fields(Ledger):
        records = getattr(ledger, part.name)
        if part.name in framed:  # handed on as they are: not copied
            setattr(out, part.name, records)
            continue
        kept, names, rows = getattr(out, part.name), records.kind._fields, records.rows()
        if names[:2] == ("t0", "t1"):
            # a flow wholly after the cut keeps all its tonnes (clipped's share is exactly 1)
            kept.extend(
                (row[0] - cut, row[1] - cut, *row[2:]) if row[0] >= cut else clipped(row, cut)
                for row in rows
                if row[1] > cut or row[0] == cut
            )
        elif names[0] == "t":
            kept.extend((row[0] - cut, *row[1:]) for row in rows if row[0] >= cut)
        elif names[0] == "month":
            kept.extend((row[0] - months, *row[1:]) for row in rows if row[0] >= months)
        else:
            kept.extend(rows)
    return out


FRAMED: frozenset[str] = frozenset(
    {"mined", "passed", "delivered", "stock", "processed", "supplied", "prices"}
)
"""The kinds of record a replication writes in the reported frame as it runs (sites, shipments
and the world's dispatches and deliveries, from ``World.cut`` on; the monthly processing,
supply from elsewhere and prices from ``World.months`` on): thousands a replication, which a
forward run's prefix would otherwise make only for ``reported`` to drop or shift."""
