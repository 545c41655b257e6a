"""The scenario language: a frozen, typed description of one world and what happens in it.

A scenario is data. Every parameter lives at a dotted path (``sites.pangwa.capacity_tpm.mhree``)
so that sweeps and calibration can vary anything without code of their own. Collections are
mappings keyed by short ids, never lists, so that paths stay readable and ``extends:`` merges
them key by key.

Units: tonnes (t) of rare-earth product as counted in China's customs import statistics, tonnes
per month (tpm) or per day (tpd), US dollars per tonne (usd_per_t), days.
"""

from __future__ import annotations

import difflib
import itertools
from datetime import date
from typing import Annotated, Any, ClassVar, Literal

from pydantic import AfterValidator, Field, model_validator

from sim.scenario.distributions import Choice, DateRange, Number, NumberDistribution
from sim.scenario.fields import (
    MAX_QUANTITY,
    Frozen,
    Id,
    Name,
    NonNegative,
    Positive,
    Probability,
    Seed,
)

PRODUCTS: tuple[str, str] = ("mhree", "lree")
"""Product classes: medium/heavy rare earths and light rare earths."""
SCOPES: tuple[str, ...] = ("oxide", "carbonate", "other_compound", "ore", "unscoped")
"""Customs scopes of imports (China's tariff codes): oxides HS 28469019, carbonates HS 28469048,
other compounds HS 28469099, ores and concentrates; ``unscoped`` holds the tonnes of origins whose
``customs_scopes`` the scenario does not declare."""


class Tonnes(Frozen):
    """An amount per product class (tonnes, or tonnes per month where the field says so)."""

    mhree: NonNegative = 0.0
    """Medium/heavy rare earths, tonnes (t/month where the key says so, e.g. capacity_tpm)."""
    lree: NonNegative = 0.0
    """Light rare earths, tonnes (t/month where the key says so)."""

    @property
    def total(self) -> float:
        """Both product classes together (same unit)."""
        return self.mhree + self.lree


class Prices(Frozen):
    """US dollars per tonne of product, by product class."""

    mhree: NonNegative
    """Price of medium/heavy rare-earth feed, USD per tonne."""
    lree: NonNegative
    """Price of light rare-earth feed, USD per tonne."""


# --- uncertain values ----------------------------------------------------------------------------


def _non_negative_days(value: NumberDistribution) -> NumberDistribution:
    """The domain rule of a duration: every value the distribution can give is a number of days
    from 0 to ``MAX_QUANTITY`` (the family itself allows any finite number)."""
    if isinstance(value, Choice):
        for v in value.values:
            if isinstance(v, bool) or not isinstance(v, int | float):
                raise ValueError(f"values must be numbers of days, not {v!r}")
            if not 0 <= v <= MAX_QUANTITY:
                raise ValueError(f"values must be days from 0 to {MAX_QUANTITY:g}, not {v!r}")
        return value
    if value.low < 0:
        raise ValueError("low must not be negative (days)")
    if value.high > MAX_QUANTITY:
        raise ValueError(f"high must be at most {MAX_QUANTITY:g} days")
    return value


Days = NonNegative | Annotated[Number, AfterValidator(_non_negative_days)]
"""A duration in days: a number, or a distribution of days drawn once per replication."""
When = date | DateRange
"""A date, or a day drawn once per replication from a range."""


# --- the world ---------------------------------------------------------------------------------


LEVY_SHARE_DESCRIPTION = (
    "Resource tax as a share (0..1) of the value of product leaving a site the group controls: "
    "of the price (USD/t) the buyer's processor pays for the site's product mix, before tariffs "
    "and transport (0.2: the KIA's 20% tax of December 2024). Adds to the per-tonne levies."
)
LEVY_CNY_DESCRIPTION = (
    "Resource tax in Chinese yuan per tonne of product (CNY/t), converted at the scenario's "
    "cny_per_usd (35000: the KIA's stockpile tax of 27 March 2025). Adds to the other levies."
)


class Transit(Frozen):
    """What a group does with other groups' product at the crossings it controls."""

    refuses: list[Id] = Field(
        default=[],
        description=(
            "Groups whose product it turns away at the crossings it holds: their sites cannot "
            "use a route through such a crossing."
        ),
    )
    levy_usd_per_t: NonNegative = Field(
        default=0.0,
        description="Transit levy on other groups' product passing its crossings (USD/t).",
    )
    levy_share: Probability = Field(
        default=0.0,
        description=(
            "Transit levy as a share (0..1) of the value of other groups' product passing its "
            "crossings (the price the buyer's processor pays)."
        ),
    )


class Group(Frozen):
    """An armed group or authority that controls ground and taxes what leaves it."""

    name: str
    """Display name in figures and reports."""
    levy_usd_per_t: NonNegative
    """Resource tax per tonne of product leaving a site it controls."""
    levy_share: Probability = Field(default=0.0, description=LEVY_SHARE_DESCRIPTION)
    levy_cny_per_t: NonNegative = Field(default=0.0, description=LEVY_CNY_DESCRIPTION)
    buyers: list[Id]
    """Countries (processor countries) whose buyers the group will sell to."""
    transit: Transit = Field(
        default=Transit(),
        description=(
            "Its policy at the crossings it controls toward other groups' product: refuse it "
            "or levy it (default: neither)."
        ),
    )


class CapacityPoint(Frozen):
    """One point of a capacity path: from ``start`` the capacity is ``factor`` times the
    declared one, changing linearly to the next point's factor."""

    start: date = Field(description="Date of the point (may lie before the scenario's start).")
    factor: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)] = Field(
        description=(
            "Capacity at that date as a multiple of the declared capacity_tpm (dimensionless: "
            "1 as declared, 0.05 a handful of mines, 0.75 a quarter less)."
        ),
    )


