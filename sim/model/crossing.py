"""A border crossing: a first-come, first-served gate with a daily capacity that can be restricted.

Passing is computed, not stepped: a shipment of W tonnes passes over at least the time the gate
needs for W tonnes at its capacity, and one that arrives while the gate is busy waits until it
is free.

A closure is a *restriction*: it lets through a share of the gate's capacity (0: shut; official
trade and smuggling together) at an extra cost per tonne (smuggling's premium), and when it ends
the gate may reopen along a linear *ramp* from that share back to full capacity. A shut gate
stops everything: shipments waiting or passing are held until it reopens (or turned back, by the
closure's policy), so a closure of D days with C tonnes per day arriving leaves a backlog of
C * D. With restrictions and ramps the gate's capacity share is a piecewise-linear function of
time, and the end of a passage is solved for exactly (``passage_end``), never stepped.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from sim.model.agenda import Environment
from sim.scenario import schema as spec

INPUTS = ("reagents", "fuel")
"""Mining inputs that cross a gate (from China) and that a closure can cut."""


@dataclass(frozen=True)
class Restriction:
    """One closure in force at a gate."""

    share: float
    """Share of the gate's capacity still passing (official trade plus smuggling); 0: shut."""
    extra_cost: float
    """US dollars per tonne added to what passes, averaged over it (smuggling's premium)."""
    policy: str
    """What a shut gate does with product on the road: ``hold`` or ``turn_back``."""


@dataclass(frozen=True)
class Ramp:
    """A gradual reopening: the capacity share rises linearly from ``share`` at day ``start`` to
    1 at day ``end``."""

    start: float
    share: float
    end: float

    def at(self, t: float) -> float:
        """Share of the crossing's capacity open on day ``t`` while it ramps back up."""
        if t >= self.end:
            return 1.0
        return self.share + (1.0 - self.share) * max(0.0, t - self.start) / (self.end - self.start)

    def slope(self) -> float:
        """Share of capacity regained per day over the ramp."""
        return (1.0 - self.share) / (self.end - self.start)


