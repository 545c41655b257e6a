"""Side by side with SupplyNetPy: the bundled world's network, 10 simulated years, in each.

    python bench/bench_supplynetpy.py [--repeats 5] [--venv DIR]

SupplyNetPy (PyPI ``supplynetpy``) is a SimPy library of generic supply-chain nodes; it is not
a dependency of this project. It is installed into its own virtual environment (default
``~/.cache/sim-bench/supplynetpy``, created on first use with this Python's ``venv`` and pip);
when that cannot be done (no network, no package), the comparison is skipped with a message.

The equivalent network is read from ``scenarios/kia_offensive.yaml``: every mining site is a
mining supplier (its monthly capacity mined daily, its stockpile limit as capacity); every
border gate a distributor holding a week of its daily capacity, reordering from the sites whose
routes cross it; every processor a distributor reordering from the gates, and a daily demand
at its monthly capacity; links take the route legs' days. Both run 10 simulated years in one
process: this model's replication (``simulate``, the median of ``--repeats``) against
SupplyNetPy's ``simulate_sc_net`` (the median of ``--repeats`` runs in its venv), with its
logging off and with it on (its default).
The target (docs/performance.md): this model at least 50x faster.

Not a test: timings depend on the machine and on whatever else runs on it (the load average is
printed with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from datetime import date, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from sim import load_scenario  # noqa: E402
from sim.model.engine import simulate  # noqa: E402

DAYS = 3652
DEFAULT_VENV = Path.home() / ".cache" / "sim-bench" / "supplynetpy"

CHILD = r"""
import json, statistics, sys, time
import SupplyNetPy.Components as scm

net, repeats, days = json.loads(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3])
logging = sys.argv[4] == "on"


def build():
    nodes, links, demands = [], [], []
    for site in net["sites"]:
        ore = scm.RawMaterial(ID="ore_" + site["id"], name="ore", mining_cost=1, cost=1,
                              extraction_quantity=site["tpd"], extraction_time=1)
        nodes.append({"ID": site["id"], "name": site["id"], "node_type": "supplier",
                      "capacity": site["stock"], "initial_level": 0,
                      "inventory_holding_cost": 0.0, "raw_material": ore})
    for gate in net["gates"]:
        week = 7 * gate["tpd"]
        nodes.append({"ID": gate["id"], "name": gate["id"], "node_type": "distributor",
                      "capacity": week, "initial_level": 0, "inventory_holding_cost": 0.0,
                      "replenishment_policy": scm.SSReplenishment,
                      "policy_param": {"s": week / 2, "S": week},
                      "product_buy_price": 1, "product_sell_price": 2})
    for plant in net["plants"]:
        month = 30 * plant["tpd"]
        nodes.append({"ID": plant["id"], "name": plant["id"], "node_type": "distributor",
                      "capacity": month, "initial_level": 0, "inventory_holding_cost": 0.0,
                      "replenishment_policy": scm.SSReplenishment,
                      "policy_param": {"s": month / 2, "S": month},
                      "product_buy_price": 2, "product_sell_price": 3})
        demands.append({"ID": "demand_" + plant["id"], "name": "demand",
                        "order_arrival_model": lambda: 1,
                        "order_quantity_model": (lambda q=plant["tpd"]: q),
                        "demand_node": plant["id"]})
    for k, (a, b, d) in enumerate(net["links"]):
        links.append({"ID": f"L{k}", "source": a, "sink": b, "cost": 1,
                      "lead_time": (lambda d=d: d)})
    return scm.create_sc_net(nodes=nodes, links=links, demands=demands)


times = []
for _ in range(repeats):
    network = build()
    started = time.perf_counter()
    scm.simulate_sc_net(network, sim_time=days, logging=logging)
    times.append(time.perf_counter() - started)
