"""A mining site: output accrues continuously between state changes, computed exactly.

Mining is not simulated day by day. The site's output rate only changes at events (a tax
rise, a capture, a reagent crossing closing), so the tonnes mined between two moments are
computed in closed form when the site is *settled*: every change of state settles first.
That keeps the event count proportional to disruptions and dispatches, not to days.
"""

from __future__ import annotations

from typing import Any

from sim.model.capacity import Capacity
from sim.model.clock import DAYS_PER_MONTH
from sim.model.ledger import clipped
from sim.scenario import schema as spec


class Site:
    """Live state of one mining area."""

    def __init__(
        self,
        index: int,
        sid: str,
        params: spec.Site,
        group: int,
        open_day: float,
        ramp_days: float,
        capacity: Capacity | None = None,
        cut: float = 0.0,
    ) -> None:
        self.index = index
        self.cut = cut
        """Day the reported horizon starts (after a ``run_from`` prefix; else 0): output is
        recorded from then on, in days from it (``sim.model.ledger.clipped``)."""
        self.id = sid
        self.params = params
        self.group = group
        self.country = params.country
        self.operating_cost = params.operating_cost_usd_per_t
        """US dollars a tonne (the scenario's figures, read at every ``World.refresh``)."""
        self.rate = (
            params.capacity_tpm.mhree / DAYS_PER_MONTH,
            params.capacity_tpm.lree / DAYS_PER_MONTH,
        )
        """Full-capacity output, tonnes per day by product."""
        self.rate_total = self.rate[0] + self.rate[1]
        """Full-capacity output, tonnes per day (both products)."""
        self.stockpile_limit = params.stockpile_limit_t
        """Tonnes the site's stockpile holds at most (mining stops when it is full)."""
        total = params.capacity_tpm.total
        self.share = (params.capacity_tpm.mhree / total, params.capacity_tpm.lree / total)
        self.open_day = open_day
        self.ramp_days = ramp_days
        self.capacity = capacity or Capacity([])
        """Capacity factor over time: the scenario's path and capacity changes."""
        path_end = self.capacity.days[-1] if self.capacity.days else 0.0
        self.steady_from = max(open_day + max(ramp_days, 0.0), path_end)
        """Day from which the site's share of capacity no longer changes by itself (its opening
        ramp and capacity path are over): from then on, output between two settles is exact
        however the time is split (see ``sim.model.events._settle_drawing``)."""
        self.holding = False
        """In a holdout: the margin is too thin to sell, product stays on site."""
        self.utilisation = 1.0
        self.season_mining = 1.0
        """Share of output this month's seasons leave (1 - depth of each mining season)."""
        self.season_transport = 1.0
        """Share of haulage this month's seasons leave (1 - depth of each transport season)."""
        self.fighting = 0
        """Offensives under way here; while any is, nothing is mined or dispatched."""
        self.stock_days = {
            "reagents": params.reagent_stock_days,
            "fuel": params.fuel_stock_days,
        }
        """Days of operation each input's stock on site supports once its resupply stops."""
        self.left: dict[str, float] = {}
        """Inputs whose resupply is cut, with the days of operation their stock has left."""
        self.stock_m = 0.0
        """Tonnes on site by product (mhree, lree): native numbers, which compiled code
        updates without a boxed float each time (a list of two would)."""
        self.stock_l = 0.0
        self.mined_total = 0.0
        self.in_transit = 0.0
        """Tonnes of its product on the road, those waiting at shut gates included."""
        self.delivered = 0.0
        """Tonnes of its product delivered to processors."""
        self.last = 0.0
        self.last_dispatch = 0.0

    @property
    def held(self) -> float:
        """Tonnes on site, both products."""
        return self.stock_m + self.stock_l

    def ramp(self, t: float) -> float:
        """Share of the declared capacity available at day t: the linear ramp after opening
        times the capacity factor (path and changes)."""
        if t < self.open_day:
            return 0.0
        share = 1.0 if self.ramp_days <= 0 else min(1.0, (t - self.open_day) / self.ramp_days)
        capacity = self.capacity
        if capacity.plain:
            return share
        return share * (capacity.along_path(t) * capacity.step(t))

    def full_rate(self, t: float) -> float:
        """Tonnes per day at full utilisation at day t (what trucks and roads are sized for)."""
        return self.rate_total * self.ramp(t)

    def output_rate(self, t: float) -> float:
        """Tonnes per day mined at day t if reagents and stockpile room allow."""
        if self.fighting:
            return 0.0
        return self.rate_total * self.utilisation * self.season_mining * self.ramp(t)

    def settle(self, now: float, mined: list[Any]) -> None:
        """Add what was mined since the last settle, honouring inputs and the stockpile limit,
        recorded in ``mined`` (the ledger's production records, ``World.rows_mined``) when it
        falls in the reported horizon (``cut``).

        Within the interval the rate is constant (the ramp and the capacity path are taken at
        its midpoint; capacity changes settle first, so they fall between intervals), so the
        time actually spent mining is the least of: the interval, the stock of each input whose
        resupply is cut (reagents, fuel), and the time until the stockpile is full.
        """
        t0 = self.last
        dt = now - t0
        if dt <= 0:
            return
        self.last = now
        if self.fighting:  # nothing is mined
            return
        scale = self.utilisation * self.season_mining * self.ramp(t0 + dt / 2)
        rate = self.rate
        rate_m, rate_l = rate[0] * scale, rate[1] * scale
        total = rate_m + rate_l
        if total <= 1e-12:  # nothing (or a negligible trickle, t/day) is mined
            return
        room = self.stockpile_limit - (self.stock_m + self.stock_l)
        mining = dt
        if room < total * dt:  # the stockpile fills up within the interval
            mining = min(dt, max(room, 0.0) / total)
        left = self.left
        if left:
            mining = min(mining, *left.values())
            for good in left:
                left[good] -= mining
        if mining <= 0:
            return
        m, lr = rate_m * mining, rate_l * mining
        self.stock_m += m
        self.stock_l += lr
        self.mined_total += m + lr
        t1, cut = t0 + mining, self.cut
        if t1 > cut or t0 == cut:  # from the reported horizon on, in its frame (the ledger)
            if t0 >= cut:
                mined.append((t0 - cut, t1 - cut, self.index, self.group, m, lr))
            else:
                mined.append(clipped((t0, t1, self.index, self.group, m, lr), cut))

    def input_crossing(self, good: str) -> str | None:
        """The crossing an input (reagents, fuel) arrives through, or None."""
        if good == "reagents":
            return self.params.reagent_crossing
        return self.params.fuel_crossing

    def set_supply(self, good: str, cut: bool) -> None:
        """An input's resupply stops (its stock starts to run down) or resumes (refilled)."""
        if cut:
            self.left[good] = self.stock_days[good]
        else:
            self.left.pop(good, None)

    def take(self, mhree: float, lree: float) -> None:
        """Tonnes by product leaving the stockpile in a shipment."""
        self.stock_m -= mhree
        self.stock_l -= lree

    def give_back(self, mhree: float, lree: float) -> None:
        """Product turned back at a closed border returns to the stockpile (may overfill it)."""
        self.stock_m += mhree
        self.stock_l += lree