CAPACITY_PATH_DESCRIPTION = (
    "How the capacity changes over time, as multiples of capacity_tpm at dates: linear between "
    "points, the first point's factor before it and the last's after it (Kachin's growth "
    "2016-2024, R53, R54). Empty: the declared capacity throughout."
)


def _in_date_order(points: list[CapacityPoint]) -> None:
    for a, b in itertools.pairwise(points):
        if b.start <= a.start:
            raise ValueError("capacity_path points must be in date order, each after the last")


class Site(Frozen):
    """A mining area: output by product class at full utilisation, its controller and inputs."""

    name: str
    """Display name in figures and reports."""
    region: str
    """Region, free text (e.g. kachin): what seasons select sites by."""
    country: Id = "myanmar"
    """Country the site is in (an id): its origin in the importers' statistics."""
    group: Id
    """The group that controls the site (a groups id)."""
    capacity_tpm: Tonnes
    """Output at full utilisation, tonnes per month (calendar month of 30.44 days); at least one
    class above 0."""
    opens: date | None = None
    """First day of production; null: already producing at the scenario start."""
    ramp_months: NonNegative = 0.0
    """Months from ``opens`` to full capacity (linear ramp)."""
    operating_cost_usd_per_t: NonNegative
    """Cost of mining a tonne of product, USD per tonne."""
    reagent_crossing: Id | None = None
    """Crossing through which leaching reagents arrive (from China); null: no dependency."""
    reagent_stock_days: NonNegative = 0.0
    """Days of operation that the reagent stock on site supports once resupply stops."""
    fuel_crossing: Id | None = Field(
        default=None,
        description=(
            "Crossing through which the site's fuel (diesel for pumps and trucks) arrives; "
            "null: no dependency."
        ),
    )
    fuel_stock_days: NonNegative = Field(
        default=0.0,
        description="Days of operation the fuel stock on site supports once resupply stops.",
    )
    stockpile_limit_t: Positive
    """Product the site can hold, tonnes; when full, mining stops until product leaves."""
    capacity_path: list[CapacityPoint] = Field(default=[], description=CAPACITY_PATH_DESCRIPTION)

    @model_validator(mode="after")
    def _producing(self) -> Site:
        if self.capacity_tpm.total <= 0:
            raise ValueError("capacity_tpm must be positive for at least one product")
        _in_date_order(self.capacity_path)
        return self


class Crossing(Frozen):
    """A border gate or port where product enters an importing country and is counted."""

    name: str
    """Display name in figures and reports."""
    importer: Id
    """The country that counts what passes (an importers id)."""
    capacity_tpd: Positive
    """Tonnes per day that can pass when open."""
    open: bool = True
    """Whether the crossing is open at the scenario start (true/false)."""
    group: Id | None = Field(
        default=None,
        description=(
            "The group that controls the crossing's Myanmar side, whose transit policy applies "
            "to other groups' product passing it; null: none of the scenario's groups."
        ),
    )


class Leg(Frozen):
    """One stretch of a route, ending at a crossing or at a processor."""

    to: Id
    """Where the stretch ends: a crossings or processors id (only the last leg ends at a
    processor)."""
    days: NonNegative
    """Travel time of the stretch, days (a plain number, never a distribution)."""
    cost_usd_per_t: NonNegative = 0.0
    """Transport cost of the stretch, USD per tonne."""
    capacity_tpd: Positive | None = None
    """Tonnes per day the stretch can carry (trucks, roads); null: not limiting."""
    interdiction: Probability = 0.0
    """Chance that a shipment on this stretch is seized or lost."""


class Route(Frozen):
    """How product from some sites reaches a processor: an ordered list of legs."""

    name: str = ""
    """Display name in figures and reports (default: none)."""
    sites: Annotated[list[Id], Field(min_length=1)]
    """The sites that use this route (sites ids, at least one)."""
    legs: Annotated[list[Leg], Field(min_length=1)]
    """The stretches in order (at least one); the last ends at a processor."""
    opens: date | None = None
    """First day the route can be used; null: open from the start."""


class Processor(Frozen):
    """A separation plant (or a country's plants together) that turns feedstock into oxides."""

    name: str
    """Display name in figures and reports."""
    country: Id
    """Country the plant is in (an id); a group sells only to processors in its buyers countries."""
    quad: bool = False
    """Whether it is in a Quad country (true/false): its intake counts as Quad delivered."""
    capacity_tpm: Tonnes
    """Feedstock it can take at full capacity, tonnes per month by product (at least one class
    above 0)."""
    price_usd_per_t: Prices
    """What the processor pays for feedstock delivered to it."""
    opens: date | None = None
    """First day of operation; null: operating from the scenario start."""
    ramp_months: NonNegative = 0.0
    """Months from opens to full capacity (linear ramp)."""
    capacity_path: list[CapacityPoint] = Field(default=[], description=CAPACITY_PATH_DESCRIPTION)

    @model_validator(mode="after")
    def _processing(self) -> Processor:
        if self.capacity_tpm.total <= 0:
            raise ValueError("capacity_tpm must be positive for at least one product")
        _in_date_order(self.capacity_path)
        return self


class Importer(Frozen):
    """A country where imports are counted at the border, with its trade policy."""

    name: str
    """Display name in figures and reports."""
    quad: bool = False
    """Whether it is a Quad country (true/false)."""
    tariffs: dict[Id, Probability] = Field(
        default={},
        description="Ad valorem tariff (0..1, 0.4 is 40%) on imports, by origin country.",
    )
    refuses: dict[Id, Probability] = Field(
        default={},
        description=(
            "Standing refusals (sanctions), by group: the share (0..1) of that group's output "
            "this importer refuses."
        ),
    )


