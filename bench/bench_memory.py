"""Peak memory and wall time of ``sim run`` against the replication count.

    python bench/bench_memory.py                        # 100, 1,000 and 10,000 replications
    python bench/bench_memory.py --counts 100 1000      # fewer
    python bench/bench_memory.py --workers 2            # on a process pool

Each count runs ``sim run scenarios/kia_offensive.yaml --replications N --no-plot
--allow-large`` in a fresh process writing to a temporary folder, and reports its peak
resident memory (the kernel's ``ru_maxrss`` of that process, from ``wait4``; with workers, the
summed proportional set size of the process tree, sampled every 100 ms) and its wall time. The
target (docs/performance.md): peak <= 400 MiB at 10,000 replications, flat in the count, and
wall time linear in it (the "ms a replication" column stays level).

Not a test: timings depend on the machine and on whatever else runs on it (the load average is
printed with the figures).
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def measure(scenario: Path, count: int, workers: int, out: Path) -> tuple[float, float, float]:
    """(peak MiB, wall seconds, MiB of the output folder) of one ``sim run``."""
    command = [
        sys.executable,
        "-m",
        "sim",
        "run",
        str(scenario),
        "--replications",
        str(count),
        "--workers",
        str(workers),
        "--no-plot",
        "--allow-large",
        "--out",
        str(out),
    ]
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL)
    sampled = _sample_tree(process.pid) if workers > 1 else 0.0
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode != 0:
        raise SystemExit(f"sim run failed with exit code {process.returncode}")
    size = sum(f.stat().st_size for f in out.iterdir()) / 2**20
    peak = max(usage.ru_maxrss / 1024, sampled)
    return peak, seconds, size


def _sample_tree(pid: int) -> float:
    """Peak summed PSS (MiB) of a process and its descendants until it exits (needs psutil)."""
    try:
        import psutil
    except ImportError:
        return 0.0
    peak = 0
    try:
        root = psutil.Process(pid)
        while root.status() != psutil.STATUS_ZOMBIE:
            total = 0
            for p in [root, *root.children(recursive=True)]:
                try:
                    info = p.memory_full_info()
                    total += getattr(info, "pss", info.rss)
                except psutil.Error:
                    pass
            peak = max(peak, total)
            time.sleep(0.1)
    except psutil.Error:
        pass
    return peak / 2**20


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--counts", type=int, nargs="+", default=[100, 1000, 10000])
    parser.add_argument("--workers", type=int, default=1)
    parser.add_argument("--scenario", default=str(ROOT / "scenarios" / "kia_offensive.yaml"))
    args = parser.parse_args()
    print(
        f"bench_memory: sim run {Path(args.scenario).name}, {args.workers} worker(s); "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start"
    )
    print(f"   {'replications':>12}{'peak MiB':>10}{'wall s':>9}{'ms a rep':>10}{'output MiB':>12}")
    with tempfile.TemporaryDirectory(prefix="bench_memory.") as tmp:
        for count in args.counts:
            out = Path(tmp) / f"run{count}"
            peak, seconds, size = measure(Path(args.scenario), count, args.workers, out)
            print(
                f"   {count:>12,}{peak:>10.0f}{seconds:>9.1f}{seconds / count * 1e3:>10.1f}"
                f"{size:>12.0f}",
                flush=True,
            )
    print(f"load average {os.getloadavg()[0]:.2f} at the end")


if __name__ == "__main__":
    main()
