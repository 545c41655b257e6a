"""Engine benchmark: prints medians for single replications and for 1,000 replications.

    python bench/bench_engine.py [--repeats 7] [--replications 1000] [--other PYTHON]

1. each bundled scenario, one 10-year replication: wall time, SimPy events, events per second,
   and the ratio of its time to a bare SimPy loop of a FIXED 7,000 timeouts, timed in the same
   process (fixed, so that a replication that needs fewer events counts as faster), as the
   median of alternating pairs, by wall time and by this process's CPU time (steadier when
   the machine is shared). Twice: (a) 10 reported years, the forward years a planner reads,
   which a forward scenario runs after its history prefix from ``run_from`` (18 simulated
   years in all); (b) 10 simulated years from ``run_from`` (2018-2027: the history, then the
   scenario's first two years), the unit issue #15's targets were set in, before forward
   scenarios had a prefix;
2. 1,000 replications of kia_offensive at 10 years (simulate + reduce, as sweeps run them):
   wall time at 1 and 2 worker processes.
It prints which engine it measured: pure Python, or compiled (``SIM_COMPILE=1 pip install .``),
read from the imported modules' files. ``--other PYTHON`` also runs part 1 with another
environment's installed package (a compiled build beside this checkout's pure one, or the
reverse) and prints both side by side.
Targets (docs/performance.md): <= 0.1 s a replication, <= 2x the fixed bare loop, <= 3,000 SimPy
events a replication of kia_offensive, <= 60 s for 1,000 replications on 2 workers.
The load average is printed with the figures: the machine is shared.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from datetime import date, timedelta
from pathlib import Path

import simpy

ROOT = Path(__file__).resolve().parent.parent
INSTALLED = "SIM_BENCH_INSTALLED"
"""Set (by ``--other``): import the environment's installed package, not this checkout's."""
if not os.environ.get(INSTALLED):
    sys.path.insert(0, str(ROOT))

from bundled import FORWARD  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.errors import InputError  # noqa: E402
from sim.model import world  # noqa: E402
from sim.model.engine import simulate  # noqa: E402
from sim.results.kpis import reduce  # noqa: E402
from sim.scenario.schema import Scenario  # noqa: E402

BARE_EVENTS = 7_000
"""The fixed size of the bare SimPy loop every replication is compared with."""

TARGET_RATIO = 2.0
"""docs/performance.md: one 10-year replication takes at most twice the fixed bare loop."""

SCENARIOS = FORWARD


def ten_years(name: str) -> Scenario:
    """A bundled scenario stretched to 10 years from its start (a forward scenario also runs
    its prefix, the history from ``run_from``: the simulated years are printed)."""
    return _ten_years_from(name, lambda base: base.start)


def ten_simulated_years(name: str) -> Scenario:
    """A bundled scenario over 10 simulated years: from ``run_from`` for a forward scenario (its
    history prefix, then its own first years), else from its start."""
    return _ten_years_from(name, lambda base: base.first_day)


def _ten_years_from(name: str, first: Callable[[Scenario], date]) -> Scenario:
    base = load_scenario(ROOT / "scenarios" / f"{name}.yaml")
    day = first(base)
    end = date(day.year + 10, day.month, day.day) - timedelta(days=1)
    return load_scenario(ROOT / "scenarios" / f"{name}.yaml", overrides={"end": end.isoformat()})


HORIZONS: dict[str, tuple[str, Callable[[str], Scenario]]] = {
    "reported": ("10 reported years (a forward scenario simulates its prefix too)", ten_years),
    "simulated": (
        "10 simulated years (from run_from: the history, then the scenario)",
        ten_simulated_years,
    ),
}
"""Part 1's two horizons: its title and how a bundled scenario is stretched to it."""