class SupplyLevel(Frozen):
    """From a date on, a constant monthly flow."""

    start: date
    """First day of this level (YYYY-MM-DD); it holds until the next level's start."""
    tpm: Tonnes
    """The flow, tonnes per month by product."""


class Response(Frozen):
    """How a supplier elsewhere answers a shortfall of the modelled origins (Myanmar) into its
    importer: it aims to fill a share of last month's shortfall, within its spare capacity,
    changing its extra output no faster than its ramp allows."""

    share: Probability = Field(
        default=1.0,
        description=(
            "Share (0..1) of the modelled origins' shortfall (t/month) this supplier aims to "
            "fill; the shares of an importer's suppliers add up to at most 1."
        ),
    )
    capacity_tpm: Tonnes = Field(
        description="Extra output it can add above its levels at most, t/month by product."
    )
    ramp_tpm_per_year: Tonnes = Field(
        description=(
            "How fast its extra output can grow, t/month per year by product (R56: non-Chinese "
            "output ramped at ~4% of the market a year after 2010)."
        ),
    )
    decline_tpm_per_year: Tonnes | None = Field(
        default=None,
        description=(
            "How fast its extra output falls back once the shortfall eases, t/month per year "
            "by product; null: as fast as it ramps up."
        ),
    )


class OtherSupply(Frozen):
    """Supply from elsewhere, so that an importer's totals can be computed: fixed levels, and
    optionally a response to a shortfall of the modelled origins (``response``)."""

    importer: Id
    """Who receives the supply (an importers id)."""
    origin: Id
    """Country of origin (an id), as in the importer's statistics."""
    levels: list[SupplyLevel] = Field(
        default=[],
        description=(
            "From each start date on, a constant flow, t/month by product (before the first: "
            "none). At least one level, or a response."
        ),
    )
    response: Response | None = Field(
        default=None,
        description="How it answers a shortfall of the modelled origins; null: fixed levels.",
    )
    domestic: bool = Field(
        default=False,
        description=(
            "Mined inside the importer (China's own ionic-clay mining under quota): it feeds the "
            "importer's market (shortfall, prices) but is not an import."
        ),
    )

    @model_validator(mode="after")
    def _supplies(self) -> OtherSupply:
        if not self.levels and self.response is None:
            raise ValueError("give levels, a response, or both")
        return self


class Flexibility(Frozen):
    """Price flexibility by product class: the relative price change per relative shortfall."""

    mhree: NonNegative = Field(
        default=0.0,
        description="Medium/heavy feed: price change (share) per share of intake short.",
    )
    lree: NonNegative = Field(
        default=0.0, description="Light feed: price change (share) per share of intake short."
    )


class PriceResponse(Frozen):
    """How the feed price of an importer's processors follows its market's shortfall: the
    price factor aims at 1 + flexibility x (shortfall / intake), within [floor, cap]."""

    flexibility: Flexibility = Field(
        description=(
            "By product class, the price's relative change per relative shortfall of the "
            "processors' intake (dimensionless: 1 means 10% short, 10% dearer; a surplus "
            "lowers it alike)."
        ),
    )
    adjust_months: Annotated[float, Field(ge=1.0, le=1200.0, allow_inf_nan=False)] = Field(
        default=1.0,
        description=(
            "Months the price takes to close its gap to the target: each month it moves "
            "1/adjust_months of the way (1: at once)."
        ),
    )
    floor: Annotated[float, Field(gt=0.0, le=1.0, allow_inf_nan=False)] = Field(
        default=0.5, description="Lowest price factor (share of the declared price, 0..1]."
    )
    min_change: Annotated[float, Field(ge=0.0, le=1.0, allow_inf_nan=False)] = Field(
        default=0.005,
        description=(
            "Smallest relative move (share, 0..1) that reaches the processors' offers: a price "
            "that moved less since the last offer stays as it was (0.005: half a percent), so "
            "month-to-month noise does not re-derive every margin."
        ),
    )
    cap: Annotated[float, Field(ge=1.0, le=100.0, allow_inf_nan=False)] = Field(
        default=3.0,
        description="Highest price factor (a multiple of the declared price, dimensionless, >= 1).",
    )


class Market(Frozen):
    """An importer's market for feed: which modelled origins' shortfall its suppliers elsewhere
    answer (and, with prices, how its feed price moves)."""

    origins: list[Id] | None = Field(
        default=None,
        description=(
            "Countries of the modelled sites whose shortfall counts (their full-capacity output "
            "routed into this importer, less what they deliver); null: every site country."
        ),
    )
    price: PriceResponse | None = Field(
        default=None,
        description=(
            "How the feed price its processors pay (price_usd_per_t of processors in this "
            "country) follows the shortfall of their intake, feeding back into netbacks and "
            "mining margins; null: fixed prices."
        ),
    )


class ScopeShares(Frozen):
    """How one product class of an origin is declared at the importer's customs: the share of
    its tonnes under each tariff code. Other compounds (HS 28469099, the code for compounds not
    listed elsewhere) take the rest, 1 - oxide - carbonate - ore."""

    oxide: Probability = 0.0
    """Share declared as rare-earth oxides (HS 28469019, "unlisted"/mixed oxides)."""
    carbonate: Probability = 0.0
    """Share declared as mixed rare-earth carbonate (HS 28469048, MREC)."""
    ore: Probability = 0.0
    """Share declared as ore or concentrate (not a compound)."""

    @model_validator(mode="after")
    def _at_most_whole(self) -> ScopeShares:
        if self.oxide + self.carbonate + self.ore > 1.0 + 1e-9:
            raise ValueError(
                "oxide + carbonate + ore must not exceed 1 (other compounds: the rest)"
            )
        return self

    @property
    def other_compound(self) -> float:
        """The share declared as other compounds: what oxide, carbonate and ore leave."""
        return max(0.0, 1.0 - self.oxide - self.carbonate - self.ore)


