"""Benchmark of ``sim sweep``: throughput at 1 and 2 workers, and peak memory against run count.

    python bench/bench_sweep.py                 # the full benchmark (~4 minutes on 2 cores)
    python bench/bench_sweep.py --quick         # smaller counts, for a smoke check

The sweep is the bundled world's KIA offensive (scenarios/kia_offensive.yaml) over 10 simulated
years per run (2025-2034), varied by a Latin hypercube over its uncertain quantities, with a
paired baseline. Throughput is runs per second of the run phase (validation, simulation and the
streaming Parquet writes, pool start-up included; the analysis excluded) at 1 worker (serial,
in-process) and at 2 worker processes, the best of three alternating sweeps of 400 runs each
(other load on the machine only ever slows a sweep); the speed-up should be at least 1.8x on 2
idle cores.
Peak memory is measured for 200 and 2,000 runs, each sweep in a fresh subprocess: the summed
proportional set sizes (PSS) of the sweep process and its workers, sampled every 100 ms (psutil),
with the RSS sum and the sweep process's own peak (getrusage) alongside; it should not grow with
the run count, because finished runs are written out about once a second and never accumulate.
The analysis of the 2,000-run folder is timed and measured separately (it reads the results
back, part by part).

Not a test: timings depend on the machine and on whatever else runs on it (the load average is
printed with the figures).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent

SPEC = """\
name: bench_sweep
description: The bundled world's KIA offensive over 10 simulated years, varied.
base: {base}
set:
  end: 2034-12-31
baseline:
  scenario: {baseline}
parameters:
  events.kia_bhamo_offensive.days: {{dist: triangular, low: 30, mode: 90, high: 180}}
  events.kia_bhamo_offensive.capture_probability: {{dist: uniform, low: 0.3, high: 1.0}}
  events.china_ultimatum.fraction: {{dist: uniform, low: 0.2, high: 1.0}}
  events.china_ultimatum.probability: {{dist: uniform, low: 0.4, high: 1.0}}
  events.kanpiketi_closed.days: {{dist: loguniform, low: 20, high: 180}}
method: latin_hypercube
samples: {samples}
replications: {replications}
seed: 1
"""


def write_spec(folder: Path, runs: int, replications: int = 5) -> Path:
    """A spec of about ``runs`` runs (samples x replications, plus the baseline's)."""
    samples = max(1, round(runs / replications) - 1)
    path = folder / f"bench_{runs}.yaml"
    path.write_text(
        SPEC.format(
            base=ROOT / "scenarios" / "kia_offensive.yaml",
            baseline=ROOT / "scenarios" / "baseline.yaml",
            samples=samples,
            replications=replications,
        )
    )
    return path


def child(spec: str, out: str, workers: int, analysis: bool) -> None:
    """Run one sweep (or only its analysis) here and print what it cost, as JSON."""
    sys.path.insert(0, str(ROOT))
    from sim.sweep.analysis import analyze
    from sim.sweep.execute import backend, execute, plan
    from sim.sweep.loading import load_sweep
    from sim.sweep.store import Store

    started = time.perf_counter()
    if analysis:
        analyze(Path(out))
        runs = len(Store(Path(out)).runs())
    else:
        sweep = load_sweep(spec)
        store = Store.create(Path(out), sweep, Path(spec).read_text())
        todo = plan(sweep)
        with backend(workers, None) as chosen:
            outcome = execute(sweep, store, chosen, todo, progress=False)
        assert outcome.failed == 0
        assert not outcome.interrupted
        runs = outcome.ran
    seconds = time.perf_counter() - started
    parent_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(
        json.dumps(
            {
                "runs": runs,
                "seconds": seconds,
                "parent_mb": parent_kib / 1024,
            }
        )
    )


def measured(args: list[str], sample: bool = True) -> dict[str, Any]:
    """Run this file as a child with ``args``; its report, plus the sampled peak memory of its
    process tree (``sample``: the sampling costs CPU, so throughput runs go without it)."""
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
    }
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", *args], stdout=subprocess.PIPE, env=env, text=True
    )
    pss, rss, worker = _sample_tree(process) if sample else (0.0, 0.0, 0.0)
    out, _ = process.communicate()
    if process.returncode != 0:
        raise SystemExit(f"benchmark child failed: {args}")
    report: dict[str, Any] = json.loads(out.strip().splitlines()[-1])
    report["tree_pss_mb"], report["tree_rss_mb"] = pss, rss
    report["largest_worker_mb"] = worker
    return report


