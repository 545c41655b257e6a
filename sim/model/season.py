"""Seasons: recurring monthly profiles that lower sites' mining output or haulage (the monsoon).

A season's depth d in a calendar month multiplies what it affects by (1 - d) for that whole
month; several seasons on one site multiply. The factors are worked out once per replication,
by site and month of the horizon, and applied at each month boundary (a state change: the
sites settle first), so mining stays closed-form between boundaries.
"""

from __future__ import annotations

from sim.model.clock import Clock
from sim.scenario import schema as spec


def factors(scenario: spec.Scenario, clock: Clock) -> tuple[list[list[float]], list[list[float]]]:
    """(mining, transport) multipliers by site (scenario order) and month of the horizon."""
    months = clock.month_starts
    mining = [[1.0] * len(months) for _ in scenario.sites]
    transport = [[1.0] * len(months) for _ in scenario.sites]
    for season in scenario.seasons.values():
        table = mining if season.affects == "mining" else transport
        for i, (sid, site) in enumerate(scenario.sites.items()):
            if not applies(season, sid, site):
                continue
            for k, first in enumerate(months):
                if season.years is None or first.year in season.years:
                    table[i][k] *= 1.0 - season.depth.of(first.month)
    return mining, transport


def applies(season: spec.Season, sid: str, site: spec.Site) -> bool:
    """Whether a season covers a site: named, in one of its regions, or every site when it
    names neither."""
    if not season.sites and not season.regions:
        return True
    return sid in season.sites or site.region in season.regions
