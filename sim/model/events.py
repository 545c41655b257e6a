"""Scenario events as SimPy processes: closures, offensives, captures, bans, levies, tariffs.

Each event draws its own random numbers (whether it happens, when, for how long, its outcome)
from its own stream, always in the same order, so the same seed gives the same draws whatever
else the scenario contains.
"""

from __future__ import annotations

import calendar
from collections.abc import Callable, Generator, Iterator, Sequence
from datetime import date
from typing import Any

import simpy

from sim.model.crossing import INPUTS, Crossing, Restriction
from sim.model.draws import Rng, Stream, draw_date, draw_days
from sim.model.processor import Processor
from sim.model.site import Site
from sim.model.world import World, levy_per_tonne
from sim.scenario import schema as spec

Process = Generator[simpy.Event, Any, None]


def start_all(world: World) -> None:
    """Start each occurrence of each scenario event on its day, and a process for dated
    openings. Called once the model's own clocks are booked (as SimPy would start processes:
    an event on the same day as a dispatch or a month's end comes after it)."""
    env = world.env
    decisions = world.scenario.decisions
    for eid, event in world.scenario.events.items():
        for oid, occurrence in occurrences(eid, event, world.scenario.end):
            if event.decision is None:
                rng = Stream(world.root, f"event:{oid}")
                chance = occurrence.probability
            else:  # one stream per decision: its events draw the same numbers
                rng = Stream(world.root, f"decision:{event.decision}{oid[len(eid) :]}")
                chance = decisions[event.decision].probability * occurrence.probability
            happens = rng.chance(chance)
            start = world.clock.day(draw_date(occurrence.start, rng))
            duration = _duration(world, occurrence, start, rng)
            if start >= world.clock.day(world.scenario.start):  # not in a run_from prefix
                world.ledger.outcomes.append(
                    (oid, "happens", happens and start < world.clock.horizon)
                )
            if happens:
                handler = HANDLERS[type(occurrence)]
                _after(world, start, handler(world, oid, occurrence, duration, rng))
    env.process(openings(world))


def occurrences(
    eid: str, event: spec.EventBase, last: date
) -> Iterator[tuple[str, spec.EventBase]]:
    """The event, and each recurrence starting by ``last`` (ids ``eid#2``, ``eid#3``, ...).

    Each occurrence draws from its own stream (keyed by its id), so the first draws exactly as
    an event without ``repeat`` does.
    """
    yield eid, event
    repeat = event.repeat
    if repeat is None:
        return
    k = 1
    while repeat.times is None or k < repeat.times:
        months = k * repeat.every_months
        start = _shift_when(event.start, months)
        if (start if isinstance(start, date) else start.low) > last:
            return
        update: dict[str, Any] = {"start": start}
        end = getattr(event, "end", None)
        if end is not None:
            update["end"] = add_months(end, months)
        yield f"{eid}#{k + 1}", event.model_copy(update=update)
        k += 1


def _shift_when(when: spec.When, months: int) -> spec.When:
    if isinstance(when, date):
        return add_months(when, months)
    return when.model_copy(
        update={"low": add_months(when.low, months), "high": add_months(when.high, months)}
    )


def add_months(d: date, months: int) -> date:
    """The same day ``months`` calendar months later (the month's last day if it is shorter)."""
    index = d.year * 12 + d.month - 1 + months
    year, month = divmod(index, 12)
    return date(year, month + 1, min(d.day, calendar.monthrange(year, month + 1)[1]))


def _duration(world: World, event: spec.EventBase, start: float, rng: Rng) -> float | None:
    """Days the event lasts: drawn from ``days``, up to ``end``, or None (for good)."""
    days = getattr(event, "days", None)
    if days is not None:
        return draw_days(days, rng)
    end = getattr(event, "end", None)
    if end is not None:
        return max(0.0, world.clock.day(end) - start)
    return None


def _after(world: World, start: float, body: Process) -> None:
    """Run an event's handler from day ``start`` (now if it is past). The handler is a
    generator yielding the SimPy events it waits for; it is driven by callbacks rather than as
    a SimPy process, which would cost a start-up event and an event when it ends."""
    if start > world.env.now:
        world.agenda.later(start - world.env.now, lambda _: _resume(body))
    else:
        _resume(body)