def bare_loop(events: int, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    """Seconds for SimPy alone to process ``events`` timeouts in one process."""
    env = simpy.Environment()

    def ticking(env: simpy.Environment):  # type: ignore[no-untyped-def]
        for _ in range(events):
            yield env.timeout(1)

    env.process(ticking(env))
    started = clock()
    env.run()
    return clock() - started


def median_time(fn, repeats: int, clock=time.perf_counter) -> float:  # type: ignore[no-untyped-def]
    times = []
    for _ in range(repeats):
        started = clock()
        fn()
        times.append(clock() - started)
    return statistics.median(times)


def one_run(scenario: Scenario, seed: int, replication: int) -> int:
    """What a sweep worker does per run: simulate and reduce; returns the event count."""
    rep = simulate(scenario, seed, replication)
    reduce(scenario, rep)
    return rep.simpy_events


def engine() -> str:
    """Which engine this process imported: compiled (mypyc) or pure Python, and from where."""
    where = Path(world.__file__ or "?")
    kind = "pure Python" if where.suffix == ".py" else "compiled (mypyc)"
    return f"{kind}: {where.parent}"


Rows = dict[str, dict[str, list[float]]]
"""Part 1's figures: by horizon (``HORIZONS``), by scenario, [ms, ratio, cpu ratio]."""


def single_replications(repeats: int, quiet: bool = False) -> Rows:
    """Part 1 at both horizons (``quiet``: prints nothing)."""
    if quiet:
        with open(os.devnull, "w") as devnull:
            stdout, sys.stdout = sys.stdout, devnull
            try:
                return single_replications(repeats)
            finally:
                sys.stdout = stdout
    print(f"   engine: {engine()}")
    return {
        horizon: one_horizon(repeats, f"1{'ab'[i]}", title, stretch)
        for i, (horizon, (title, stretch)) in enumerate(HORIZONS.items())
    }


def one_horizon(
    repeats: int, part: str, title: str, stretch: Callable[[str], Scenario]
) -> dict[str, list[float]]:
    """Part 1 at one horizon; returns per scenario [ms, ratio, cpu ratio]."""
    print(
        f"{part}. One replication of {title} (median of {repeats} runs); ratio: to a bare SimPy "
        f"loop of a fixed {BARE_EVENTS:,} timeouts"
    )
    print("   (cpu ratio: the same with CPU time of this process, steadier on a shared machine)")
    print(
        f"   (years: simulated, the prefix from run_from included; target: both ratios <= "
        f"{TARGET_RATIO:g}; per 10 y: the cpu ratio x 10 / years, for comparison only)"
    )
    print(
        f"   {'scenario':<22}{'years':>6}{'wall ms':>9}{'+reduce':>9}{'events':>8}{'events/s':>11}"
        f"{'bare ms':>9}{'ratio':>7}{'cpu ratio':>10}{'per 10 y':>9}  target"
    )
    rows = {}
    for name in SCENARIOS:
        path = ROOT / "scenarios" / f"{name}.yaml"
        if not path.exists():
            continue
        try:
            scenario = stretch(name)
        except InputError:  # an event it dates after these years: the scenario needs more
            print(f"   {name:<22}(not at this horizon: it dates an event after it)")
            continue
        events = simulate(scenario, 1, 0).simpy_events
        wall = median_time(lambda s=scenario: simulate(s, 1, 0), repeats)
        full = median_time(lambda s=scenario: one_run(s, 1, 0), repeats)
        # timed beside each scenario, alternating with it, so that both see the same load on a
        # shared machine; the ratios are medians of the pairs' ratios
        ratios, cpu_ratios, bares = [], [], []
        for _ in range(repeats):
            pair = []
            for clock in (time.perf_counter, time.process_time):
                started = clock()
                simulate(scenario, 1, 0)
                pair.append((clock() - started, bare_loop(BARE_EVENTS, clock)))
            (run, bare), (cpu, cpu_bare) = pair
            ratios.append(run / bare)
            cpu_ratios.append(cpu / cpu_bare)
            bares.append(bare)
        bare = statistics.median(bares)
        ratio, cpu_ratio = statistics.median(ratios), statistics.median(cpu_ratios)
        met = "met" if max(ratio, cpu_ratio) <= TARGET_RATIO else "not met"
        years = (scenario.end - scenario.first_day).days / 365.25
        print(
            f"   {name:<22}{years:>6.1f}{wall * 1e3:>9.1f}{full * 1e3:>9.1f}{events:>8}"
            f"{events / wall:>11,.0f}{bare * 1e3:>9.1f}{ratio:>7.1f}{cpu_ratio:>10.1f}"
            f"{cpu_ratio * 10 / years:>9.1f}  {met}"
        )
        rows[name] = [wall * 1e3, ratio, cpu_ratio]
    return rows


def side_by_side(here: Rows, python: str, repeats: int) -> None:
    """Part 1 again with another environment's installed package, and both builds' figures."""
    env = {**os.environ, INSTALLED: "1"}
    env.pop("PYTHONPATH", None)
    command = [python, __file__, "--single-only", "--repeats", str(repeats), "--json"]
    done = subprocess.run(command, env=env, cwd="/", capture_output=True, text=True, check=True)
    other = json.loads(done.stdout.splitlines()[-1])
    print(f"1c. Side by side: this process ({engine()}) and {other['engine']}")
    print(
        f"   (the other run's load average {other['load']:.2f} at its end; cpu speed-up: the "
        "ratio of the two cpu ratios, each to its own bare loop)"
    )
    for horizon, (title, _) in HORIZONS.items():
        print(f"   {title}")
        print(
            f"   {'scenario':<22}{'ms here':>9}{'ms other':>10}{'cpu speed-up':>13}"
            f"{'ratio here':>12}{'other':>7}{'cpu ratio here':>16}{'other':>7}"
        )
        for name, (ms, ratio, cpu) in here[horizon].items():
            if name not in other["rows"][horizon]:
                continue
            o_ms, o_ratio, o_cpu = other["rows"][horizon][name]
            print(
                f"   {name:<22}{ms:>9.1f}{o_ms:>10.1f}{cpu / o_cpu:>13.2f}"
                f"{ratio:>12.1f}{o_ratio:>7.1f}{cpu:>16.1f}{o_cpu:>7.1f}"
            )


def many_replications(count: int) -> None:
    scenario = ten_years("kia_offensive")
    print(f"2. {count} replications of kia_offensive, 10 years (simulate + reduce)")
    timings = {}
    for workers in (1, 2):
        started = time.perf_counter()
        if workers == 1:
            for i in range(count):
                one_run(scenario, 1, i)
        else:
            with ProcessPoolExecutor(max_workers=workers) as pool:
                list(pool.map(one_run, [scenario] * count, [1] * count, range(count), chunksize=25))
        timings[workers] = time.perf_counter() - started
        print(
            f"   {workers} worker(s): {timings[workers]:.1f} s "
            f"({count / timings[workers]:.0f} replications/s)"
        )
    print(f"   speed-up at 2 workers: {timings[1] / timings[2]:.2f}x")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--replications", type=int, default=1000)
    parser.add_argument("--single-only", action="store_true", help="skip part 2")
    parser.add_argument(
        "--other", metavar="PYTHON", help="also run part 1 with this environment's installed sim"
    )
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)  # for --other
    args = parser.parse_args()
    if args.json:  # part 1 only, as one line of JSON (what --other reads)
        rows = single_replications(args.repeats, quiet=True)
        load = os.getloadavg()[0]
        print(json.dumps({"engine": engine(), "rows": rows, "load": load}))
        return
    print(f"bench_engine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start")
    rows = single_replications(args.repeats)
    if args.other:
        side_by_side(rows, args.other, args.repeats)
    if not args.single_only:
        many_replications(args.replications)
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
