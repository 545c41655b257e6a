"""The live world of one replication: who controls what, who buys what, and how product moves.

Sites settle their output lazily (see ``sim.model.site``); the world re-ranks each site's routes and
re-derives its utilisation whenever policy or control changes (``refresh``), so that economic
responses follow events without any per-day work. Product leaves every site in batches every
``dispatch_days`` (one clock for all sites) and travels as a ``Shipment``, leg by leg.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from operator import itemgetter
from typing import Any, Final, cast

import numpy as np

from sim.model.agenda import Agenda, Environment
from sim.model.capacity import Capacity
from sim.model.clock import DAYS_PER_MONTH, Clock
from sim.model.crossing import Crossing
from sim.model.draws import Stream
from sim.model.ledger import Ledger
from sim.model.market import Market, Supplier, sites_into
from sim.model.processor import Processor
from sim.model.route import Leg, Route
from sim.model.shipment import Shipment
from sim.model.site import Site
from sim.scenario import schema as spec

TINY: Final = 1e-9
"""Tonnes below which a batch is not worth a shipment (numerical dust)."""

NETBACK: Final = itemgetter(2)
"""A ranked entry's netback (``refresh``): a C function, not a lambda called per entry."""

INF: Final = math.inf
"""No limit (a constant: compiled, it is read without a lookup of ``math``)."""


@dataclass
class Group:
    """Live state of an armed group: its levy and whom it sells to."""

    id: str
    levy: float
    """Per-tonne part of its levy, USD/t (CNY levies converted)."""
    buyers: set[str]
    usual_buyers: frozenset[str] = frozenset()
    """The buyers the scenario declares: a market the group expects back after a halt."""
    levy_share: float = 0.0
    """Ad valorem part of its levy: a share of the value the buyer's processor pays."""
    transit: spec.Transit = field(default_factory=spec.Transit)
    """Its policy toward other groups' product at the crossings it holds."""


@dataclass
class Importer:
    """Live trade policy of an importing country."""

    id: str
    tariffs: dict[str, float]
    refusals: dict[int | str, dict[str, float]] = field(default_factory=dict)
    """Group index, or origin country -> {source (event id or 'sanctions') -> share refused}."""

    def refused(self, group: int, origin: str | None = None) -> float:
        """Share refused of a group's product from an origin country: the largest refusal of
        the group or of the origin."""
        by_source = self.refusals.get(group)
        share = max(by_source.values()) if by_source else 0.0
        by_origin = self.refusals.get(origin) if origin is not None else None
        return max(share, *by_origin.values()) if by_origin else share

    def set_refusal(self, whom: int | str, source: str, fraction: float) -> None:
        """Refuse a share of a group's (index) or an origin country's (name) product."""
        by_source = self.refusals.setdefault(whom, {})
        if fraction > 0:
            by_source[source] = fraction
        else:
            by_source.pop(source, None)