class ScopeLevel(Frozen):
    """From a date on, how an origin's product is declared at customs, by product class (a
    class left out is all other compounds). The first level of an origin also applies before
    its date."""

    start: date
    """First day of this level (YYYY-MM-DD); the first level also applies before it."""
    mhree: ScopeShares = ScopeShares()
    """Shares (0..1) of medium/heavy rare-earth tonnes by customs scope; left out: all other
    compounds."""
    lree: ScopeShares = ScopeShares()
    """Shares (0..1) of light rare-earth tonnes by customs scope; left out: all other compounds."""


class SupplyResponse(Frozen):
    """How miners' utilisation responds to their margin (so a tax rise lowers output).

    utilisation = min(1, (margin / full_margin) ** elasticity) for a positive margin, else 0,
    where margin = netback - levy - operating cost per tonne of the site's product mix.
    """

    full_margin_usd_per_t: Positive
    """Margin at which a site works at full capacity, USD per tonne of its product mix."""
    elasticity: NonNegative
    """How strongly utilisation falls with the margin (dimensionless exponent; 0: not at all)."""
    unsold_margin_share: Probability = Field(
        default=1.0,
        description=(
            "Share (0..1) of its normal margin (USD/t) that a site counts on for product it "
            "cannot sell now (a sales halt, a full import ban): it keeps mining into its "
            "stockpile at the utilisation this expected margin gives, up to the stockpile "
            "limit. The normal margin is that of its best open route to a country its group "
            "sells to, with refusals and halts lifted. 0: mining stops as soon as sales do."
        ),
    )
    holdout_margin_usd_per_t: NonNegative | None = Field(
        default=None,
        description=(
            "The holdout: a site stops selling while the margin of its best route (netback - "
            "levies - operating cost, USD/t) is at or below this, keeping its product on site "
            "(and mining into stock while the margin stays positive); it sells again, at the "
            "paced rate, once the margin rises above (a levy falls, a price rises). "
            "0: miners stop selling when the levy leaves no margin. null: no holdout."
        ),
    )


class Haulage(Frozen):
    """How fast a site's stock can leave it: trucks, finance and the buyers' intake."""

    release_surge: NonNegative | None = Field(
        default=None,
        description=(
            "Extra shipping a site can muster while it draws down a stockpile, as a share of "
            "its full-capacity output (dimensionless): each dispatch sends at most "
            "(1 + release_surge) x full-capacity output (t/day) x days since the last one, so "
            "a backlog leaves at release_surge x output per day, not all at once. "
            "null: no limit (a backlog leaves as fast as routes and gates allow)."
        ),
    )


MONTHS = ("jan", "feb", "mar", "apr", "may", "jun", "jul", "aug", "sep", "oct", "nov", "dec")


class MonthlyDepth(Frozen):
    """A share lost in each calendar month (0 where not given)."""

    jan: Probability = Field(default=0.0, description="Share (0..1) lost in January.")
    feb: Probability = Field(default=0.0, description="Share (0..1) lost in February.")
    mar: Probability = Field(default=0.0, description="Share (0..1) lost in March.")
    apr: Probability = Field(default=0.0, description="Share (0..1) lost in April.")
    may: Probability = Field(default=0.0, description="Share (0..1) lost in May.")
    jun: Probability = Field(default=0.0, description="Share (0..1) lost in June.")
    jul: Probability = Field(default=0.0, description="Share (0..1) lost in July.")
    aug: Probability = Field(default=0.0, description="Share (0..1) lost in August.")
    sep: Probability = Field(default=0.0, description="Share (0..1) lost in September.")
    oct: Probability = Field(default=0.0, description="Share (0..1) lost in October.")
    nov: Probability = Field(default=0.0, description="Share (0..1) lost in November.")
    dec: Probability = Field(default=0.0, description="Share (0..1) lost in December.")

    def of(self, month: int) -> float:
        """The depth of calendar month ``month`` (1-12)."""
        return float(getattr(self, MONTHS[month - 1]))


class Season(Frozen):
    """A recurring monthly profile (the monsoon): a share of mining output, or of the sites'
    haulage, lost in given calendar months, every year or in given years."""

    affects: Literal["mining", "transport"] = Field(
        description=(
            "mining: the share of a site's output lost that month (flooded leaching ponds); "
            "transport: the share of its haulage (t/day its trucks and roads carry, see "
            "haulage.release_surge) lost that month (washed-out roads), so product waits on "
            "site and leaves later at the paced rate; needs a finite haulage.release_surge."
        ),
    )
    depth: MonthlyDepth = Field(
        description="Share (0..1) lost in each calendar month, keyed jan..dec (0 if not given)."
    )
    regions: list[str] = Field(
        default=[],
        description="Site regions it applies to (sites' region); empty with no sites: every site.",
    )
    sites: list[Id] = Field(default=[], description="Sites it applies to, besides its regions.")
    years: list[Annotated[int, Field(ge=1900, le=2200)]] | None = Field(
        default=None, description="Calendar years it recurs in; null: every year."
    )
    note: str = ""
    """Free text: sources and reasoning."""


# --- events ------------------------------------------------------------------------------------


