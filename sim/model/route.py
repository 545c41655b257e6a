"""A route's live state: sites to a processor along legs, some of them through crossings.

Plain records: the world ranks routes and books product onto them; shipments travel their legs.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Final

from sim.model.crossing import Crossing
from sim.model.draws import Stream
from sim.model.processor import Processor


@dataclass
class Leg:
    """One stretch of a route, live: its travel days, cost, risk and where it ends."""

    days: float
    cost: float
    interdiction: float
    crossing: Crossing | None
    processor: Processor | None
    back_days: float
    """Days to return to the site from the end of this leg (for turned-back product)."""
    unstoppable: bool = False
    """Ends at a processor, with no interdiction of its own and none an event can add to its
    route: nothing can stop a shipment on it, so its arrival is known when it sets off."""


@dataclass
class Route:
    """Live state of a route: its legs, fixed economics and current interference."""

    index: int
    id: str
    site_ids: list[str]
    legs: list[Leg]
    open_day: float
    capacity_tpd: float
    cost: float
    importers: list[int]
    gates: list[tuple[Crossing, float]]
    """Crossings on the route with the days it takes to reach each."""
    processor: Processor
    rng: Stream
    interference: float = 0.0
    may_interfere: bool = True
    """Whether an event can add interdiction to the route (else a leg without interdiction of
    its own is never drawn on, and its arrival is known at departure)."""
    carried: float = 0.0
    """Tonnes sent down the route in the current dispatch period (all sites together)."""
    period_end: float = 0.0
    draws: list[float] = field(default_factory=list, repr=False)
    """Uniform draws of its stream made ahead (``uniform``), and how many are used."""
    used: int = 0

    def uniform(self) -> float:
        """The next uniform draw in [0, 1) of the route's stream (interdiction): drawn
        ``DRAWS`` at a time, which gives the numbers one draw at a time would, at a fraction
        of the cost of a call into numpy each."""
        if self.used >= len(self.draws):
            self.draws = self.rng.random(DRAWS).tolist()
            self.used = 0
        draw = self.draws[self.used]
        self.used += 1
        return draw


DRAWS: Final = 64
"""Uniform draws a route makes at a time (``Route.uniform``): the route's stream draws nothing
else, so drawing ahead changes no number drawn."""
