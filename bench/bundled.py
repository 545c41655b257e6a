"""What the benchmarks share: the bundled scenarios they time, and a world with more sites.

Imported by the bench scripts (run as ``python bench/NAME.py``, which puts this folder first on
the import path).
"""

from __future__ import annotations

from typing import Any

FORWARD = [
    "baseline",
    "kia_offensive",
    "us_india_corridor",
    "china_ultimatum",
    "shan_uwsa_expansion",
    "junta_peace_deal",
    "resource_tax_shock",
]
"""The seven forward scenarios of the library (2026-2030, run from the end-2025 state)."""


def add_site_copies(data: dict[str, Any], scale: int) -> None:
    """Give every site of a resolved scenario (plain data) ``scale - 1`` copies: the same
    parameters under new ids (``<id>_<k>``), served by the same routes, so whatever settles
    sites has ``scale`` times as many to settle."""
    originals = list(data["sites"])
    for copy in range(1, scale):
        for sid in originals:
            data["sites"][f"{sid}_{copy}"] = dict(data["sites"][sid])
        for route in data["routes"].values():
            route["sites"] += [f"{sid}_{copy}" for sid in route["sites"] if sid in originals]
