"""Small worlds with known answers, built as plain data and validated like any scenario."""

from __future__ import annotations

import copy
from typing import Any

from sim.model.clock import DAYS_PER_MONTH
from sim.model.engine import Replication
from sim.scenario.paths import set_in
from sim.scenario.schema import Scenario

RATE = 100.0
"""Tonnes per day mined at the one site of the small world."""


def one_site(**events: dict[str, Any]) -> dict[str, Any]:
    """One site (100 t/day, all mhree) -> one gate (300 t/day) -> one plant, dispatching daily.

    Margins are ample so utilisation is 1; the stockpile is effectively unlimited.
    """
    return {
        "name": "one_site",
        "start": "2024-01-01",
        "end": "2024-12-31",
        "seed": 7,
        "dispatch_days": 1,
        "supply_response": {"full_margin_usd_per_t": 1000, "elasticity": 1.0},
        "haulage": {"release_surge": None},
        "groups": {
            "kia": {"name": "KIA", "levy_usd_per_t": 0, "buyers": ["china", "india"]},
            "bgf": {"name": "BGF", "levy_usd_per_t": 0, "buyers": ["china"]},
        },
        "sites": {
            "mine": {
                "name": "Mine",
                "region": "kachin",
                "group": "kia",
                "capacity_tpm": {"mhree": RATE * DAYS_PER_MONTH, "lree": 0},
                "operating_cost_usd_per_t": 0,
                "stockpile_limit_t": 1e9,
            },
        },
        "crossings": {"gate": {"name": "Gate", "importer": "china", "capacity_tpd": 300}},
        "processors": {
            "plant": {
                "name": "Plant",
                "country": "china",
                "capacity_tpm": {"mhree": 1e6, "lree": 1e6},
                "price_usd_per_t": {"mhree": 2000, "lree": 2000},
            },
        },
        "importers": {"china": {"name": "China"}, "india": {"name": "India", "quad": True}},
        "routes": {
            "road": {
                "sites": ["mine"],
                "legs": [{"to": "gate", "days": 1}, {"to": "plant", "days": 2}],
            },
        },
        "events": copy.deepcopy(events),
    }


def build(data: dict[str, Any], **overrides: Any) -> Scenario:
    """Validate a world, after dotted-path overrides (``sites__mine__group`` style keys are
    not needed: pass a dict of dotted paths)."""
    for path, value in overrides.items():
        data = set_in(data, path.replace("__", "."), value)
    return Scenario.model_validate(data)


def overlap(
    records: list[tuple[Any, ...]], t0: int, t1: int, cols: tuple[int, ...], a: float, b: float
) -> float:
    """Tonnes of flow records (spread evenly over [t0, t1]) falling within [a, b]."""
    total = 0.0
    for r in records:
        start, end, tonnes = r[t0], r[t1], sum(r[c] for c in cols)
        if end <= start:
            total += tonnes if a <= start < b else 0.0
        else:
            total += tonnes * max(0.0, min(b, end) - max(a, start)) / (end - start)
    return total


def passed(rep: Replication, a: float, b: float) -> float:
    return overlap(rep.ledger.passed, 0, 1, (6, 7), a, b)


def mined(rep: Replication, a: float, b: float) -> float:
    return overlap(rep.ledger.mined, 0, 1, (4, 5), a, b)


def closure(
    start: str, days: float | None, policy: str = "hold", crossing: str = "gate", **more: Any
) -> dict[str, Any]:
    """A closure of the small world's gate; ``more`` adds keys (goods, capacity_share, ...)."""
    return {
        "kind": "border_closure",
        "crossing": crossing,
        "start": start,
        "days": days,
        "in_transit": policy,
        **more,
    }


def china_ban(fraction: float, start: str = "2024-04-01") -> dict[str, Any]:
    """China refuses ``fraction`` of the KIA's output from ``start`` on."""
    return {
        "kind": "import_ban",
        "importer": "china",
        "group": "kia",
        "fraction": fraction,
        "start": start,
    }
