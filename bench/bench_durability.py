"""Benchmark of what durability and interrupt handling cost a sweep.

    python bench/bench_durability.py            # ~2 minutes on 2 cores
    python bench/bench_durability.py --quick    # smaller counts, for a smoke check

Prints:

- writing one part of 256 runs (the most a flush holds) with every file and its folder flushed
  to disk (``fsync``), and without (``fsync`` replaced by nothing): the median milliseconds per
  part and the difference. A sweep writes a part about once a second, so the difference is the
  share of a second durability costs;
- checking a committed part (``Store.verify``: the runs file read, the other two hashed against
  their checksums), as ``--resume`` and ``sim analyze`` do for every part: milliseconds per part
  and MB/s;
- the time from Ctrl-C (SIGINT to the process group) to the exit of ``sim sweep`` with 2 worker
  processes and serially, median of several: how fast an interrupted sweep gives the terminal
  back with its finished runs written.

Not a test: timings depend on the disk and on whatever else runs on the machine (the load
average is printed with the figures).
"""

from __future__ import annotations

import argparse
import copy
import os
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SPEC = """\
name: bench_durability
base: {base}
set:
  end: 2034-12-31
baseline:
  scenario: {baseline}
parameters:
  events.kia_bhamo_offensive.capture_probability: {{dist: uniform, low: 0.2, high: 1.0}}
  events.china_ultimatum.fraction: {{dist: uniform, low: 0.2, high: 1.0}}
method: latin_hypercube
samples: 200
replications: 4
seed: 5
"""


def part_records(count: int) -> tuple[Any, list[dict[str, Any]]]:
    """A sweep and ``count`` run records of it (a few real runs, repeated with new ids)."""
    from sim.sweep.loading import load_sweep
    from sim.sweep.worker import run_one

    folder = Path(tempfile.mkdtemp(prefix="bench_durability."))
    spec = folder / "spec.yaml"
    scenarios = ROOT / "scenarios"
    spec.write_text(
        SPEC.format(base=scenarios / "kia_offensive.yaml", baseline=scenarios / "baseline.yaml")
    )
    sweep = load_sweep(spec)
    real = [run_one(sweep.base, 5, rep, 0, sweep.design[0]) for rep in range(4)]
    records = []
    for n in range(count):
        record = copy.copy(real[n % len(real)])
        record.update(sample=n // 4, replication=n % 4)
        records.append(record)
    return sweep, records


def time_writes(sweep: Any, records: list[dict[str, Any]], parts: int, sync: bool) -> list[float]:
    from sim.io import durable
    from sim.sweep.store import Store

    real = durable.fsync_path
    if not sync:
        durable.fsync_path = lambda path: None  # type: ignore[assignment]
    try:
        folder = Path(tempfile.mkdtemp(prefix="bench_durability."))
        store = Store.create(folder / "out", sweep, "")
        seconds = []
        for _ in range(parts):
            started = time.perf_counter()
            store.write(records)
            seconds.append(time.perf_counter() - started)
        return seconds
    finally:
        durable.fsync_path = real


def time_verify(sweep: Any, records: list[dict[str, Any]], parts: int) -> tuple[float, float]:
    """(ms per part, MB/s) of Store.verify over ``parts`` committed parts."""
    from sim.sweep.store import Store

    folder = Path(tempfile.mkdtemp(prefix="bench_durability.")) / "out"
    store = Store.create(folder, sweep, "")
    for _ in range(parts):
        store.write(records)
    size = sum(p.stat().st_size for p in (folder / "parts").iterdir())
    started = time.perf_counter()
    assert Store(folder).verify() == []
    seconds = time.perf_counter() - started
    return 1000 * seconds / parts, size / 1e6 / seconds


def interrupt_latency(workers: int, repeats: int) -> list[float]:
    """Seconds from SIGINT to the process group until ``sim sweep`` exits (code 130)."""
    folder = Path(tempfile.mkdtemp(prefix="bench_durability."))
    spec = folder / "spec.yaml"
    scenarios = ROOT / "scenarios"
    spec.write_text(
        SPEC.format(base=scenarios / "kia_offensive.yaml", baseline=scenarios / "baseline.yaml")
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    latencies = []
    for n in range(repeats):
        out = folder / f"out{n}"
        command = [sys.executable, "-m", "sim", "sweep", str(spec), "--out", str(out)]
        proc = subprocess.Popen(
            [*command, "--workers", str(workers)],
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            start_new_session=True,
        )
        try:
            deadline = time.monotonic() + 120
            while not list((out / "parts").glob("part-*.runs.parquet")):
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError("the sweep ended or stalled before it could be interrupted")
                time.sleep(0.02)
            time.sleep(0.5)
            started = time.perf_counter()
            os.killpg(proc.pid, signal.SIGINT)
            code = proc.wait(timeout=60)
            latencies.append(time.perf_counter() - started)
            if code != 130:
                raise RuntimeError(f"exit {code}, not 130")
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()
    return latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts")
    args = parser.parse_args()
    parts, repeats = (3, 2) if args.quick else (15, 5)
    print(f"load average: {', '.join(f'{x:.2f}' for x in os.getloadavg())}")
    sweep, records = part_records(256)
    synced = time_writes(sweep, records, parts, sync=True)
    unsynced = time_writes(sweep, records, parts, sync=False)
    a, b = statistics.median(synced) * 1000, statistics.median(unsynced) * 1000
    print(f"write a part of 256 runs: {a:.1f} ms flushed to disk, {b:.1f} ms without fsync")
    print(f"  durability costs {a - b:.1f} ms a part (a part is written about once a second)")
    per_part, rate = time_verify(sweep, records, parts)
    print(f"check a committed part (resume, analyze): {per_part:.1f} ms a part, {rate:.0f} MB/s")
    for workers in (2, 1):
        latencies = interrupt_latency(workers, repeats)
        shown = ", ".join(f"{s:.2f}" for s in latencies)
        print(
            f"Ctrl-C to exit, --workers {workers}: median {statistics.median(latencies):.2f} s "
            f"(max {max(latencies):.2f} s; {shown})"
        )


if __name__ == "__main__":
    main()
