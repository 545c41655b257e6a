"""A separation plant (or a country's plants): a feedstock queue worked off month by month."""

from __future__ import annotations

from sim.model.capacity import Capacity, ramped_days
from sim.model.clock import DAYS_PER_MONTH
from sim.scenario import schema as spec

__all__ = ["Processor", "ramped_days"]


class Processor:
    """Live state: feedstock waiting, and the capacity available in a given month."""

    def __init__(
        self,
        index: int,
        pid: str,
        params: spec.Processor,
        open_day: float,
        ramp_days: float,
        capacity: Capacity | None = None,
    ) -> None:
        self.index = index
        self.id = pid
        self.params = params
        self.open_day = open_day
        self.ramp_days = ramp_days
        self.capacity = capacity or Capacity([])
        """Capacity factor over time: the scenario's path and capacity changes."""
        self.country = params.country
        self.price = (params.price_usd_per_t.mhree, params.price_usd_per_t.lree)
        """Declared feed price, US dollars a tonne by product (read at every refresh)."""
        cap = params.capacity_tpm
        self.rate = (cap.mhree / DAYS_PER_MONTH, cap.lree / DAYS_PER_MONTH)
        """Declared capacity, tonnes per day by product (read every month)."""
        self.price_factor = [1.0, 1.0]
        """By product: the factor on its declared price its market sets now (1: fixed prices)."""
        self.queue_m = 0.0
        """Feedstock waiting by product (mhree, lree), tonnes: native numbers (``Site``)."""
        self.queue_l = 0.0
        self.delivered_total = 0.0
        self.processed_total = 0.0

    def is_open(self, t: float) -> bool:
        """Whether the processor works on day ``t``."""
        return t >= self.open_day

    def capacity_between(self, t0: float, t1: float) -> tuple[float, float]:
        """Tonnes by product it can process over [t0, t1] days, ramp and capacity changes
        included (exact)."""
        days = self.capacity.integral(t0, t1, self.open_day, self.ramp_days)
        return self.rate[0] * days, self.rate[1] * days

    def receive(self, mhree: float, lree: float) -> None:
        """Feedstock delivered, tonnes by product, joins the queue."""
        self.queue_m += mhree
        self.queue_l += lree
        self.delivered_total += mhree + lree

    def work(self, t0: float, t1: float) -> tuple[float, float]:
        """Process what the queue and capacity allow over [t0, t1]; returns tonnes processed."""
        cap = self.capacity_between(t0, t1)
        done = (min(self.queue_m, cap[0]), min(self.queue_l, cap[1]))
        self.queue_m -= done[0]
        self.queue_l -= done[1]
        self.processed_total += done[0] + done[1]
        return done
