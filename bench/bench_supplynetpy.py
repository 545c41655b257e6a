"""Side by side with SupplyNetPy: the bundled world's network, 10 simulated years, in each.

    python bench/bench_supplynetpy.py [--repeats 3] [--venv DIR] [--scales 1 8] [--other PYTHON]

SupplyNetPy (PyPI ``supplynetpy``) is a SimPy library of generic supply-chain nodes; it is not
a dependency of this project. It is installed into its own virtual environment (default
``~/.cache/sim-bench/supplynetpy``, created on first use with this Python's ``venv`` and pip);
when that cannot be done (no network, no package), the comparison is skipped with a message.

The network is ``scenarios/kia_offensive.yaml``'s, over 10 simulated years from its
``run_from`` (2018-2027: the recorded history, then the offensive), at 1x and 8x its mining
sites (as ``bench_closures.py``). In SupplyNetPy, as its documentation sets such a network up:

- every mining site is a ``supplier`` (a raw-material supplier that mines while its inventory
  is not full), its inventory capacity the site's stockpile limit (the same rule as this
  model's: when full, mining stops until product leaves), mining what the site mined in this
  model's replication (so that both move the same tonnes, printed side by side);
- every gate and plant a ``distributor`` ordering from its suppliers (the sites whose routes
  cross the gate; the gates feeding the plant) what reaches it, at most what a gate passes a
  day, one order a supplier a step (this model ships once a site every dispatch), each to a
  supplier drawn in proportion to what it supplies (``SelectProbabilistic``: SupplyNetPy sends
  an order whole to one supplier, and only when that supplier holds all of it);
- every plant has a customer demand that takes what the plant holds (``consume_available``),
  up to its capacity; links take the route legs' days.

Two granularities: ``model`` steps are this model's (a week's output mined and ordered every
``dispatch_days``, demand monthly, as its processors work), the like-for-like; ``daily`` is
SupplyNetPy's usual setting (mined, ordered and demanded every day), shown for what users of it
would write. Each is run with SupplyNetPy's logging off and on (``simulate_sc_net``'s default:
a trace to a file and the screen). Times are CPU seconds of each process, medians of
``--repeats`` (one run where it takes over 5 s).
The target (docs/performance.md): this model at least 50x faster.

This model's engine is named (pure Python or compiled, ``SIM_COMPILE=1 pip install .``);
``--other PYTHON`` also times this model with that environment's installed package (the other
build) and gives SupplyNetPy's times as multiples of both.

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

import yaml

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = "SIM_BENCH_INSTALLED"
"""Set (by ``--other``): import the environment's installed package, not this checkout's."""
if not os.environ.get(INSTALLED):
    sys.path.insert(0, str(ROOT))

from bundled import add_site_copies  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.model import world  # noqa: E402
from sim.model.clock import DAYS_PER_MONTH  # noqa: E402
from sim.model.engine import simulate  # noqa: E402

DEFAULT_VENV = Path.home() / ".cache" / "sim-bench" / "supplynetpy"

CHILD = r"""
import json, statistics, sys, time
import SupplyNetPy.Components as scm