def _resume(body: Process) -> None:
    """Run the handler to its next wait, and resume it when that is over."""
    try:
        waited = next(body)
    except StopIteration:
        return
    waited.callbacks.append(lambda _: _resume(body))


def openings(world: World) -> Process:
    """Refresh the world on each dated opening of a site, route or processor."""
    days = sorted(
        {
            d
            for d in [s.open_day for s in world.sites]
            + [r.open_day for r in world.routes]
            + [p.open_day for p in world.processors]
            if d > 0
        }
    )
    for day in days:
        yield world.env.timeout(day - world.env.now)
        world.refresh()


def border_closure(
    world: World, eid: str, ev: spec.BorderClosure, days: float | None, rng: Rng
) -> Process:
    """Restrict a crossing for the goods the closure names; sites drawing reagents or fuel
    through it start using up their stock when the closure passes no official trade."""
    gate = next(c for c in world.crossings if c.id == ev.crossing)
    key = object()
    product = "rare_earths" in ev.goods
    inputs = [g for g in INPUTS if g in ev.goods and ev.capacity_share == 0]
    _settle_drawing(world, gate, inputs)
    if product:
        gate.restrict(key, _restriction(ev))
    for good in inputs:
        _cut_input(world, gate, good, +1)
    if product and ev.leak_cost_usd_per_t > 0:
        world.refresh()  # smuggling's cost changes the routes' netbacks
    world.ledger.event(world.env.now, "border_closed", gate.id, _closure_detail(ev, days))
    if days is None:
        return
    yield world.env.timeout(days)
    _settle_drawing(world, gate, inputs)
    if product:
        gate.lift(key, ev.ramp_days)
    for good in inputs:
        _cut_input(world, gate, good, -1)
    if product and ev.leak_cost_usd_per_t > 0:
        world.refresh()
    if gate.open:
        world.ledger.event(world.env.now, "border_reopened", gate.id, eid)


def _settle_drawing(world: World, gate: Crossing, inputs: Sequence[str]) -> None:
    """Settle the sites whose mining a closure changes: those drawing a cut input through the
    gate. Product held or slowed at a gate changes nothing on site until the next dispatch
    (which settles its site), so the others are left alone, and a closure costs about the same
    however many sites the world has. Sites still opening are settled too: their output is
    integrated at each interval's midpoint, so where an interval starts matters while the
    opening ramp's corners may fall inside it (elsewhere the rate is constant between settles
    and splitting an interval changes nothing)."""
    now = world.env.now
    for good in inputs:
        for site in world.drawing(gate.id, good):
            site.settle(now, world.rows_mined)
    for site in world.sites:
        if site.last < site.steady_from:
            site.settle(now, world.rows_mined)


def _restriction(ev: spec.BorderClosure) -> Restriction:
    """What passes while the closure lasts: the official share plus the smuggled share (capped at
    the gate's capacity), smuggling's cost averaged over all of it."""
    share = min(1.0, ev.capacity_share + ev.leak_share)
    cost = ev.leak_cost_usd_per_t * ev.leak_share / share if share > 0 else 0.0
    return Restriction(share, cost, ev.in_transit)


def _closure_detail(ev: spec.BorderClosure, days: float | None) -> str:
    length = "until further notice" if days is None else f"{days:.0f} days"
    parts = [length, ev.in_transit]
    if set(ev.goods) != set(spec.GOODS):
        parts.append("goods: " + ",".join(ev.goods))
    if ev.capacity_share > 0:
        parts.append(f"{ev.capacity_share:.0%} passes")
    if ev.leak_share > 0:
        parts.append(f"{ev.leak_share:.0%} smuggled")
    if ev.ramp_days > 0:
        parts.append(f"reopens over {ev.ramp_days:.0f} days")
    return "; ".join(parts)


def _cut_input(world: World, gate: Crossing, good: str, change: int) -> None:
    """One more (or one fewer) closure cutting an input at a gate: sites drawing it through the
    gate run on their stock from the first, and are resupplied when the last ends."""
    before = gate.cuts[good]
    gate.cuts[good] += change
    if (before == 0) != (gate.cuts[good] == 0):
        for site in world.drawing(gate.id, good):
            site.set_supply(good, cut=gate.cuts[good] > 0)