class Repeat(Frozen):
    """An event that recurs: the same event every ``every_months`` calendar months."""

    every_months: Annotated[int, Field(ge=1, le=1200)] = Field(
        description="Calendar months between occurrences (12: every year, on the same date)."
    )
    times: Annotated[int, Field(ge=1, le=1000)] | None = Field(
        default=None,
        description=(
            "Occurrences in all (a count), the first included; null: until the end of the run."
        ),
    )


class EventBase(Frozen):
    """What every event has: when it starts, its chance, a note and an optional recurrence."""

    start: When
    """When it happens (YYYY-MM-DD), or a date range drawn once per replication; within the
    scenario's start..end, or run_from..end when it has a prefix (both ends of a range)."""
    probability: Probability = 1.0
    """Chance that the event happens at all in a replication."""
    note: str = ""
    """Free text: sources and reasoning."""
    decision: Id | None = Field(
        default=None,
        description=(
            "A decision (decisions.<id>) this event shares with others: it happens when the "
            "decision's one draw falls below the decision's probability x its own (default 1), "
            "so events of one decision happen together, and events giving the same start and "
            "days distributions draw the same dates and durations (one closure of six gates)."
        ),
    )
    repeat: Repeat | None = Field(
        default=None,
        description=(
            "Recurrence: the event happens again every every_months months (start and end "
            "dates shifted), each occurrence drawing its own chance, date and duration."
        ),
    )


END_DESCRIPTION = (
    "Date the event ends (a closure's reopening day): it is in force until the start of that "
    "day, for end - start days. An alternative to days (give one or neither); may lie beyond "
    "the horizon, not before start (nor before the last day of a start range)."
)

Good = Literal["rare_earths", "reagents", "fuel"]
GOODS: tuple[Good, ...] = ("rare_earths", "reagents", "fuel")


class Lasting(EventBase):
    """An event that lasts: ``days`` (a duration) or ``end`` (a date), or for good."""

    days: Days | None = None
    """How long it lasts, days: a number or a distribution drawn once per replication; null with
    no end: for good."""
    end: date | None = Field(default=None, description=END_DESCRIPTION)

    @model_validator(mode="after")
    def _one_length(self) -> Lasting:
        if self.days is not None and self.end is not None:
            raise ValueError("give days or end, not both")
        return self


class BorderClosure(Lasting):
    """A crossing closes for some days (or for good); what is on the road is held or sent back.

    A closure may be partial (``capacity_share``), apply to some goods only (``goods``), leak a
    share through smuggling at a cost, and end along a ramp (``ramp_days``).
    """

    kind: Literal["border_closure"]
    """border_closure: a crossing closes."""
    crossing: Id
    """The crossing that closes (a crossings id)."""
    in_transit: Literal["hold", "turn_back"] = "hold"
    """What happens to product on the road to it: held until it reopens, or turned back to its
    site."""
    goods: Annotated[list[Good], Field(min_length=1)] = Field(
        default=list(GOODS),
        description=(
            "What the closure stops: rare_earths (product leaving Myanmar), reagents and fuel "
            "(mining inputs from China; a site runs on its stock of them). Default: all three."
        ),
    )
    capacity_share: Probability = Field(
        default=0.0,
        description=(
            "Share (0..1) of the crossing's capacity (t/day) that official trade may still use "
            "while the closure lasts: 0 shuts the gate, 0.3 lets 30% through (limited goods, "
            "a partial reopening). Inputs are cut only when it is 0."
        ),
    )
    leak_share: Probability = Field(
        default=0.0,
        description=(
            "Share (0..1) of the crossing's capacity (t/day) that smuggling still carries while "
            "the closure lasts, counted at the border like any import."
        ),
    )
    leak_cost_usd_per_t: NonNegative = Field(
        default=0.0,
        description=(
            "Extra cost of smuggled product (USD/t), lowering the netback of routes through "
            "the crossing while the closure lasts (averaged over what passes)."
        ),
    )
    ramp_days: NonNegative = Field(
        default=0.0,
        description=(
            "Days over which the crossing returns to full capacity after the closure ends, "
            "linearly from capacity_share + leak_share (0: at once)."
        ),
    )


class Offensive(Lasting):
    """Fighting at sites: production stops; at the end the attacker takes them with a chance."""

    kind: Literal["offensive"]
    """offensive: fighting at sites."""
    attacker: Id
    """The attacking group (a groups id)."""
    sites: Annotated[list[Id], Field(min_length=1)]
    """The sites fought over (sites ids, at least one): they produce nothing while it lasts."""
    capture_probability: Probability = 1.0
    """Chance (0..1) that the attacker takes the sites when the fighting ends."""

    @model_validator(mode="after")
    def _has_length(self) -> Offensive:
        if self.days is None and self.end is None:
            raise ValueError("an offensive needs days or end")
        return self


class ControlChange(EventBase):
    """Sites or crossings pass to another group (a negotiated handover, a capture outside the
    model: the KIA's capture of Lweje in April 2024 and of Kanpiketi on 2024-11-20)."""

    kind: Literal["control_change"]
    """control_change: sites or crossings pass to another group."""
    sites: list[Id] = Field(default=[], description="Sites that pass to the group.")
    crossings: list[Id] = Field(
        default=[], description="Crossings whose control passes to the group."
    )
    group: Id
    """Their new controller (a groups id)."""

    @model_validator(mode="after")
    def _hands_over(self) -> ControlChange:
        if not self.sites and not self.crossings:
            raise ValueError("name sites, crossings or both")
        return self


