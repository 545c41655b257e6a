"""Markets and supply from elsewhere: other origins that answer a shortfall of the modelled ones.

An importer's *market* compares, month by month, what its modelled origins (Myanmar's sites)
delivered across its borders with their *reference*: the full-capacity output of those sites
whose routes lead into it (capacity x opening ramp, by product). The difference is the
shortfall. Each supplier elsewhere (``other_supply``) delivers its fixed levels and, if it has a
``response``, an extra output that moves toward ``share x shortfall`` (within its spare
capacity), by no more than its ramp a month: other origins take up a Myanmar shortfall over
years, and give the market back when Myanmar recovers.

Everything here happens at month boundaries: a month's imports are complete once it is over, so
suppliers see month m's shortfall at the end of month m + 1 and act from month m + 2 (the first
month of a run, while the pipeline fills with product in transit, is not judged). Plain Python,
no per-day work.
"""

from __future__ import annotations

from bisect import bisect_right
from dataclasses import dataclass, field

import numpy as np

from sim.model.clock import DAYS_PER_MONTH, Clock
from sim.model.site import Site
from sim.scenario import schema as spec


@dataclass
class Supplier:
    """Live state of one supplier elsewhere."""

    index: int
    id: str
    params: spec.OtherSupply
    importer: int
    extra: list[float] = field(default_factory=lambda: [0.0, 0.0])
    """Output above its levels in the current month, t/month by product."""

    limits: list[tuple[float, float, float]] | None = field(default=None, repr=False)
    """By product: its response's spare capacity, and its ramp up and down a month (t/month),
    worked out on first use (``respond`` runs every month; none without a response)."""
    share: float = field(default=0.0, repr=False)
    """Its response's share of a shortfall, with ``limits``."""

    spans: list[tuple[float, float, float, float]] | None = field(default=None, repr=False)
    """Its levels in force as (from day, until day, t/day mhree, t/day lree), worked out on
    first use (``base`` is asked every month)."""
    edges: list[float] = field(default_factory=list, repr=False)
    """The clock's month boundaries as plain floats (days), with ``spans``."""
    first: int = field(default=0, repr=False)
    """The first of ``spans`` not over before the month ``base`` was last asked for (months
    are asked in order: the spans over before it stay over)."""

    def base(self, clock: Clock, month: int) -> tuple[float, float]:
        """Tonnes its levels deliver in a month of the horizon (each level's rate times the
        days of the month it is in force)."""
        if self.spans is None:
            levels = sorted(self.params.levels, key=lambda level: level.start)
            starts = [clock.day(level.start) for level in levels]
            ends = [*starts[1:], np.inf][: len(levels)]  # none when it has only a response
            self.spans = [
                (
                    since,
                    until,
                    level.tpm.mhree / DAYS_PER_MONTH,
                    level.tpm.lree / DAYS_PER_MONTH,
                )
                for level, since, until in zip(levels, starts, ends, strict=True)
            ]
            self.edges = [float(b) for b in clock.bounds]
        lo, hi = self.edges[month], self.edges[month + 1]
        spans = self.spans
        first = self.first
        if first > 0 and spans[first - 1][1] > lo:  # an earlier month: from the first span
            first = 0
        while first < len(spans) and spans[first][1] <= lo:  # over before the month (the
            first += 1  # spans end where the next starts: those over are the first ones)
        self.first = first
        mhree_t = lree_t = 0.0
        for k in range(first, len(spans)):
            since, until, mhree, lree = spans[k]
            if since >= hi:  # sorted by start: this level and later ones begin after the month
                break
            days = min(hi, until) - max(lo, since)
            mhree_t += mhree * days
            lree_t += lree * days
        return mhree_t, lree_t

    def _limits(self) -> list[tuple[float, float, float]]:
        """``limits`` (and ``share``) from the scenario's response (none without one)."""
        response = self.params.response
        if response is None:
            return []
        self.share = response.share
        decline = response.decline_tpm_per_year or response.ramp_tpm_per_year
        return [
            (
                getattr(response.capacity_tpm, product),
                getattr(response.ramp_tpm_per_year, product) / 12.0,
                getattr(decline, product) / 12.0,
            )
            for product in spec.PRODUCTS
        ]

    def respond(self, shortfall: tuple[float, float]) -> None:
        """Move the extra output toward its share of a month's shortfall (t/month), within its
        spare capacity and at most one month's ramp (or decline) per product."""
        limits = self.limits
        if limits is None:
            limits = self.limits = self._limits()
        if not limits:  # no response
            return
        share, extra = self.share, self.extra
        for p, (cap, step_up, step_down) in enumerate(limits):
            target = min(cap, max(0.0, share * shortfall[p]))
            extra[p] += min(max(target - extra[p], -step_down), step_up)


