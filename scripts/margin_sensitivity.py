"""How much of each scenario's shortfall hangs on the miners' supply response: the shortfall of
China's imports from Myanmar (2026-2030, paired with the baseline run under the same value) for
low, central and high values of the two unsourced parameters of the margin model.

    python scripts/margin_sensitivity.py [replications]     # Markdown, about a minute

The baseline is re-run with each value, so the shortfall measures the scenario, not the shift
of the reference (a sweep's baseline stays at the central value).
"""

from __future__ import annotations

import sys
from pathlib import Path

from sim import load_scenario
from sim.compare import compare

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
NAMES = ["resource_tax_shock", "china_ultimatum", "kia_offensive", "us_india_corridor"]
VALUES = {
    "supply_response.elasticity": [0.5, 1.0, 1.5],
    "supply_response.full_margin_usd_per_t": [9000, 12000, 15000],
}


def shortfalls(path: str, value: float, replications: int) -> list[float]:
    """Mean shortfall (%) of each scenario of NAMES against the baseline, both at ``value``."""
    runs = [
        load_scenario(SCENARIOS / f"{name}.yaml", overrides={path: value})
        for name in ["baseline", *NAMES]
    ]
    kpis = compare(runs, replications=replications).kpis
    rows = kpis[(kpis.kpi == "shortfall_pct") & (kpis.year == "all") & (kpis["product"] == "all")]
    return [float(rows[rows.scenario == name]["mean"].iloc[0]) for name in NAMES]


def main(replications: int) -> str:
    head = "| parameter | value | " + " | ".join(NAMES) + " |"
    lines = [head, "|---|---:|" + "---:|" * len(NAMES)]
    for path, values in VALUES.items():
        for value in values:
            cells = " | ".join(f"{x:.1f}%" for x in shortfalls(path, value, replications))
            lines.append(f"| `{path}` | {value:g} | {cells} |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 5))