def offensive(world: World, eid: str, ev: spec.Offensive, days: float | None, rng: Rng) -> Process:
    """Fighting stops production at the sites; at the end each may fall to the attacker."""
    sites = [s for s in world.sites if s.id in ev.sites]
    attacker = world.group_ids.index(ev.attacker)
    captures = rng.random(len(sites)) < ev.capture_probability
    world.settle_all()
    for site in sites:
        site.fighting += 1
    world.ledger.event(
        world.env.now,
        "offensive",
        ",".join(s.id for s in sites),
        f"{ev.attacker}; {days or 0:.0f} days",
    )
    yield world.env.timeout(days or 0.0)
    world.settle_all()
    for site, captured in zip(sites, captures, strict=True):
        world.ledger.outcomes.append((eid, f"captured:{site.id}", bool(captured)))
        site.fighting -= 1
        if captured and site.group != attacker:
            _take(world, site, attacker, "captured")
        elif not captured:
            world.ledger.event(world.env.now, "held", site.id, world.group_ids[site.group])
    world.refresh()


def _take(world: World, site: Any, group: int, how: str) -> None:
    world.ledger.event(
        world.env.now, how, site.id, f"{world.group_ids[site.group]} -> {world.group_ids[group]}"
    )
    site.group = group


def control_change(
    world: World, eid: str, ev: spec.ControlChange, days: float | None, rng: Rng
) -> Process:
    """Sites and crossings pass to a group; routes and margins are re-derived (a crossing's new
    holder may refuse or levy other groups' product)."""
    world.settle_all()
    group = world.group_ids.index(ev.group)
    for site in world.sites:
        if site.id in ev.sites and site.group != group:
            _take(world, site, group, "control_change")
    for gate in world.crossings:
        if gate.id in ev.crossings and gate.controller != group:
            before = "none" if gate.controller is None else world.group_ids[gate.controller]
            world.ledger.event(world.env.now, "control_change", gate.id, f"{before} -> {ev.group}")
            gate.controller = group
    world.refresh()
    yield from ()


def import_ban(world: World, eid: str, ev: spec.ImportBan, days: float | None, rng: Rng) -> Process:
    """An importer refuses a share of a group's (or an origin country's) output, for some days
    or for good."""
    importer = world.importers[world.importer_ids.index(ev.importer)]
    subject = ev.group or ev.origin or ""
    whom: int | str = subject if ev.group is None else world.group_ids.index(ev.group)
    importer.set_refusal(whom, eid, ev.fraction)
    world.refresh()
    world.ledger.event(
        world.env.now, "import_ban", subject, f"{ev.importer} refuses {ev.fraction:.0%}"
    )
    if days is None:
        return
    yield world.env.timeout(days)
    importer.set_refusal(whom, eid, 0.0)
    world.refresh()
    world.ledger.event(world.env.now, "import_ban_lifted", subject, ev.importer)


def capacity_change(
    world: World, eid: str, ev: spec.CapacityChange, days: float | None, rng: Rng
) -> Process:
    """Sites' or processors' capacity is multiplied by a factor while the change lasts.

    Sites settle first, so output before the change accrues at the old capacity; processors
    keep the change's history and integrate it when they work a month.
    """
    targets: list[Site | Processor] = [s for s in world.sites if s.id in ev.sites]
    targets += [p for p in world.processors if p.id in ev.processors]
    names = ",".join(t.id for t in targets)
    key = object()
    world.settle_all()
    for target in targets:
        target.capacity.change(world.env.now, key, ev.factor)
    world.ledger.event(world.env.now, "capacity_change", names, f"x{ev.factor:g}")
    if days is None:
        return
    yield world.env.timeout(days)
    world.settle_all()
    for target in targets:
        target.capacity.change(world.env.now, key, None)
    world.ledger.event(world.env.now, "capacity_restored", names, eid)


# Levies, tariffs and sanctions change only what ``World.refresh`` derives (utilisation, route
# ranking), and refresh settles every site first, so these handlers need no settling of their own.


