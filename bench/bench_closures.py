"""What border closures cost: loading and simulating 0, 100 and 1,000 closures at 1x and 8x sites.

    python bench/bench_closures.py [--repeats 5]

The world is the bundled KIA offensive (scenarios/kia_offensive.yaml: 2026-2030, simulated after
its history prefix from 2018). At 8x every site gets seven copies (same parameters, new ids,
served by the same routes), so a closure has eight times as many sites to settle. The closures
are fixed-date, 10-day border closures spread over the horizon, round-robin over the crossings,
written into the scenario file as events.

Printed per world: the seconds to load the file (``load_scenario``: YAML, merging, validation),
and per added event entry; the median seconds of one replication (``simulate``); the cost of one
closure (the difference to no closures, per closure); and the ratio of 1,000 closures to none.
Targets (docs/performance.md): 1,000 closures <= 2x the cost of none at 8x the sites, and
loading linear in the number of events (the per-entry figure stays level).

Not a test: timings depend on the machine and on whatever else runs on it (the load average is
printed with the figures); they are CPU time of this process, which a loaded machine inflates
far less than wall time.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import yaml

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bundled import add_site_copies  # noqa: E402

from sim import load_scenario  # noqa: E402
from sim.model.engine import simulate  # noqa: E402

CLOSURES = (0, 100, 1000)
SCALES = (1, 8)


def world(scale: int, closures: int) -> dict[str, Any]:
    """The resolved KIA offensive as plain data, with ``scale`` x the sites and ``closures``
    extra border closures."""
    data: dict[str, Any] = load_scenario(ROOT / "scenarios" / "kia_offensive.yaml").model_dump(
        mode="json"
    )
    add_site_copies(data, scale)
    crossings = sorted(data["crossings"])
    start, end = date.fromisoformat(data["start"]), date.fromisoformat(data["end"])
    span = (end - start).days - 20
    for k in range(closures):
        data["events"][f"bench_closure_{k}"] = {
            "kind": "border_closure",
            "crossing": crossings[k % len(crossings)],
            "start": (start + timedelta(days=1 + k * span // max(1, closures))).isoformat(),
            "days": 10,
            "in_transit": "hold",
        }
    return data


def median_seconds(fn: Any, repeats: int) -> float:
    """Median CPU seconds of this process (steadier than wall time on a shared machine)."""
    times = []
    for _ in range(repeats):
        started = time.process_time()
        fn()
        times.append(time.process_time() - started)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    print(
        f"bench_closures: kia_offensive, 2025-2030; {os.cpu_count()} cores, load average "
        f"{os.getloadavg()[0]:.2f} at start"
    )
    print(
        f"   {'sites':>5}{'closures':>9}{'events':>8}{'load s':>8}{'us/entry':>9}"
        f"{'run ms':>9}{'us/closure':>11}{'x none':>8}"
    )
    with tempfile.TemporaryDirectory(prefix="bench_closures.") as tmp:
        for scale in SCALES:
            none = load_none = 0.0
            for closures in CLOSURES:
                data = world(scale, closures)
                path = Path(tmp) / f"w{scale}_{closures}.yaml"
                path.write_text(yaml.safe_dump(data, sort_keys=False))
                load = median_seconds(lambda p=path: load_scenario(p), max(3, args.repeats // 2))
                scenario = load_scenario(path)
                run = median_seconds(lambda s=scenario: simulate(s, 1, 0), args.repeats)
                if closures == 0:
                    none, load_none = run, load
                per = (run - none) / closures * 1e6 if closures else 0.0
                per_entry = (load - load_none) / closures * 1e6 if closures else 0.0
                print(
                    f"   {len(data['sites']):>5}{closures:>9,}{len(data['events']):>8,}{load:>8.2f}"
                    f"{per_entry:>9.0f}{run * 1e3:>9.1f}{per:>11.1f}"
                    f"{run / none:>8.2f}",
                    flush=True,
                )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
