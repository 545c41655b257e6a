"""A border crossing: a first-come, first-served gate with a daily capacity that can close.

Passing is computed, not stepped: a shipment of W tonnes passes over at least W / capacity days,
and one that arrives while the gate is busy waits until it is free.
A closure stops everything: shipments waiting or passing are held until the gate reopens (or
turned back, by the closure's policy), so a closure of D days with C tonnes per day arriving
leaves a backlog of C * D that drains at capacity - C after reopening.
"""

from __future__ import annotations

import simpy

from sim.scenario import schema as spec


class Crossing:
    """Live state of one crossing."""

    def __init__(
        self, env: simpy.Environment, index: int, cid: str, params: spec.Crossing, importer: int
    ) -> None:
        self.env = env
        self.index = index
        self.id = cid
        self.importer = importer
        self.capacity = params.capacity_tpd
        self.closures = 0
        """Closures in force; the gate is open only when none is."""
        self.epoch = 0
        """Counts closures begun, so a shipment can tell that one began while it waited."""
        self.policy = "hold"
        self.free_at = 0.0
        self.reopened = env.event()
        if not params.open:
            self.close("hold")

    @property
    def open(self) -> bool:
        return self.closures == 0

    def close(self, policy: str) -> None:
        """Begin a closure. Overlapping closures stack; the newest sets the in-transit policy."""
        if self.closures == 0:
            self.reopened = self.env.event()
        self.closures += 1
        self.epoch += 1
        self.policy = policy
        self.free_at = self.env.now

    def reopen(self) -> None:
        """End one closure; the gate opens when the last one ends."""
        self.closures -= 1
        if self.closures == 0:
            self.free_at = self.env.now
            self.reopened.succeed()

    def book(self, tonnes: float, span: float) -> tuple[float, float]:
        """Reserve the gate for a shipment arriving now: its (start, end) of passing, days.

        A shipment stands for product that left its site evenly over ``span`` days, so on an
        idle gate it is counted as passing evenly over the ``span`` days before its arrival;
        a busy gate takes it at capacity once free. Either way it never passes faster than
        capacity nor before the gate last opened.
        """
        now = self.env.now
        start = max(now - span, self.free_at)
        end = max(start + tonnes / self.capacity, now)
        self.free_at = end
        return start, end