class ImportBan(Lasting):
    """An importer refuses a share of a group's output (China's ultimatum to the KIA), or of an
    origin country's (China's halt of imports from Myanmar)."""

    kind: Literal["import_ban"]
    """import_ban: an importer refuses a group's output."""
    importer: Id
    """The importer that refuses (an importers id)."""
    group: Id | None = Field(
        default=None, description="The group whose product is refused (give group or origin)."
    )
    origin: Id | None = Field(
        default=None,
        description=(
            "The origin country whose product is refused, whoever holds the sites (a site's "
            "country; give group or origin)."
        ),
    )
    fraction: Probability = 1.0
    """Share (0..1) of the group's output refused."""

    @model_validator(mode="after")
    def _one_target(self) -> ImportBan:
        if (self.group is None) == (self.origin is None):
            raise ValueError("give group or origin (one of them)")
        return self


class LevyChange(EventBase):
    """A group sets a new resource tax: per tonne (USD or CNY), as a share of value, or both.

    The new levy replaces the old one whole: a part it does not give is zero."""

    kind: Literal["levy_change"]
    """levy_change: a group sets a new resource tax."""
    group: Id
    """The group (a groups id)."""
    levy_usd_per_t: NonNegative = Field(
        default=0.0, description="New resource tax in US dollars per tonne of product (USD/t)."
    )
    levy_share: Probability = Field(default=0.0, description=LEVY_SHARE_DESCRIPTION)
    levy_cny_per_t: NonNegative = Field(default=0.0, description=LEVY_CNY_DESCRIPTION)

    @model_validator(mode="after")
    def _some_levy(self) -> LevyChange:
        if not {"levy_usd_per_t", "levy_share", "levy_cny_per_t"} & self.model_fields_set:
            raise ValueError("give levy_usd_per_t, levy_share or levy_cny_per_t (0 lifts it)")
        return self


class CapacityChange(Lasting):
    """Sites' or processors' capacity changes by a factor, for some days or for good (Ganzhou's
    separators cut by a quarter during the 2022 reclosure)."""

    kind: Literal["capacity_change"]
    """capacity_change: sites' or processors' capacity changes by a factor."""
    sites: list[Id] = Field(default=[], description="Sites whose mining capacity changes.")
    processors: list[Id] = Field(
        default=[], description="Processors whose separation capacity changes."
    )
    factor: Annotated[float, Field(ge=0.0, le=100.0, allow_inf_nan=False)] = Field(
        description=(
            "Multiplies the capacity (t/month) while the change lasts (dimensionless: 0.75 is "
            "25% less, 1.4 is 40% more); overlapping changes multiply; at the end the capacity "
            "is what it would be without this change."
        ),
    )

    @model_validator(mode="after")
    def _has_targets(self) -> CapacityChange:
        if not self.sites and not self.processors:
            raise ValueError("name sites, processors or both")
        return self


class TariffChange(EventBase):
    """An importer sets a new tariff on an origin country."""

    kind: Literal["tariff_change"]
    """tariff_change: an importer sets a new tariff."""
    importer: Id
    """The importer (an importers id)."""
    origin: Id
    """The origin country the tariff applies to (an id)."""
    rate: Probability
    """The new ad valorem tariff, a share 0..1 (0.4 is 40%)."""


class SanctionsChange(EventBase):
    """An importer imposes (fraction > 0) or lifts (fraction 0) sanctions on a group."""

    kind: Literal["sanctions"]
    """sanctions: an importer imposes or lifts sanctions on a group."""
    importer: Id
    """The importer (an importers id)."""
    group: Id
    """The sanctioned group (a groups id)."""
    fraction: Probability
    """Share (0..1) of the group's output refused from now on; 0 lifts the sanctions."""


class BuyersChange(Lasting):
    """A group changes whom it sells to (a US deal with the KIA adds the Quad; an empty list
    halts its sales), for some days (then the previous buyers return) or for good."""

    kind: Literal["buyers_change"]
    """buyers_change: a group changes whom it sells to."""
    group: Id
    """The group (a groups id)."""
    buyers: list[Id]
    """Its buyer countries (processor countries) while it lasts; an empty list halts its sales."""


class Interference(Lasting):
    """Extra interdiction on every leg of a route for some days (or for good)."""

    kind: Literal["interference"]
    """interference: extra interdiction on a route."""
    route: Id
    """The route (a routes id)."""
    interdiction: Probability
    """Extra chance (0..1) that a shipment on each of its legs is seized or lost."""


Event = Annotated[
    BorderClosure
    | Offensive
    | ControlChange
    | ImportBan
    | LevyChange
    | CapacityChange
    | TariffChange
    | SanctionsChange
    | BuyersChange
    | Interference,
    Field(discriminator="kind"),
]


class Decision(Frozen):
    """One random decision shared by several events (China closes six gates at once)."""

    probability: Probability = Field(
        default=1.0,
        description="Chance (0..1) that the decision is taken, and all its events happen.",
    )
    note: str = ""
    """Free text: sources and reasoning."""


class FreeParameter(Frozen):
    """A parameter that calibration may move, within bounds the docs justify."""

    low: float
    """Lowest value calibration may try, in the unit of the parameter's path."""
    high: float
    """Highest value calibration may try (same unit), above low."""
    why: str = ""
    """The justification for the bounds (sources), free text."""

    @model_validator(mode="after")
    def _ordered(self) -> FreeParameter:
        if not self.low < self.high:
            raise ValueError("need low < high")
        return self