class World:
    """Everything one replication changes as it runs."""

    def __init__(
        self,
        scenario: spec.Scenario,
        env: Environment,
        clock: Clock,
        root: np.random.SeedSequence,
        references: dict[int, list[tuple[float, float] | None]] | None = None,
    ) -> None:
        self.scenario = scenario
        self.references = references
        """Markets' references by importer and month, shared by the replications of the
        scenario (``Market.memo``; None: not shared)."""
        self.surge = scenario.haulage.release_surge
        """Haulage's release surge (None: unlimited haulage), read at every dispatch."""
        response = scenario.supply_response
        self.holdout_margin = response.holdout_margin_usd_per_t
        """The supply response's figures, USD/t and its elasticity (every ``refresh`` reads
        them)."""
        self.full_margin = response.full_margin_usd_per_t
        self.elasticity = response.elasticity
        self.unsold_share = response.unsold_margin_share
        self.env = env
        self.agenda = Agenda(env)
        self.time = env.time
        """SimPy's time (``now``: days) as the event loop reads it."""
        self.period = scenario.dispatch_days
        """Days between dispatches."""
        self.clock = clock
        self.cut = clock.day(scenario.start)
        """Day the reported horizon starts: the scenario's start, after its ``run_from`` prefix
        (0 without one). The busiest kinds of record (production, imports, deliveries, stock)
        are kept from then on only, in days from it: a forward run's prefix makes none of them
        (``sim.model.engine.reported`` puts the other kinds in that frame after the run)."""
        self.months = clock.month_of(self.cut)
        """Whole months before ``cut``: the monthly kinds of record (processing, supply from
        elsewhere, prices) are kept from this month on only, counted from it."""
        self.ledger = Ledger()
        self.rows_mined: list[Any] = self.ledger.mined
        """The ledger's busiest kinds of record as plain lists (they are), which compiled code
        appends to directly rather than looking up the ledger's field and its method."""
        self.rows_passed: list[Any] = self.ledger.passed
        self.rows_delivered: list[Any] = self.ledger.delivered
        self.rows_stock: list[Any] = self.ledger.stock
        self.root = root
        self.group_ids = list(scenario.groups)
        self.groups = [
            Group(
                g,
                levy_per_tonne(scenario, p.levy_usd_per_t, p.levy_cny_per_t),
                set(p.buyers),
                frozenset(p.buyers),
                p.levy_share,
                p.transit,
            )
            for g, p in scenario.groups.items()
        ]
        self.importer_ids = list(scenario.importers)
        self.importers = [Importer(i, dict(p.tariffs)) for i, p in scenario.importers.items()]
        for importer, params in zip(self.importers, scenario.importers.values(), strict=True):
            for gid, share in params.refuses.items():
                if gid in scenario.groups:
                    importer.set_refusal(self.group_ids.index(gid), "sanctions", share)
        self.sites = [self._site(i, sid, p) for i, (sid, p) in enumerate(scenario.sites.items())]
        self.crossings = [
            Crossing(
                env,
                i,
                cid,
                p,
                self.importer_ids.index(p.importer),
                scenario.dispatch_days,
                None if p.group is None else self.group_ids.index(p.group),
            )
            for i, (cid, p) in enumerate(scenario.crossings.items())
        ]
        self.processors = [
            Processor(
                i,
                pid,
                p,
                self._day(p.opens),
                p.ramp_months * DAYS_PER_MONTH,
                self._capacity(p.capacity_path),
            )
            for i, (pid, p) in enumerate(scenario.processors.items())
        ]
        self.routes = [self._route(i, rid, p) for i, (rid, p) in enumerate(scenario.routes.items())]
        self.site_routes: list[list[Route]] = [
            [r for r in self.routes if s.id in r.site_ids] for s in self.sites
        ]
        self.ranked: list[list[tuple[Route, float, float]]] = [[] for _ in self.sites]
        """Per site: usable routes, best netback first, with the share their importers refuse
        (kept until the next ``refresh``, since only events change them)."""
        self.suppliers = [
            Supplier(i, oid, p, self.importer_ids.index(p.importer))
            for i, (oid, p) in enumerate(scenario.other_supply.items())
        ]
        self.markets = self._markets()
        self.market_of: list[Market | None] = [None] * len(self.importers)
        for market in self.markets:
            self.market_of[market.importer] = market
        self.buyers: list[list[Processor]] = [
            [p for p in self.processors if p.params.country == importer]
            for importer in self.importer_ids
        ]
        """The processors of each importer (by index): those its market's price applies to."""
        self.at_gates = [0.0 for _ in self.sites]
        """Tonnes by site of origin held at shut gates (part of its ``Site.in_transit``)."""
        self.lost = [0.0 for _ in self.sites]
        self._drawing: dict[tuple[str, str], list[Site]] = {}
        self.arriving: list[tuple[float, Shipment, Leg]] = []
        """Shipments on a last leg that nothing can stop, with the day each reaches its
        processor: they arrive in closed form (``arrive_before``), without an event."""

    # --- building ---------------------------------------------------------------------------

    def _markets(self) -> list[Market]:
        """A market for every importer with suppliers elsewhere or a ``markets`` entry."""
        s = self.scenario
        wanted = [i for i in s.importers if i in s.markets] + [
            o.importer for o in s.other_supply.values()
        ]
        markets = []
        for importer in dict.fromkeys(wanted):
            params = s.markets.get(importer)
            ids = sites_into(s, importer, params.origins if params else None)
            markets.append(
                Market(
                    self.importer_ids.index(importer),
                    [site for site in self.sites if site.id in ids],
                    [x for x in self.suppliers if x.params.importer == importer],
                    self.clock,
                    params.price if params else None,
                    self._memo(self.importer_ids.index(importer)),
                )
            )
        return markets

    def _memo(self, importer: int) -> list[tuple[float, float] | None] | None:
        """The shared references of an importer's market (``references``), made on first use."""
        if self.references is None:
            return None
        memo = self.references.get(importer)
        if memo is None:
            memo = self.references[importer] = [None] * len(self.clock.month_starts)
        return memo

    def _day(self, d: object) -> float:
        """Day of a dated opening; None (or a date before the start) means open from day 0."""
        return max(0.0, self.clock.day(d)) if d is not None else 0.0  # type: ignore[arg-type]

    def _site(self, index: int, sid: str, p: spec.Site) -> Site:
        return Site(
            index,
            sid,
            p,
            self.group_ids.index(p.group),
            self._day(p.opens),
            p.ramp_months * DAYS_PER_MONTH,
            self._capacity(p.capacity_path),
            self.cut,
        )

    def _capacity(self, path: list[spec.CapacityPoint]) -> Capacity:
        """A capacity factor from a scenario path (its dates as days, before the start too)."""
        return Capacity([(self.clock.day(point.start), point.factor) for point in path])

    def _route(self, index: int, rid: str, p: spec.Route) -> Route:
        crossing_ix = {c: i for i, c in enumerate(self.scenario.crossings)}
        processor_ix = {q: i for i, q in enumerate(self.scenario.processors)}
        may_interfere = any(
            isinstance(e, spec.Interference) and e.route == rid
            for e in self.scenario.events.values()
        )
        legs, elapsed = [], 0.0
        for leg in p.legs:
            elapsed += leg.days
            legs.append(
                Leg(
                    days=leg.days,
                    cost=leg.cost_usd_per_t,
                    interdiction=leg.interdiction,
                    crossing=self.crossings[crossing_ix[leg.to]] if leg.to in crossing_ix else None,
                    processor=self.processors[processor_ix[leg.to]]
                    if leg.to in processor_ix
                    else None,
                    back_days=elapsed,
                    unstoppable=leg.to in processor_ix
                    and leg.interdiction == 0
                    and not may_interfere,
                )
            )
        caps = [leg.capacity_tpd for leg in p.legs if leg.capacity_tpd is not None]
        final = legs[-1].processor
        assert final is not None, "validated: a route ends at a processor"
        return Route(
            index=index,
            id=rid,
            site_ids=list(p.sites),
            legs=legs,
            open_day=self._day(p.opens),
            capacity_tpd=min(caps) if caps else math.inf,
            cost=sum(leg.cost for leg in legs),
            importers=[leg.crossing.importer for leg in legs if leg.crossing is not None],
            gates=[(leg.crossing, leg.back_days) for leg in legs if leg.crossing is not None],
            processor=final,
            rng=Stream(self.root, f"route:{rid}"),
            may_interfere=may_interfere,
        )

    def hand_over(self) -> Ledger:
        """At the end of the run: its ledger, which the world no longer holds.

        ``dismantle`` lets reference counting free the world at once; should anything of it
        still be left to Python's cyclic collector (a callback ``dismantle`` does not know of),
        that collector's walk does not cross the ledger (tens of thousands of records), and the
        ledger is freed as soon as its last user drops it (a forward run's, once its reported
        part is cut from it).
        """
        ledger = self.ledger
        self.ledger = Ledger()
        self.rows_mined, self.rows_passed, self.rows_delivered, self.rows_stock = [], [], [], []
        return ledger

    def dismantle(self) -> None:
        """At the end of the run, once what it returns is read: drop what makes the world a
        reference cycle (SimPy's queue of pending calls and waiting processes, the agenda's last
        call, the callbacks waiting at shut gates, shipments still arriving), so that reference
        counting frees it at once rather than Python's cyclic collector at some later
        allocation."""
        self.env._queue.clear()
        self.agenda.open = None
        self.arriving = []
        for gate in self.crossings:
            waiting = cast(Any, gate.reopened).callbacks  # None once it has happened
            if waiting:
                waiting.clear()

    # --- state changes ----------------------------------------------------------------------

    def drawing(self, crossing: str, good: str) -> list[Site]:
        """The sites whose supply of an input (reagents, fuel) comes through a crossing."""
        found = self._drawing.get((crossing, good))
        if found is None:
            found = [site for site in self.sites if site.input_crossing(good) == crossing]
            self._drawing[(crossing, good)] = found
        return found

    def settle_all(self) -> None:
        """Bring every site's mining and stock up to now."""
        now = self.env.now
        for site in self.sites:
            site.settle(now, self.rows_mined)

    def refresh(self) -> None:
        """Settle every site, then re-rank routes and re-derive utilisation under the new state.

        Called at every change of control, policy, price or availability: it is what makes
        output respond to levies, tariffs, bans, prices and new routes, and what starts and ends
        a holdout. Each usable route's economics are worked out once (``economics``).
        """
        self.settle_all()
        now = self.env.now
        for site in self.sites:
            entries: list[tuple[Route, float, float, float, float]] = []
            for route in self.site_routes[site.index]:
                refused = self.refusal(route, site, now)
                if refused is not None:
                    entries.append((route, refused, *self.economics(route, site)))
            entries.sort(key=NETBACK, reverse=True)  # stable: the order of -netback
            ranked = [(route, netback, refused) for route, refused, netback, _, _ in entries]
            if entries:
                # mining looks through a closure's smuggling premium: it is temporary
                margin, sale = best_margins(entries)
            else:
                margin = self.unsold_share * self.expected_margin(site, now)
                sale = None
            self._holdout(site, sale)
            self.ranked[site.index] = [] if site.holding else ranked
            site.utilisation = utilisation(margin, self.full_margin, self.elasticity)

    def _holdout(self, site: Site, sale: float | None) -> None:
        """Start or end a site's holdout: no sales while the margin of its best route, as a
        sale would earn it now (``sale``, None: no route to sell down), is at or below the
        holdout margin."""
        threshold = self.holdout_margin
        holding = threshold is not None and sale is not None and sale <= threshold
        if holding != site.holding:
            site.holding = holding
            kind = "holdout" if holding else "holdout_ended"
            self.ledger.event(self.env.now, kind, site.id, self.group_ids[site.group])

    def economics(self, route: Route, site: Site) -> tuple[float, float, float]:
        """US dollars per tonne of the site's product mix sold down the route: its netback
        (after tariffs at every border it enters, transport, and the smuggling premium at
        restricted gates), the margin mining looks at (netback without the premium, less
        levies and operating cost) and the margin a sale earns now (with the premium)."""
        value = self.value(route, site)
        gross = value
        country = site.country
        for i in route.importers:
            gross *= 1.0 - self.importers[i].tariffs.get(country, 0.0)
        extra = 0.0  # the premiums at restricted gates (sum() of a generator, unrolled)
        for gate, _ in route.gates:
            extra += gate.extra_cost
        netback = gross - route.cost - extra
        costs = self.levy(route, site, value) + site.operating_cost
        return netback, (gross - route.cost - 0) - costs, netback - costs

    def margin(self, route: Route, site: Site) -> float:
        """US dollars per tonne the site's miners keep from product sold down the route now:
        netback less the levies and the operating cost."""
        return self.economics(route, site)[2]

    def levy(self, route: Route, site: Site, value: float) -> float:
        """Levies per tonne sold down the route (USD/t): the site's group's (its per-tonne part
        plus its share of the value the route's processor pays, ``value``), and the transit
        levies of other groups holding crossings on the route."""
        group = self.groups[site.group]
        levy = group.levy
        if group.levy_share:
            levy += group.levy_share * value
        for gate, _ in route.gates:
            holder = gate.controller
            if holder is not None and holder != site.group:
                transit = self.groups[holder].transit
                levy += transit.levy_usd_per_t + transit.levy_share * value
        return levy

    def turned_away(self, route: Route, site: Site) -> bool:
        """Whether a group holding a crossing on the route refuses the site's group's product."""
        for gate, _ in route.gates:
            holder = gate.controller
            if (
                holder is not None
                and holder != site.group
                and self.group_ids[site.group] in self.groups[holder].transit.refuses
            ):
                return True
        return False

    @staticmethod
    def value(route: Route, site: Site) -> float:
        """US dollars per tonne the route's processor pays for the site's product mix, at the
        price its market sets now."""
        processor = route.processor
        price, factor = processor.price, processor.price_factor
        return site.share[0] * price[0] * factor[0] + site.share[1] * price[1] * factor[1]

    def close_market(self, market: Market, month: int) -> None:
        """A month is over: record what the market's suppliers delivered and, under a price
        response, the prices paid; a price that moved by more than ``min_change`` since the
        processors' last offer becomes their new offer and re-derives every site's margins."""
        first = self.months
        self.ledger.supplied.extend(market.close(month, first))
        if market.price is None:
            return
        buyers = self.buyers[market.importer]
        prices = self.ledger.prices
        step = market.min_change
        factor = market.factor
        moved = False
        for p in buyers:
            price, old = p.price, p.price_factor
            if month >= first:
                prices.append((month - first, p.index, price[0] * old[0], price[1] * old[1]))
            if abs(factor[0] - old[0]) > step * old[0] or abs(factor[1] - old[1]) > step * old[1]:
                moved = True
        if moved:
            for p in buyers:
                p.price_factor = list(factor)
            self.refresh()

    def expected_margin(self, site: Site, now: float) -> float:
        """Margin (USD/t) a site expects once its sales resume: its best route that exists now
        (route and processor open) to a country its group sells to, normally or now, with every
        refusal lifted. -inf when there is none: no market to mine for.

        It is what keeps a site mining into its stockpile through a sales halt or a full ban.
        """
        group = self.groups[site.group]
        countries = group.buyers | group.usual_buyers
        best = -math.inf
        for route in self.site_routes[site.index]:
            if (
                now >= route.open_day
                and route.processor.is_open(now)
                and route.processor.country in countries
            ):
                best = max(best, self.margin(route, site))
        return best

    def refusal(self, route: Route, site: Site, now: float) -> float | None:
        """Share of the site's output the importers along the route refuse, or None when its
        controller cannot sell down the route at all right now (route or processor not open,
        a country its group does not sell to, a full refusal, a gate's holder turning it
        away)."""
        processor = route.processor
        if not (
            now >= route.open_day
            and processor.is_open(now)
            and processor.country in self.groups[site.group].buyers
        ):
            return None
        refused = self.refused(route, site)
        if refused >= 1.0 or self.turned_away(route, site):
            return None
        return refused

    def refused(self, route: Route, site: Site) -> float:
        """Share of a site's output that the importers along a route refuse (by its group or
        its country)."""
        country, group, importers = site.country, site.group, self.importers
        share = 0.0
        for i in route.importers:  # the largest (a loop: refresh asks for every route)
            refused = importers[i].refused(group, country)
            if refused > share:
                share = refused
        return share

    # --- moving product ---------------------------------------------------------------------

    def dispatch_all(self) -> None:
        """One dispatch clock for all sites: each sends its batch, in the scenario's order."""
        now, period = self.time.now, self.period
        for site in self.sites:
            self.dispatch(site, now, period)

    def dispatch(self, site: Site, now: float, period: float) -> None:
        """Send what the site holds down its best routes, within route capacity and quotas
        (at day ``now``, every ``period`` days)."""
        site.settle(now, self.rows_mined)
        ranked = self.ranked[site.index]
        if ranked and not site.fighting:
            budget = self._haulage(site, now)
            for route, _, refused in ranked:
                if site.stock_m + site.stock_l <= TINY or budget <= TINY:
                    break
                allowance = self._allowance(site, route, refused, period, now)
                if allowance is None:
                    continue
                budget -= self._send(site, route, budget if budget < allowance else allowance)
        site.last_dispatch = now
        cut = self.cut
        if now >= cut:  # from the reported horizon on, in its frame (the ledger)
            self.rows_stock.append((now - cut, site.index, site.stock_m + site.stock_l))

    def _allowance(
        self, site: Site, route: Route, refused: float, period: float, now: float
    ) -> float | None:
        """Tonnes the route takes from this site now; None: the route is blocked.

        A route is not used while a gate on it is closed, or still has more than a dispatch
        period of queue waiting when this batch would get there: product then waits on site
        (where a full stockpile stops mining) rather than in an ever longer queue at the gate.
        Otherwise its carrying capacity over one dispatch period is shared by all the sites it
        serves (what one has sent this period, the next cannot), and no more is sent than each
        gate on it can pass in a period once there (more would only queue there: it waits on
        site). Under a partial ban the importer takes at most (1 - refused share) of the
        site's current output over the period.
        """
        passable = INF
        for gate, eta in route.gates:
            arrival = now + eta
            if not gate.open or gate.free_at - arrival > period:
                return None
            can = gate.can_pass(arrival, arrival + period)
            if can < passable:
                passable = can
        if now >= route.period_end:
            route.period_end = now + period
            route.carried = 0.0
        allow = route.capacity_tpd * period - route.carried
        if passable < allow:
            allow = passable
        if refused > 0:
            allow = min(allow, (1.0 - refused) * site.output_rate(now) * period)
        return allow

    def _haulage(self, site: Site, now: float) -> float:
        """Tonnes the site can ship at this dispatch: (1 + release surge) x its full-capacity
        output over the days since its last dispatch, less what this month's transport seasons
        take, so that a backlog leaves at a paced rate (unlimited when the scenario sets no
        surge)."""
        surge = self.surge
        if surge is None:
            return INF
        return (
            (1.0 + surge) * site.full_rate(now) * site.season_transport * (now - site.last_dispatch)
        )

    def _send(self, site: Site, route: Route, allowance: float) -> float:
        """Ship up to ``allowance`` tonnes of the site's stock down a route; returns tonnes sent."""
        held = site.stock_m + site.stock_l
        amount = held if held <= allowance else allowance
        if amount <= TINY:
            return 0.0
        m, lr = site.stock_m * amount / held, site.stock_l * amount / held
        site.stock_m -= m
        site.stock_l -= lr
        sent = m + lr
        route.carried += sent
        site.in_transit += sent
        span = self.time.now - site.last_dispatch
        Shipment(self, route, site, m, lr, span).start()
        return sent

    def lose(self, s: Shipment) -> None:
        """Interdicted: seized or destroyed on the road."""
        self.ledger.lost.append(
            (self.env.now, s.route.index, s.site.index, s.group, s.mhree, s.lree)
        )
        s.site.in_transit -= s.tonnes
        self.lost[s.site.index] += s.tonnes

    def deliver(self, s: Shipment, leg: Leg, at: float | None = None) -> None:
        """Reached the processor (now, or at day ``at``): joins its feedstock queue."""
        processor = leg.processor
        assert processor is not None
        mhree, lree = s.mhree, s.lree
        processor.receive(mhree, lree)
        t, cut = self.time.now if at is None else at, self.cut
        site = s.site.index
        if t >= cut:  # from the reported horizon on, in its frame (the ledger)
            self.rows_delivered.append(
                (t - cut, processor.index, s.route.index, site, s.group, mhree, lree)
            )
        tonnes = mhree + lree
        origin = s.site
        origin.in_transit -= tonnes
        origin.delivered += tonnes

    def arrive_before(self, t: float) -> None:
        """Deliver the shipments booked to arrive before day ``t``: called before a month's
        feedstock is worked (the only moment a processor's queue is read) and at the horizon.
        A shipment arriving exactly at ``t`` arrives after: as its timeout would have, being
        scheduled after the month's end was."""
        if not self.arriving:
            return
        later = []
        for entry in self.arriving:
            if entry[0] < t:
                self.deliver(entry[1], entry[2], entry[0])
            else:
                later.append(entry)
        self.arriving = later

    def wait_at_gate(self, s: Shipment, waiting: bool) -> None:
        """A shipment begins (or ends) waiting at a shut gate."""
        self.at_gates[s.site.index] += s.tonnes if waiting else -s.tonnes

    def give_back(self, s: Shipment) -> None:
        """Turned back at a closed border and now home: back into the site's stockpile."""
        s.site.settle(self.env.now, self.rows_mined)
        s.site.give_back(s.mhree, s.lree)
        s.site.in_transit -= s.tonnes


def best_margins(entries: list[tuple[Route, float, float, float, float]]) -> tuple[float, float]:
    """The largest margin mining looks at and the largest a sale earns (``refresh``'s entries'
    last two fields): ``max`` of each, in one loop rather than two generators."""
    first = entries[0]
    margin, sale = first[3], first[4]
    for entry in entries:
        if entry[3] > margin:
            margin = entry[3]
        if entry[4] > sale:
            sale = entry[4]
    return margin, sale


def levy_per_tonne(scenario: spec.Scenario, usd: float, cny: float) -> float:
    """A per-tonne levy in US dollars: the USD part plus the CNY part at the scenario's rate."""
    return usd + cny / scenario.cny_per_usd if cny else usd


def utilisation(margin: float, full_margin: float, elasticity: float) -> float:
    """Share of capacity worked at a given margin (USD/t): none at a loss, all at full margin.

    Between, a constant-elasticity response: (margin / full_margin) ** elasticity.
    """
    if margin <= 0:
        return 0.0
    return min(1.0, float((margin / full_margin) ** elasticity))