net, repeats, logging = json.loads(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "on"
step, every = net["step"], net["demand_every"]


def probabilities(shares):
    total = sum(shares.values())
    return {k: v / total for k, v in shares.items()}


def buyer(node):
    # an order for one supplier's share of a step's inflow, as many times a step as it has
    # suppliers (this model ships once a site every dispatch_days), each from a supplier drawn
    # in proportion to what each supplies
    period = step / len(node["from"])
    return {"ID": node["id"], "name": node["id"], "node_type": "distributor",
            "capacity": node["capacity"], "initial_level": 0,
            "inventory_holding_cost": 0.0, "replenishment_policy": scm.PeriodicReplenishment,
            "policy_param": {"T": period, "Q": node["inflow_tpd"] * period},
            "supplier_selection_policy": scm.SelectProbabilistic,
            "supplier_selection_param": {"probabilities": probabilities(node["from"])},
            "product_buy_price": 1, "product_sell_price": 2}


def build():
    nodes, links, demands = [], [], []
    for site in net["sites"]:
        ore = scm.RawMaterial(ID="ore_" + site["id"], name="ore", mining_cost=1, cost=1,
                              extraction_quantity=site["tpd"] * step, extraction_time=step)
        nodes.append({"ID": site["id"], "name": site["id"], "node_type": "supplier",
                      "capacity": site["stock"], "initial_level": 0,
                      "inventory_holding_cost": 0.0, "raw_material": ore})
    for node in net["gates"] + net["plants"]:
        nodes.append(buyer(node))
    for plant in net["plants"]:
        demands.append({"ID": "demand_" + plant["id"], "name": "demand",
                        "order_arrival_model": (lambda e=every: e),
                        "order_quantity_model": (lambda q=plant["tpd"] * every: q),
                        "consume_available": True, "demand_node": plant["id"]})
    for k, (a, b, d) in enumerate(net["links"]):
        links.append({"ID": f"L{k}", "source": a, "sink": b, "cost": 1,
                      "lead_time": (lambda d=d: d)})
    return scm.create_sc_net(nodes=nodes, links=links, demands=demands)


times = []
for _ in range(repeats):
    scm.set_seed(1)
    network = build()
    started = time.process_time()
    scm.simulate_sc_net(network, sim_time=net["days"], logging=logging)
    times.append(time.process_time() - started)
    if times[0] > 5:  # one run of a slow configuration is enough to time it
        break
nodes = network["nodes"].values()
print(json.dumps({
    "seconds": statistics.median(times),
    "runs": len(times),
    "events": int(next(network["env"]._eid)),
    "mined": sum(n.stats.total_raw_materials_mined for n in nodes
                 if hasattr(n.stats, "total_raw_materials_mined")),
    "delivered": sum(network["nodes"][p["id"]].stats.fulfillment_received[1]
                     for p in net["plants"]),
    "processed": sum(d.stats.fulfillment_received[1] for d in network["demands"].values()),
}))
"""
"""SupplyNetPy's side, run in its venv: ``python -c CHILD network repeats logging``. Prints the
median CPU seconds of ``simulate_sc_net``, its SimPy events and the tonnes mined, delivered to
the plants and taken by their demand."""


def tonnes(ledger: Any) -> dict[str, float]:
    """Tonnes mined, delivered to processors and processed in one replication of this model."""
    return {
        "mined": sum(r[4] + r[5] for r in ledger.mined.rows()),
        "delivered": sum(r[5] + r[6] for r in ledger.delivered.rows()),
        "processed": sum(r[2] + r[3] for r in ledger.processed.rows()),
    }


def network(scenario: Any, granularity: str, mined: dict[str, float]) -> dict[str, Any]:
    """Sites, gates, plants and links of a scenario (tonnes per day, days) as the child builds
    them; ``granularity`` is ``model`` (SupplyNetPy stepped as this model decides: a week of
    output mined and ordered every ``dispatch_days``, the plants' demand monthly) or ``daily``
    (mined, ordered and demanded every day, as SupplyNetPy's examples are).

    Each site mines what it mined in this model's replication (``mined``, tonnes a day over the
    horizon), so that both move the same tonnes. What a buyer orders a day is what reaches it
    a day: its sites' output, split evenly between the routes a site is on, and at most a
    gate's daily capacity (a gate's suppliers are ordered from in proportion to what each
    supplies)."""
    step = float(scenario.dispatch_days) if granularity == "model" else 1.0
    tpd = {sid: max(mined.get(sid, 0.0), 1e-3) for sid in scenario.sites}
    links: set[tuple[str, str, float]] = set()
    feeds: dict[str, dict[str, float]] = {}  # buyer -> its suppliers -> tonnes a day
    for route in scenario.routes.values():
        for sid in route.sites:
            carried = tpd[sid] / sum(1 for r in scenario.routes.values() if sid in r.sites)
            source = sid
            for leg in route.legs:
                links.add((source, leg.to, float(leg.days)))
                into = feeds.setdefault(leg.to, {})
                into[source] = into.get(source, 0.0) + carried
                source = leg.to
    gates = [g for g in scenario.crossings if g in feeds]
    plants = [p for p in scenario.processors if p in feeds]
    passed = {g: min(sum(feeds[g].values()), scenario.crossings[g].capacity_tpd) for g in gates}
    for into in feeds.values():  # what leaves a gate is what it passes
        for source in into:
            if source in passed:
                into[source] = passed[source] * into[source] / sum(feeds[source].values())
    plant_order = {p: sum(feeds[p].values()) * step / len(feeds[p]) for p in plants}
    return {
        "step": step,
        "demand_every": DAYS_PER_MONTH if granularity == "model" else 1.0,
        "days": (scenario.end - scenario.start).days + 1,
        "sites": [
            {"id": sid, "tpd": tpd[sid], "stock": float(s.stockpile_limit_t)}
            for sid, s in scenario.sites.items()
        ],
        "gates": [
            {
                "id": g,
                # a week of what it can pass, and room for a plant's order
                "capacity": max(7 * scenario.crossings[g].capacity_tpd, *plant_order.values()),
                "inflow_tpd": passed[g],
                "from": feeds[g],
            }
            for g in gates
        ],
        "plants": [
            {
                "id": p,
                "capacity": DAYS_PER_MONTH * _tpd(scenario.processors[p]),
                "inflow_tpd": sum(feeds[p].values()),
                "from": feeds[p],
                "tpd": _tpd(scenario.processors[p]),
            }
            for p in plants
        ],
        "links": sorted(links),
    }


def _tpd(node: Any) -> float:
    """A site's or processor's monthly capacity (both products) in tonnes a day."""
    return float((node.capacity_tpm.mhree + node.capacity_tpm.lree) / DAYS_PER_MONTH)


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


def ten_years(scale: int, folder: Path) -> Any:
    """kia_offensive over 10 years from its start, with ``scale`` x its sites: at 8x every site
    gets seven copies (same parameters, new ids, served by the same routes), as in
    ``bench_closures.py``. A forward scenario simulates the history from its ``run_from``
    (2018) before its own start (2026) and reports only from its start; here its 10 simulated
    years are counted, and reported, from ``run_from``: 2018-2027, the recorded history and
    the offensive's first two years."""
    path = ROOT / "scenarios" / "kia_offensive.yaml"
    data: dict[str, Any] = load_scenario(path).model_dump(mode="json")
    if data.get("run_from"):  # the history before the forward years is simulated: report it
        data["start"], data["run_from"] = data["run_from"], None
    start = date.fromisoformat(data["start"])
    end = date(start.year + 10, start.month, start.day) - timedelta(days=1)
    data["end"] = end.isoformat()
    add_site_copies(data, scale)
    written = folder / f"kia_offensive_{scale}x.yaml"
    written.write_text(yaml.safe_dump(data, sort_keys=False))
    return load_scenario(written)


def ours(scenario: Any, repeats: int) -> tuple[float, Any]:
    """Median CPU seconds of one replication of this model, and the replication."""
    times = []
    for _ in range(repeats):
        started = time.process_time()
        rep = simulate(scenario, 1, 0)
        times.append(time.process_time() - started)
    return statistics.median(times), rep


def mined_per_day(scenario: Any, ledger: Any) -> dict[str, float]:
    """Tonnes a day each site mined over the horizon in a replication of this model."""
    days = (scenario.end - scenario.start).days + 1
    ids = list(scenario.sites)
    out = dict.fromkeys(ids, 0.0)
    for r in ledger.mined.rows():
        out[ids[r[2]]] += (r[4] + r[5]) / days
    return out


def theirs(python: Path, net: dict[str, Any], repeats: int, logging: str) -> dict[str, Any]:
    """SupplyNetPy's figures for the network (in its venv, in a folder for its log file)."""
    with tempfile.TemporaryDirectory(prefix="bench_supplynetpy.") as tmp:
        out = subprocess.run(
            [str(python), "-c", CHILD, json.dumps(net), str(repeats), logging],
            check=True,
            capture_output=True,
            text=True,
            cwd=tmp,
        )
    result: dict[str, Any] = json.loads(out.stdout.strip().splitlines()[-1])
    return result


def row(
    label: str,
    seconds: float,
    events: int,
    moved: dict[str, float],
    mine: float,
    other: float | None = None,
) -> str:
    return (
        f"   {label:<34}{seconds * 1e3:>9.1f}{events:>11,}{moved['mined'] / 1e3:>8.0f}"
        f"{moved['delivered'] / 1e3:>8.0f}{moved['processed'] / 1e3:>8.0f}{seconds / mine:>8.1f}"
        + (f"{seconds / other:>9.1f}" if other else "")
    )


def engine() -> str:
    """Which engine this process imported: compiled (mypyc) or pure Python."""
    return "pure Python" if (world.__file__ or "").endswith(".py") else "compiled (mypyc)"


def other_build(python: str, scenario_file: Path, repeats: int) -> dict[str, Any]:
    """``ours`` in another environment's installed package (run with ``--ours``)."""
    env = {**os.environ, INSTALLED: "1"}
    env.pop("PYTHONPATH", None)
    command = [python, __file__, "--ours", str(scenario_file), "--repeats", str(repeats)]
    done = subprocess.run(command, env=env, cwd="/", capture_output=True, text=True, check=True)
    result: dict[str, Any] = json.loads(done.stdout.splitlines()[-1])
    return result


def ours_json(path: Path, repeats: int) -> None:
    """``--ours``: this model's figures for a scenario file, as one line of JSON."""
    seconds, rep = ours(load_scenario(path), repeats)
    moved = tonnes(rep.ledger)
    print(json.dumps({"engine": engine(), "seconds": seconds, "events": rep.simpy_events, **moved}))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--venv", type=Path, default=DEFAULT_VENV)
    parser.add_argument("--scales", type=int, nargs="+", default=[1, 8])
    parser.add_argument("--other", metavar="PYTHON", help="also time this model's other build")
    parser.add_argument("--ours", type=Path, help=argparse.SUPPRESS)  # what --other runs
    args = parser.parse_args()
    if args.ours:
        ours_json(args.ours, args.repeats)
        return
    print(
        f"bench_supplynetpy: kia_offensive's network, 10 simulated years, CPU ms (medians of "
        f"{args.repeats}); {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start"
    )
    print(f"   this model: {engine()}")
    python = ensure_venv(args.venv)
    if python is None:
        return
    with tempfile.TemporaryDirectory(prefix="bench_supplynetpy.") as folder:
        for scale in args.scales:
            scenario = ten_years(scale, Path(folder))
            mine, rep = ours(scenario, args.repeats)
            mined = mined_per_day(scenario, rep.ledger)
            net = network(scenario, "model", mined)
            print(
                f"   {scale}x: {len(net['sites'])} mining sites, {len(net['gates'])} gates, "
                f"{len(net['plants'])} plant(s) fed ({len(scenario.processors)} in the scenario), "
                f"{len(net['links'])} links"
            )
            other = None
            if args.other:
                written = Path(folder) / f"kia_offensive_{scale}x.yaml"
                other = other_build(args.other, written, args.repeats)
            print(
                f"   {'':<34}{'ms':>9}{'events':>11}{'mined':>8}{'deliv.':>8}{'proc.':>8}"
                f"{'x ours':>8}" + (f"{'x other':>9}" if other else "") + "   (kt over 10 years)"
            )
            seconds = other["seconds"] if other else None
            print(row(f"this model, {engine()}", mine, rep.simpy_events, tonnes(rep.ledger), mine))
            if other:
                label = f"this model, {other['engine']}"
                print(row(label, other["seconds"], other["events"], other, mine, seconds))
            for granularity in ("model", "daily"):
                net = network(scenario, granularity, mined)
                for logging in ("off", "on"):
                    got = theirs(python, net, args.repeats, logging)
                    label = f"SupplyNetPy {granularity} steps, log {logging}"
                    print(row(label, got["seconds"], got["events"], got, mine, seconds), flush=True)
    print("   target: SupplyNetPy >= 50x this model's time (docs/performance.md)")
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