def _sample_tree(process: subprocess.Popen[str]) -> tuple[float, float, float]:
    """Peaks of the summed PSS and RSS of a process and its descendants (psutil), and the
    largest PSS of one worker, in MB.

    PSS (proportional set size) shares each page among the processes that map it, so forked
    workers' pages shared with the parent are not counted twice; the RSS sum counts them in full
    (an upper bound). Workers are the descendants other than the forkserver they are started
    from (they are its children, not the sweep process's, so ``getrusage(RUSAGE_CHILDREN)`` of
    the sweep process never sees them). All 0 without psutil.
    """
    try:
        import psutil
    except ImportError:
        process.wait()
        return 0.0, 0.0, 0.0
    peak_pss = peak_rss = peak_worker = 0
    try:
        root = psutil.Process(process.pid)
        while process.poll() is None:
            pss = rss = 0
            try:
                for p in [root, *root.children(recursive=True)]:
                    info = p.memory_full_info()
                    own = getattr(info, "pss", info.rss)
                    pss += own
                    rss += info.rss
                    if p.pid != root.pid and not _is_forkserver(p):
                        peak_worker = max(peak_worker, own)
            except psutil.Error:
                pass
            peak_pss, peak_rss = max(peak_pss, pss), max(peak_rss, rss)
            time.sleep(0.1)
    except psutil.Error:
        pass
    return peak_pss / 2**20, peak_rss / 2**20, peak_worker / 2**20


def _is_forkserver(p: Any) -> bool:
    try:
        return any("forkserver" in part for part in p.cmdline())
    except Exception:
        return False


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--quick", action="store_true", help="smaller counts (smoke check)")
    parser.add_argument(
        "--child", nargs=3, metavar=("SPEC", "OUT", "WORKERS"), help=argparse.SUPPRESS
    )
    parser.add_argument("--analysis", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        spec, out, workers = args.child
        child(spec, out, int(workers), args.analysis)
        return
    throughput_runs, trials = (60, 1) if args.quick else (400, 3)
    memory_runs = (50, 500) if args.quick else (200, 2000)
    print(
        f"bench_sweep: the bundled world (kia_offensive), 10 simulated years per run; "
        f"{os.cpu_count()} cores, load average {os.getloadavg()[0]:.2f} at start"
    )
    with tempfile.TemporaryDirectory(prefix="bench_sweep.") as tmp:
        folder = Path(tmp)
        spec = write_spec(folder, throughput_runs)
        rates: dict[int, list[float]] = {1: [], 2: []}
        for trial in range(trials):  # alternate, and keep the best: other load only slows
            for workers in (1, 2):
                out = folder / f"rate{workers}-{trial}"
                report = measured([str(spec), str(out), str(workers)], sample=False)
                rates[workers].append(report["runs"] / report["seconds"])
        for workers, seen in rates.items():
            shown = ", ".join(f"{r:.2f}" for r in seen)
            print(
                f"  {workers} worker(s): {max(seen):.2f} runs/s (best of {trials} sweeps of "
                f"{report['runs']} runs: {shown})"
            )
        speedup = max(rates[2]) / max(rates[1])
        verdict = "ok" if speedup >= 1.8 else "BELOW the 1.8x target"
        print(f"  speed-up at 2 workers: {speedup:.2f}x ({verdict})")
        peaks = []
        for runs in memory_runs:
            spec = write_spec(folder, runs)
            out = folder / f"mem{runs}"
            report = measured([str(spec), str(out), "2"])
            peaks.append(report["tree_pss_mb"])
            print(
                f"  peak memory, {report['runs']:>5} runs at 2 workers: "
                f"{report['tree_pss_mb']:.0f} MB (summed PSS of the sweep and its workers; "
                f"RSS sum {report['tree_rss_mb']:.0f} MB, sweep process "
                f"{report['parent_mb']:.0f} MB, largest worker "
                f"{report['largest_worker_mb']:.0f} MB); {report['seconds']:.0f} s"
            )
        growth = (peaks[1] / peaks[0] - 1) * 100 if peaks[0] else float("nan")
        print(f"  memory growth from {memory_runs[0]} to {memory_runs[1]} runs: {growth:+.1f}%")
        report = measured([str(spec), str(out), "1", "--analysis"])
        print(
            f"  analysis of the {report['runs']}-run folder: {report['seconds']:.0f} s, peak "
            f"{report['tree_pss_mb']:.0f} MB (PSS)"
        )


if __name__ == "__main__":
    main()
