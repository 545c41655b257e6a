"""A route's live state: sites to a processor along legs, some of them through crossings.

Plain records: the world ranks routes and books product onto them; shipments travel their legs.
"""

from __future__ import annotations

from dataclasses import dataclass

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
