"""A shipment: one batch of product travelling a route, leg by leg, to a processor.

A shipment is driven by callbacks on the SimPy clock (``sim.model.agenda``) rather than by a
generator process: it needs no process of its own (no start-up event, no generator to resume)
and no timeout object per step. Its steps, in order, on every leg: travel the leg's days, risk
interdiction, then queue at the leg's crossing (held through a closure, or turned back) or join
the processor's feedstock queue.

A last leg that nothing can stop (no interdiction of its own, and no event that could add some
to its route) takes no event at all: its arrival day is known when it sets off, and the world
delivers it in closed form before the processor's month is worked (``World.arrive_before``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Final

from sim.model.ledger import clipped

if TYPE_CHECKING:  # the world imports shipments: its type is named for checkers (and mypyc)
    from sim.model.crossing import Crossing
    from sim.model.route import Leg, Route
    from sim.model.site import Site
    from sim.model.world import World

ARRIVE: Final = 0
"""A shipment's next step on the agenda (``Shipment.due``): the end of a leg, ..."""
PASS: Final = 1
"""... the end of its booked passage of a gate, ..."""
HOME: Final = 2
"""... or back home after being turned back."""


class Shipment:
    """One batch in transit. ``span`` is the days of output it stands for (``Crossing.book``).

    A shipment is its own callback on the agenda (``__call__``, its step ``due``): booking a
    step makes no bound method, and a shipment has one step booked at a time.
    """

    __slots__ = (
        "due",
        "epoch",
        "group",
        "leg",
        "lree",
        "mhree",
        "route",
        "site",
        "slot",
        "span",
        "waiting",
        "world",
    )

    def __init__(
        self, world: World, route: Route, site: Site, mhree: float, lree: float, span: float
    ) -> None:
        self.world = world
        self.route = route
        self.site = site
        self.group = site.group
        self.mhree = mhree
        self.lree = lree
        self.span = span
        self.leg = 0
        self.epoch = 0
        self.slot = 0.0
        self.waiting = False
        """Held at a shut gate (counted in the world's stock at gates)."""
        self.due = ARRIVE
        """Its step booked on the agenda: ``ARRIVE``, ``PASS`` or ``HOME``."""

    def __call__(self, _: object) -> None:
        """The step booked on the agenda (``due``) is due."""
        due = self.due
        if due == ARRIVE:
            self._arrive(None)
        elif due == PASS:
            self._passing(None)
        else:
            self._home(None)

    @property
    def tonnes(self) -> float:
        """Tonnes of both products in the batch."""
        return self.mhree + self.lree

    def start(self) -> None:
        """Set the batch off down its first leg (and, after each crossing, down the next)."""
        leg = self.route.legs[self.leg]
        if leg.unstoppable:
            # nothing on this leg can stop it: it arrives in closed form, without an event
            world = self.world
            world.arriving.append((world.time.now + leg.days, self, leg))
        elif leg.days > 0:
            self.due = ARRIVE
            self.world.agenda.later(leg.days, self)
        else:
            self._arrive(None)

    def _arrive(self, _: object) -> None:
        route = self.route
        leg = route.legs[self.leg]
        if leg.interdiction or route.interference:
            risk = 1.0 - (1.0 - leg.interdiction) * (1.0 - route.interference)
            if risk > 0 and route.uniform() < risk:
                self.world.lose(self)
                return
        gate = leg.crossing
        if gate is not None:
            self._queue(None, gate)
        else:
            self.world.deliver(self, leg)

    def _queue(self, _: object, gate: Crossing | None = None) -> None:
        """At the gate: wait out a closure (or turn back), else book a slot and pass."""
        if gate is None:
            gate = self._gate()
        if not gate.open:
            if gate.policy == "turn_back":
                self._held(False)
                self._turn_back()
            else:
                self._held(True)
                gate.reopened.callbacks.append(self._queue)
            return
        if self.waiting:
            self._held(False)
        self.epoch = gate.epoch
        self.slot, end = gate.book(self.mhree + self.lree, self.span)
        world = self.world
        now = world.time.now
        if end > now:
            self.due = PASS
            world.agenda.later(end - now, self)
        else:
            self._passed(end, gate)

    def _passing(self, _: object) -> None:
        """The booked slot is over: passed, unless a closure began meanwhile."""
        gate = self._gate()
        if gate.epoch == self.epoch:
            self._passed(self.world.time.now, gate)
        elif gate.policy == "turn_back":
            self._turn_back()
        else:
            self._queue(None)

    def _held(self, waiting: bool) -> None:
        if waiting != self.waiting:
            self.waiting = waiting
            self.world.wait_at_gate(self, waiting)

    def _passed(self, end: float, gate: Crossing) -> None:
        world = self.world
        site, slot, mhree, lree = self.site.index, self.slot, self.mhree, self.lree
        cut = world.cut
        if end > cut or slot == cut:  # from the reported horizon on, in its frame (the ledger)
            if slot >= cut:
                world.rows_passed.append(
                    (
                        slot - cut,
                        end - cut,
                        gate.index,
                        self.route.index,
                        site,
                        self.group,
                        mhree,
                        lree,
                    )
                )
            else:
                world.rows_passed.append(
                    clipped(
                        (slot, end, gate.index, self.route.index, site, self.group, mhree, lree),
                        cut,
                    )
                )
        market = world.market_of[gate.importer]
        if market is not None:  # the importer's market counts it by month
            market.count(site, slot, end, mhree, lree)
        self.leg += 1
        self.start()

    def _turn_back(self) -> None:
        leg: Leg = self.route.legs[self.leg]
        self.world.ledger.event(
            self.world.env.now,
            "turned_back",
            self._gate().id,
            f"{self.tonnes:.1f} t of {self.site.id} via {self.route.id}",
        )
        self.due = HOME
        self.world.agenda.later(leg.back_days, self)

    def _home(self, _: object) -> None:
        self.world.give_back(self)

    def _gate(self) -> Crossing:
        gate = self.route.legs[self.leg].crossing
        assert gate is not None
        return gate