class Scenario(Frozen):
    """A whole scenario after ``extends:`` and ``set:`` are resolved."""

    name: Name
    """The scenario's name: letters, digits and _ . -, a letter or digit first, at most 80
    characters; results go to ``results/<name>/``."""
    title: Annotated[str, Field(max_length=80)] = ""
    """A short human name (at most 80 characters) for figures, tables and reports; default: the
    name with spaces for underscores. Inherited through ``extends:`` like any key, so a derived
    scenario should set its own."""
    description: str = ""
    """Free text: what the scenario asks."""
    start: date
    """First day simulated (YYYY-MM-DD)."""
    end: date
    """Last day simulated (YYYY-MM-DD), after start."""
    run_from: date | None = None
    """Run the scenario from this date (YYYY-MM-DD) but report only from start: the months
    before start are a prefix (a history) that sets the state the reported horizon starts from
    (who holds which site, stockpiles, gate states, levies, plant ramps). Events may be dated
    from run_from on; start must then be the first day of a month. null: the run starts at
    start."""
    seed: Seed = 0
    """Master random seed (0 <= seed < 2^63): the same seed gives the same results."""
    replications: Annotated[int, Field(ge=1)] = 1
    """Independent runs (a count, at least 1), each drawing its own random values from the seed."""
    dispatch_days: Positive = 7.0
    """How often a site sends what it holds down its routes (days): batches shipments."""
    cny_per_usd: Annotated[float, Field(gt=0.0, le=1e6, allow_inf_nan=False)] = Field(
        default=7.2,
        description=(
            "Chinese yuan per US dollar (CNY per USD), converting levies given in CNY/t (7.2: the "
            "2024-25 rate, at which 35,000 CNY/t is ~4,860 USD/t, Reuters' ~4,800; docs/data.md)."
        ),
    )
    supply_response: SupplyResponse
    """How mining responds to margins (utilisation from USD/t margins)."""
    haulage: Haulage = Field(
        default=Haulage(),
        description="How fast stock leaves a site (the paced release of a backlog).",
    )
    groups: dict[Id, Group]
    """Armed groups and authorities that control ground and tax it, by id."""
    sites: dict[Id, Site]
    """Mining areas, by id."""
    crossings: dict[Id, Crossing]
    """Border gates and ports where imports are counted, by id."""
    processors: dict[Id, Processor]
    """Separation plants (or a country's plants together), by id."""
    importers: dict[Id, Importer]
    """Importing countries and their trade policy, by id."""
    routes: dict[Id, Route]
    """How product travels from sites to processors, by id."""
    other_supply: dict[Id, OtherSupply] = Field(
        default={},
        description=(
            "Supply from origins outside the model (other countries, domestic mining), by id, "
            "so that an importer's totals can be computed."
        ),
    )
    markets: dict[Id, Market] = Field(
        default={},
        description=(
            "By importer: its market for feed (which origins' shortfall its suppliers answer). "
            "An importer with responding suppliers has a market even if not listed."
        ),
    )
    seasons: dict[Id, Season] = Field(
        default={},
        description="Recurring monthly profiles of mining output or haulage (the monsoon), by id.",
    )
    events: dict[Id, Event] = Field(
        default={},
        description="What happens during the run, by id; each event's kind names its keys.",
    )
    decisions: dict[Id, Decision] = Field(
        default={},
        description=(
            "Random decisions shared by several events (each event names one in its decision "
            "key), so that a sweep varies one chance for all of them."
        ),
    )
    customs_scopes: dict[Id, Annotated[list[ScopeLevel], Field(min_length=1)]] = Field(
        default={},
        description=(
            "By origin country: how its product is declared at customs (shares by tariff "
            "code), so that imports can be reported in the scopes of trade statistics. Levels "
            "in date order."
        ),
    )
    free: dict[str, FreeParameter] = Field(
        default={},
        description="Calibration's free parameters: dotted path -> bounds (in the path's unit).",
    )

    @model_validator(mode="after")
    def _horizon(self) -> Scenario:
        if self.end <= self.start:
            raise ValueError("end must be after start")
        if self.run_from is not None:
            if self.run_from >= self.start:
                raise ValueError("run_from must be before start")
            if self.start.day != 1:
                raise ValueError("with run_from, start must be the first day of a month")
        return self

    @property
    def first_day(self) -> date:
        """The day the run begins: ``run_from`` when the scenario has a prefix, else ``start``."""
        return self.run_from if self.run_from is not None else self.start


Located = tuple[tuple[str | int, ...], str]

RESERVED_IMPORTER = "quad"
"""The id under which results report the Quad's importers together (each tonne once), so no
importer of a scenario may take it."""


def reference_problems(s: Scenario) -> list[Located]:
    """Every dangling reference and out-of-horizon date, as (key path, message) pairs.

    Kept apart from the pydantic validators so that all problems are reported at once, each at
    its own key rather than at the top of the document.
    """
    check = _References(s)
    if RESERVED_IMPORTER in s.importers:
        check.problems.append(
            (
                ("importers", RESERVED_IMPORTER),
                f"'{RESERVED_IMPORTER}' is reserved for the Quad's importers counted together; "
                "choose another id",
            )
        )
    for sid, site in s.sites.items():
        check.need("group", s.groups, site.group, ("sites", sid, "group"))
        for key in ("reagent_crossing", "fuel_crossing"):
            ref = getattr(site, key)
            if ref is not None:
                check.need("crossing", s.crossings, ref, ("sites", sid, key))
    check.control()
    for rid, route in s.routes.items():
        check.route(rid, route)
    for oid, other in s.other_supply.items():
        check.need("importer", s.importers, other.importer, ("other_supply", oid, "importer"))
    check.markets()
    for eid, event in s.events.items():
        check.event(eid, event)
    for zid, season in s.seasons.items():
        check.season(zid, season)
    check.scopes()
    return check.problems