class Tonnes:
    """Tonnes by product (one month's imports): native numbers, which compiled code adds to
    without boxing a float each time (a list of two would)."""

    def __init__(self) -> None:
        self.mhree = 0.0
        self.lree = 0.0


class Market:
    """An importer's market: its modelled imports by month, their reference, its suppliers,
    and (with a price response) the price factor of the feed its processors buy."""

    def __init__(
        self,
        importer: int,
        sites: list[Site],
        suppliers: list[Supplier],
        clock: Clock,
        price: spec.PriceResponse | None = None,
        memo: list[tuple[float, float] | None] | None = None,
    ) -> None:
        self.importer = importer
        self.memo = memo
        """Its references by month as worked out while no capacity change had touched a
        reference site, shared by the replications of a scenario (None: not shared)."""
        self.price = price
        self.factor = [1.0, 1.0]
        """Price factor by product in force now (times the processors' declared prices)."""
        self.supplied = [[0.0, 0.0, 0.0, 0.0] for _ in clock.month_starts]
        """By month: suppliers' levels (mhree, lree) and extra output (mhree, lree), tonnes."""
        self.sites = sites
        """Modelled sites whose full-capacity output is the reference."""
        self.suppliers = suppliers
        self.clock = clock
        self.bounds = [float(b) for b in clock.bounds]
        n = len(clock.month_starts)
        self.imports = [Tonnes() for _ in range(n)]
        """Tonnes from the modelled origins by month of the horizon and product."""
        self.counted = [False] * (max((site.index for site in sites), default=-1) + 1)
        """By site index: whether the site is one of the market's modelled origins."""
        for site in sites:
            self.counted[site.index] = True
        self.recent = 0
        """The month the last passage began in: the next usually begins in it too."""
        if price is not None:
            self.flexibility = (price.flexibility.mhree, price.flexibility.lree)
            """The price response's flexibility by product, its floor, cap, months to adjust and
            smallest change passed on to processors (read monthly)."""
            self.floor, self.cap, self.adjust_months = price.floor, price.cap, price.adjust_months
            self.min_change = price.min_change
        else:  # fixed prices: never read
            self.flexibility, self.floor, self.cap, self.adjust_months = (0.0, 0.0), 0.0, 0.0, 1.0
            self.min_change = 0.0

    def count(self, site: int, t0: float, t1: float, mhree: float, lree: float) -> None:
        """A passage into the importer over [t0, t1] days: each month gets its share."""
        counted = self.counted
        if site >= len(counted) or not counted[site]:
            return
        bounds, n = self.bounds, len(self.imports)
        k = self.recent  # the month bisect_right would find, where it still holds t0
        if not (k + 1 < len(bounds) and bounds[k] <= t0 < bounds[k + 1]):
            k = bisect_right(bounds, t0) - 1
            if 0 <= k < n:
                self.recent = k
        if 0 <= k < n and t0 < t1 <= bounds[k + 1]:  # within one month: all of it (share 1)
            month = self.imports[k]
            month.mhree += mhree
            month.lree += lree
            return
        k = min(max(k, 0), n - 1)
        if t1 <= t0:
            month = self.imports[k]
            month.mhree += mhree
            month.lree += lree
            return
        while k < n and bounds[k] < t1:
            share = (min(t1, bounds[k + 1]) - max(t0, bounds[k])) / (t1 - t0)
            month = self.imports[k]
            month.mhree += mhree * share
            month.lree += lree * share
            k += 1

    def reference(self, month: int) -> tuple[float, float]:
        """Tonnes the reference sites would deliver in a month at full capacity (opening ramps,
        capacity paths and changes included): from ``memo`` while no capacity change has
        touched a reference site (every replication of the scenario works out the same)."""
        memo = self.memo
        if memo is None or not self.as_declared():
            return self.full_capacity(month)
        known = memo[month]
        if known is None:
            known = memo[month] = self.full_capacity(month)
        return known

    def as_declared(self) -> bool:
        """Whether no capacity change has touched a reference site yet."""
        return all(len(site.capacity.steps) <= 1 for site in self.sites)

    def full_capacity(self, month: int) -> tuple[float, float]:
        """``reference``, worked out."""
        lo, hi = self.bounds[month], self.bounds[month + 1]
        out = [0.0, 0.0]
        for site in self.sites:
            days = site.capacity.integral(lo, hi, site.open_day, site.ramp_days)
            out[0] += site.rate[0] * days
            out[1] += site.rate[1] * days
        return out[0], out[1]

    def shortfall(self, month: int, ref: tuple[float, float] | None = None) -> tuple[float, float]:
        """Reference less imports in a month, t/month by product (negative: a surplus);
        ``ref``: the month's reference when already worked out now."""
        if ref is None:
            ref = self.reference(month)
        days = self.bounds[month + 1] - self.bounds[month]
        per_month = DAYS_PER_MONTH / days
        got = self.imports[month]
        return (ref[0] - got.mhree) * per_month, (ref[1] - got.lree) * per_month

    def close(self, month: int, first: int = 0) -> list[tuple[int, int, float, float]]:
        """At the end of ``month``: what each supplier delivered in it (ledger records: none
        for a month before ``first``, the reported horizon's, and months counted from it),
        then their answer to the last complete month's shortfall, in force from the next
        month."""
        days = self.bounds[month + 1] - self.bounds[month]
        records = []
        reported = month >= first
        totals = self.supplied[month]
        for supplier in self.suppliers:
            base_m, base_l = supplier.base(self.clock, month)
            extra = supplier.extra
            extra_m, extra_l = extra[0] / DAYS_PER_MONTH * days, extra[1] / DAYS_PER_MONTH * days
            if reported:
                records.append((month - first, supplier.index, base_m + extra_m, base_l + extra_l))
            totals[0] += base_m
            totals[1] += base_l
            totals[2] += extra_m
            totals[3] += extra_l
        if month >= 2:  # month 0 is the pipeline filling (transit times): not a shortfall
            ref = self.reference(month - 1)  # once: the shortfall and the price read it
            gap = self.shortfall(month - 1, ref)
            for supplier in self.suppliers:
                supplier.respond(gap)
            if self.price is not None:
                self.reprice(month - 1, gap, ref)
        return records

    def intake_short(
        self, month: int, gap: tuple[float, float], ref: tuple[float, float] | None = None
    ) -> tuple[float, float]:
        """Share of the processors' normal intake (modelled origins at full capacity plus the
        suppliers' levels) missing in a month, by product: the modelled origins' shortfall less
        what suppliers added above their levels, over the intake (negative: a surplus).
        ``ref``: the month's reference when already worked out now."""
        days = self.bounds[month + 1] - self.bounds[month]
        per_month = DAYS_PER_MONTH / days
        if ref is None:
            ref = self.reference(month)
        base_m, base_l, extra_m, extra_l = self.supplied[month]
        out = []
        for short, r, base, extra in (
            (gap[0], ref[0], base_m, extra_m),
            (gap[1], ref[1], base_l, extra_l),
        ):
            intake = (r + base) * per_month
            out.append((short - extra * per_month) / intake if intake > 0 else 0.0)
        return out[0], out[1]

    def reprice(
        self, month: int, gap: tuple[float, float], ref: tuple[float, float] | None = None
    ) -> None:
        """Move the price factor toward 1 + flexibility x intake short, within its bounds, by
        1/adjust_months of the way, in force from the next month."""
        assert self.price is not None
        short = self.intake_short(month, gap, ref)
        flex = self.flexibility
        for p in range(2):
            target = min(self.cap, max(self.floor, 1.0 + flex[p] * short[p]))
            self.factor[p] += (target - self.factor[p]) / self.adjust_months


def sites_into(s: spec.Scenario, importer: str, origins: list[str] | None) -> set[str]:
    """Ids of the sites of the given countries (every country: None) that have a route into the
    importer (through one of its crossings)."""
    into = set()
    for route in s.routes.values():
        crossings = [s.crossings[leg.to] for leg in route.legs if leg.to in s.crossings]
        if any(c.importer == importer for c in crossings):
            into.update(route.sites)
    return {sid for sid in into if origins is None or s.sites[sid].country in origins}