env = network["env"]
print(json.dumps({"seconds": statistics.median(times), "events": int(next(env._eid))}))
"""


def network(scenario: Any) -> dict[str, Any]:
    """Sites, gates, plants and links of a scenario (tonnes per day, days)."""
    gates = {gid: c.capacity_tpd for gid, c in scenario.crossings.items()}
    links: set[tuple[str, str, float]] = set()
    used_gates, used_plants = set(), set()
    for route in scenario.routes.values():
        hops = [leg.to for leg in route.legs]
        for sid in route.sites:
            first = route.legs[0]
            links.add((sid, first.to, float(first.days)))
        for leg_from, leg in zip(hops, route.legs[1:], strict=False):
            links.add((leg_from, leg.to, float(leg.days)))
        used_gates |= {h for h in hops if h in gates}
        used_plants |= {h for h in hops if h in scenario.processors}
    return {
        "sites": [
            {
                "id": sid,
                "tpd": (s.capacity_tpm.mhree + s.capacity_tpm.lree) / 30.44,
                "stock": max(1.0, s.stockpile_limit_t or 1.0),
            }
            for sid, s in scenario.sites.items()
        ],
        "gates": [{"id": g, "tpd": gates[g]} for g in sorted(used_gates)],
        "plants": [
            {
                "id": p,
                "tpd": (
                    scenario.processors[p].capacity_tpm.mhree
                    + scenario.processors[p].capacity_tpm.lree
                )
                / 30.44,
            }
            for p in sorted(used_plants)
        ],
        "links": sorted(links),
    }


def ensure_venv(folder: Path) -> Path | None:
    """The venv's python with supplynetpy installed, or None (with a message) when it cannot
    be had."""
    python = folder / "bin" / "python"
    check = [str(python), "-c", "import SupplyNetPy.Components"]
    if python.exists() and subprocess.run(check, capture_output=True).returncode == 0:
        return python
    print(f"   installing supplynetpy into {folder} (once)...", flush=True)
    try:
        venv.create(folder, with_pip=True, clear=True)
        subprocess.run(
            [str(python), "-m", "pip", "install", "-q", "supplynetpy"],
            check=True,
            capture_output=True,
            timeout=600,
        )
    except (OSError, subprocess.SubprocessError) as exc:
        print(f"   skipped: SupplyNetPy cannot be installed here ({type(exc).__name__})")
        return None
    if subprocess.run(check, capture_output=True).returncode != 0:
        print("   skipped: SupplyNetPy installed but does not import")
        return None
    return python


def ten_years() -> Any:
    base = load_scenario(ROOT / "scenarios" / "kia_offensive.yaml")
    end = date(base.start.year + 10, base.start.month, base.start.day) - timedelta(days=1)
    return load_scenario(ROOT / "scenarios" / "kia_offensive.yaml", {"end": end.isoformat()})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    args = parser.parse_args()
    print(
        f"bench_supplynetpy: kia_offensive's network, 10 simulated years; {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.2f} at start"
    )
    scenario = ten_years()
    python = ensure_venv(args.venv)
    if python is None:
        return
    times = []
    for _ in range(args.repeats):
        started = time.perf_counter()
        ours = simulate(scenario, 1, 0)
        times.append(time.perf_counter() - started)
    mine = statistics.median(times)
    description = json.dumps(network(scenario))
    sites, gates = len(scenario.sites), len(json.loads(description)["gates"])
    print(f"   network: {sites} mining sites, {gates} gates, {len(scenario.processors)} plants")
    print(f"   {'':<28}{'ms':>10}{'SimPy events':>14}{'x this model':>14}")
    print(f"   {'this model':<28}{mine * 1e3:>10.1f}{ours.simpy_events:>14,}{1:>14.1f}")
    for logging in ("off", "on"):
        with tempfile.TemporaryDirectory(prefix="bench_supplynetpy.") as tmp:  # its log file
            out = subprocess.run(
                [str(python), "-c", CHILD, description, str(args.repeats), str(DAYS), logging],
                check=True,
                capture_output=True,
                text=True,
                cwd=tmp,
            )
        theirs = json.loads(out.stdout.strip().splitlines()[-1])
        label = f"SupplyNetPy, logging {logging}"
        print(
            f"   {label:<28}{theirs['seconds'] * 1e3:>10.1f}{theirs['events']:>14,}"
            f"{theirs['seconds'] / mine:>14.1f}"
        )
    print("   target: SupplyNetPy >= 50x this model's time")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