class Crossing:
    """Live state of one crossing."""

    def __init__(
        self,
        env: Environment,
        index: int,
        cid: str,
        params: spec.Crossing,
        importer: int,
        lookback: float = 0.0,
        controller: int | None = None,
    ) -> None:
        self.env = env
        self.time = env.time
        self.index = index
        self.id = cid
        self.importer = importer
        self.capacity = params.capacity_tpd
        self.controller = controller
        """Index of the group that holds the crossing (None: no modelled group)."""
        self.restrictions: dict[object, Restriction] = {}
        """Closures in force, by a key of the closure that imposed them."""
        self.ramps: list[Ramp] = []
        self.lookback = lookback
        """Days before now that a booking may start (a batch's span): ramps ended earlier are
        dropped."""
        self.cuts = dict.fromkeys(INPUTS, 0)
        """Closures in force that cut each mining input."""
        self.epoch = 0
        """Counts restrictions begun, so a shipment can tell that one began while it waited."""
        self.policy = "hold"
        self.free_at = 0.0
        self.reopened = env.event()
        self.open = True
        """Whether anything passes: no restriction in force shuts the gate."""
        self.constant = 1.0
        """Share of capacity the restrictions in force let through (the smallest; 1: none)."""
        self.extra_cost = 0.0
        """US dollars per tonne added by the binding restriction (0 when none)."""
        if not params.open:
            self.restrict("initially closed", Restriction(0.0, 0.0, "hold"))

    def _changed(self) -> None:
        """Re-derive ``open``, ``constant`` and ``extra_cost`` after the restrictions in force
        changed (kept as fields: every shipment, dispatch and refresh reads them)."""
        shares = [r.share for r in self.restrictions.values()]
        self.open = all(share > 0 for share in shares)
        self.constant = min(shares, default=1.0)
        self.extra_cost = (
            min(self.restrictions.values(), key=lambda r: r.share).extra_cost
            if self.restrictions
            else 0.0
        )

    def restrict(self, key: object, restriction: Restriction) -> None:
        """Begin a closure. Bookings made at the old capacity are void: shipments re-queue (or
        wait, or turn back, if the gate is now shut). The newest closure sets the policy."""
        if self.open and restriction.share <= 0:
            self.reopened = self.env.event()
        self.restrictions[key] = restriction
        self._changed()
        self.epoch += 1
        self.policy = restriction.policy
        self.free_at = self.env.now

    def lift(self, key: object, ramp_days: float = 0.0) -> None:
        """End a closure, reopening along a ramp of ``ramp_days``; the gate is open again when no
        closure in force shuts it."""
        was_open = self.open
        restriction = self.restrictions.pop(key)
        self._changed()
        now = self.env.now
        self.ramps = [r for r in self.ramps if r.end > now - self.lookback]
        if ramp_days > 0 and restriction.share < 1.0:
            self.ramps.append(Ramp(now, restriction.share, now + ramp_days))
        if self.open and not was_open:
            self.free_at = now
            self.reopened.succeed()

    def share(self, t: float) -> float:
        """Share of capacity passing at day t under the closures now in force and the ramps."""
        constant = self.constant
        return min(constant, *(ramp.at(t) for ramp in self.ramps)) if self.ramps else constant

    def can_pass(self, t0: float, t1: float) -> float:
        """Tonnes the gate can pass over [t0, t1] days under the closures now in force and the
        ramps (exact: the share is piecewise linear)."""
        if not self.open:
            return 0.0
        constant = self.constant
        if not self.ramps:
            return self.capacity * constant * (t1 - t0)
        ramps = [r for r in self.ramps if r.end > t0]
        if not ramps:
            return self.capacity * constant * (t1 - t0)
        total, t = 0.0, t0
        for b in [*self._breakpoints(t0, constant, ramps), math.inf]:
            b = min(b, t1)
            total += 0.5 * (self.share(t) + self.share(b)) * (b - t)
            if b >= t1:
                break
            t = b
        return self.capacity * total

    def book(self, tonnes: float, span: float) -> tuple[float, float]:
        """Reserve the gate for a shipment arriving now: its (start, end) of passing, days.

        A shipment stands for product that left its site evenly over ``span`` days, so on an
        idle gate it is counted as passing evenly over the ``span`` days before its arrival;
        a busy gate takes it once free. Either way it never passes faster than the gate's
        (restricted, ramping) capacity nor before the gate last changed.
        """
        now = self.time.now
        start = now - span
        if start < self.free_at:
            start = self.free_at
        end = self.passage_end(start, tonnes)
        if end < now:
            end = now
        self.free_at = end
        return start, end

    def passage_end(self, start: float, tonnes: float) -> float:
        """Day by which ``tonnes`` have passed, starting at ``start``: solves
        capacity x integral of share(t) dt = tonnes over piecewise-linear shares, exactly."""
        need = tonnes / self.capacity
        constant = self.constant
        if not self.ramps:
            return start + need / constant
        ramps = [r for r in self.ramps if r.end > start]
        if not ramps:
            return start + need / constant
        t = start
        for b in self._breakpoints(start, constant, ramps):
            share_a, share_b = self.share(t), self.share(b)
            area = 0.5 * (share_a + share_b) * (b - t)
            if area >= need:
                return t + _linear_time(share_a, (share_b - share_a) / (b - t), need)
            need -= area
            t = b
        return t + need / self.share(t)

    @staticmethod
    def _breakpoints(start: float, constant: float, ramps: list[Ramp]) -> list[float]:
        """Days after ``start`` where the share's slope may change: ramp ends, and where a ramp
        meets the constant cap or another ramp. Between them the share is linear."""
        points = {r.end for r in ramps}
        for i, a in enumerate(ramps):
            if a.share < constant < 1.0:
                points.add(a.start + (constant - a.share) / a.slope())
            for b in ramps[i + 1 :]:
                dslope = a.slope() - b.slope()
                if dslope != 0:
                    # a.share + a.slope (t - a.start) == b.share + b.slope (t - b.start)
                    gap = b.share - b.slope() * b.start - a.share + a.slope() * a.start
                    points.add(gap / dslope)
        return sorted(p for p in points if p > start and math.isfinite(p))


def _linear_time(share: float, slope: float, need: float) -> float:
    """Days tau with share * tau + slope * tau^2 / 2 = need (a share changing linearly)."""
    if abs(slope) < 1e-12:
        return need / share
    return (-share + math.sqrt(max(0.0, share * share + 2.0 * slope * need))) / slope