def levy_change(
    world: World, eid: str, ev: spec.LevyChange, days: float | None, rng: Rng
) -> Process:
    """A group's levy changes for good: a charge in USD per tonne (given in USD or CNY per
    tonne) plus a share of the product's value; routes are re-ranked on the new netbacks."""
    group = world.groups[world.group_ids.index(ev.group)]
    levy = levy_per_tonne(world.scenario, ev.levy_usd_per_t, ev.levy_cny_per_t)
    if group.levy_share == ev.levy_share == 0.0:
        detail = f"{group.levy:.0f} -> {levy:.0f} USD/t"
    else:
        detail = f"{_levy_text(group.levy, group.levy_share)} -> {_levy_text(levy, ev.levy_share)}"
    world.ledger.event(world.env.now, "levy_change", ev.group, detail)
    group.levy, group.levy_share = levy, ev.levy_share
    world.refresh()
    yield from ()


def _levy_text(per_tonne: float, share: float) -> str:
    """A levy as the events table shows it: '6000 USD/t', '20% of value', or both."""
    parts = [f"{per_tonne:.0f} USD/t"] if per_tonne or not share else []
    if share:
        parts.append(f"{share:.0%} of value")
    return " + ".join(parts)


def tariff_change(
    world: World, eid: str, ev: spec.TariffChange, days: float | None, rng: Rng
) -> Process:
    """An importer's tariff on an origin country's product (a share of value) changes for
    good; routes are re-ranked on the netbacks it leaves."""
    importer = world.importers[world.importer_ids.index(ev.importer)]
    importer.tariffs[ev.origin] = ev.rate
    world.refresh()
    world.ledger.event(world.env.now, "tariff_change", ev.importer, f"{ev.origin}: {ev.rate:.0%}")
    yield from ()


def sanctions(
    world: World, eid: str, ev: spec.SanctionsChange, days: float | None, rng: Rng
) -> Process:
    """An importer refuses a share (0-1) of a group's product under sanctions (0 lifts them);
    kept apart from bans by source, so each refusal ends on its own."""
    importer = world.importers[world.importer_ids.index(ev.importer)]
    importer.set_refusal(world.group_ids.index(ev.group), "sanctions", ev.fraction)
    world.refresh()
    world.ledger.event(world.env.now, "sanctions", ev.group, f"{ev.importer}: {ev.fraction:.0%}")
    yield from ()


def buyers_change(
    world: World, eid: str, ev: spec.BuyersChange, days: float | None, rng: Rng
) -> Process:
    """A group sells only to the named importers for ``days`` (for good when None), then to
    the buyers it had before."""
    group = world.groups[world.group_ids.index(ev.group)]
    before = group.buyers
    group.buyers = set(ev.buyers)
    world.refresh()
    world.ledger.event(world.env.now, "buyers_change", ev.group, ",".join(ev.buyers) or "none")
    if days is None:
        return
    yield world.env.timeout(days)
    group.buyers = before
    world.refresh()
    world.ledger.event(world.env.now, "buyers_change", ev.group, ",".join(sorted(before)))


def interference(
    world: World, eid: str, ev: spec.Interference, days: float | None, rng: Rng
) -> Process:
    """Each shipment on the route runs an extra chance (0-1) per leg of being lost in transit,
    for ``days`` (for good when None)."""
    route = next(r for r in world.routes if r.id == ev.route)
    route.interference = ev.interdiction
    world.ledger.event(world.env.now, "interference", route.id, f"{ev.interdiction:.0%}")
    if days is None:
        return
    yield world.env.timeout(days)
    route.interference = 0.0
    world.ledger.event(world.env.now, "interference_ended", route.id, eid)


HANDLERS: dict[type, Callable[..., Process]] = {
    spec.BorderClosure: border_closure,
    spec.Offensive: offensive,
    spec.ControlChange: control_change,
    spec.ImportBan: import_ban,
    spec.LevyChange: levy_change,
    spec.CapacityChange: capacity_change,
    spec.TariffChange: tariff_change,
    spec.SanctionsChange: sanctions,
    spec.BuyersChange: buyers_change,
    spec.Interference: interference,
}