class _References:
    """Collects reference problems of one scenario."""

    EVENT_REFS: ClassVar[dict[str, str]] = {
        "crossing": "crossings",
        "attacker": "groups",
        "group": "groups",
        "importer": "importers",
        "route": "routes",
    }

    def __init__(self, s: Scenario) -> None:
        self.s = s
        self.problems: list[Located] = []

    def control(self) -> None:
        """Crossings' importers and holders, and the groups transit policies refuse."""
        s = self.s
        for cid, crossing in s.crossings.items():
            self.need("importer", s.importers, crossing.importer, ("crossings", cid, "importer"))
            if crossing.group is not None:
                self.need("group", s.groups, crossing.group, ("crossings", cid, "group"))
        for gid, group in s.groups.items():
            for i, refused in enumerate(group.transit.refuses):
                self.need("group", s.groups, refused, ("groups", gid, "transit", "refuses", i))

    def need(self, kind: str, pool: dict[str, Any], ref: str, path: tuple[str | int, ...]) -> None:
        if ref not in pool:
            self.problems.append((path, f"unknown {kind} {ref!r}{_suggest(ref, pool)}"))

    def in_horizon(self, d: date, path: tuple[str | int, ...]) -> None:
        if not self.s.first_day <= d <= self.s.end:
            self.problems.append(
                (path, f"date {d} is outside the horizon {self.s.first_day}..{self.s.end}")
            )

    def route(self, rid: str, route: Route) -> None:
        s = self.s
        for i, site_id in enumerate(route.sites):
            self.need("site", s.sites, site_id, ("routes", rid, "sites", i))
        last = len(route.legs) - 1
        for i, leg in enumerate(route.legs):
            path = ("routes", rid, "legs", i, "to")
            self.need("crossing or processor", {**s.crossings, **s.processors}, leg.to, path)
            if i == last and leg.to in s.crossings:
                self.problems.append((path, "a route must end at a processor, not a crossing"))
            if i < last and leg.to in s.processors:
                self.problems.append((path, "only the last leg of a route may end at a processor"))

    def scopes(self) -> None:
        """Customs scopes must name an origin of the scenario, levels in date order."""
        origins = {site.country for site in self.s.sites.values()}
        origins |= {other.origin for other in self.s.other_supply.values()}
        for origin, levels in self.s.customs_scopes.items():
            path: tuple[str | int, ...] = ("customs_scopes", origin)
            self.need("origin", dict.fromkeys(origins), origin, path)
            for i in range(1, len(levels)):
                if levels[i].start <= levels[i - 1].start:
                    self.problems.append(
                        ((*path, i, "start"), "levels must be in date order, each after the last")
                    )

    def markets(self) -> None:
        s = self.s
        countries = {site.country: site for site in s.sites.values()}
        for mid, market in s.markets.items():
            self.need("importer", s.importers, mid, ("markets", mid))
            for i, origin in enumerate(market.origins or []):
                self.need("site country", countries, origin, ("markets", mid, "origins", i))
        shares: dict[str, float] = {}
        for other in s.other_supply.values():
            if other.response is not None:
                shares[other.importer] = shares.get(other.importer, 0.0) + other.response.share
        for importer, total in shares.items():
            if total > 1.0 + 1e-9:
                self.problems.append(
                    (
                        ("other_supply",),
                        f"the response shares of {importer}'s suppliers add up to {total:g}; "
                        "at most 1 (they share one shortfall)",
                    )
                )

    def season(self, zid: str, season: Season) -> None:
        base: tuple[str | int, ...] = ("seasons", zid)
        for i, site_id in enumerate(season.sites):
            self.need("site", self.s.sites, site_id, (*base, "sites", i))
        regions = {site.region: site for site in self.s.sites.values()}
        for i, region in enumerate(season.regions):
            self.need("site region", regions, region, (*base, "regions", i))
        if season.affects == "transport" and self.s.haulage.release_surge is None:
            self.problems.append(
                (
                    (*base, "affects"),
                    "a transport season lowers the sites' haulage, which needs "
                    "haulage.release_surge (the haulage is unlimited without it)",
                )
            )

    def decision(self, base: tuple[str | int, ...], event: EventBase) -> None:
        if event.decision is not None:
            self.need("decision", self.s.decisions, event.decision, (*base, "decision"))

    def event(self, eid: str, event: EventBase) -> None:
        base: tuple[str | int, ...] = ("events", eid)
        if isinstance(event.start, date):
            self.in_horizon(event.start, (*base, "start"))
        else:
            self.in_horizon(event.start.low, (*base, "start", "low"))
            self.in_horizon(event.start.high, (*base, "start", "high"))
        end = getattr(event, "end", None)
        latest = event.start if isinstance(event.start, date) else event.start.high
        if end is not None and end < latest:
            self.problems.append(((*base, "end"), f"end {end} is before the start {latest}"))
        for field, section in self.EVENT_REFS.items():
            ref = getattr(event, field, None)
            if isinstance(ref, str):
                kind = section.rstrip("s")
                self.need(kind, getattr(self.s, section), ref, (*base, field))
        for i, site_id in enumerate(getattr(event, "sites", [])):
            self.need("site", self.s.sites, site_id, (*base, "sites", i))
        for i, pid in enumerate(getattr(event, "processors", [])):
            self.need("processor", self.s.processors, pid, (*base, "processors", i))
        for i, cid in enumerate(getattr(event, "crossings", [])):
            self.need("crossing", self.s.crossings, cid, (*base, "crossings", i))
        self.decision(base, event)
        if isinstance(event, ImportBan) and event.origin is not None:
            countries = {site.country: site for site in self.s.sites.values()}
            self.need("site country", countries, event.origin, (*base, "origin"))


def _suggest(name: str, pool: dict[str, Any]) -> str:
    close = difflib.get_close_matches(name, list(pool), n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""
