"""What a replication costs after it is simulated: its tally, and writing it, against simulating it.

    python bench/bench_tally.py [--replications 9] [--scenario NAME ...]

For each bundled scenario at its own horizon (what ``sim run`` does), replication by
replication: the milliseconds of ``simulate`` and of ``tally`` (the ledger reduced to the
monthly arrays a run keeps and writes: imports, the Quad series, flows, timeline, events,
KPIs; what a worker sends back), as medians over ``--replications`` replications, and their
ratio; then the milliseconds a replication of writing those tallies' CSV files (``RunWriter``:
flows, timeline and events appended in chunks, imports at the end), the total divided by the
replications. CPU time of this process (a loaded machine inflates it far less than wall time).

Not a test: timings depend on the machine and on whatever else runs on it (the load average is
printed with the figures).
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bundled import FORWARD  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.model.engine import simulate  # noqa: E402
from sim.results.files import RunWriter  # noqa: E402
from sim.results.tally import Tally, tally  # noqa: E402
from sim.scenario.schema import Scenario  # noqa: E402

SCENARIOS = [*FORWARD, "history", "history_2025"]


def measure(scenario: Scenario, count: int) -> tuple[float, float, float]:
    """Median CPU ms of simulate and of tally a replication, and CPU ms a replication of
    writing the tallies' files."""
    clock = time.process_time
    sims, tallies, done = [], [], []
    for i in range(count):
        started = clock()
        rep = simulate(scenario, scenario.seed, i)
        sims.append(clock() - started)
        started = clock()
        done.append(tally(scenario, rep))
        tallies.append(clock() - started)
    with tempfile.TemporaryDirectory(prefix="bench_tally.") as folder:
        started = clock()
        write(Path(folder), scenario, done)
        writing = (clock() - started) / count
    return statistics.median(sims) * 1e3, statistics.median(tallies) * 1e3, writing * 1e3


def write(folder: Path, scenario: Scenario, done: list[Tally]) -> None:
    """The streaming writer's work for these tallies (``sim run --out``)."""
    writer = RunWriter(folder, scenario, len(done))
    for t in done:
        writer.add(t)
    writer.finish(np.stack([t.imports for t in done]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--replications", type=int, default=9)
    parser.add_argument("--scenario", action="append", help="a bundled scenario's name")
    args = parser.parse_args()
    print(
        f"bench_tally: CPU ms a replication, medians of {args.replications}; {os.cpu_count()} "
        f"cores, load average {os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"   {'scenario':<22}{'horizon':>10}{'simulate':>10}{'tally':>8}{'tally/sim':>11}"
        f"{'write':>8}"
    )
    for name in args.scenario or SCENARIOS:
        path = ROOT / "scenarios" / f"{name}.yaml"
        if not path.exists():
            continue
        scenario = load_scenario(path)
        sim_ms, tally_ms, write_ms = measure(scenario, args.replications)
        horizon = f"{scenario.start.year}-{scenario.end.year}"
        print(
            f"   {name:<22}{horizon:>10}{sim_ms:>10.1f}{tally_ms:>8.1f}{tally_ms / sim_ms:>11.2f}"
            f"{write_ms:>8.1f}",
            flush=True,
        )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
