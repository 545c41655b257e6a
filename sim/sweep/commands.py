"""``sim sweep`` and ``sim analyze``: check the spec, pick the folder, run, analyse, judge."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from sim.errors import InputError, Problem
from sim.io.outputs import choose_folder
from sim.sweep.analysis import Report, analyze
from sim.sweep.execute import backend, execute, plan
from sim.sweep.expectations import write_junit
from sim.sweep.loading import load_sweep
from sim.sweep.spec import SOFT_LIMITS, Sweep
from sim.sweep.store import Store, replace_sweep_folder

RESULTS = Path("results") / "sweeps"
COMMAND_LINE = "<command line>"


def command(args: argparse.Namespace) -> int:
    """Run a sweep. Exit 0: all runs finished (and, with --check, every expectation held);
    1: a run failed or (with --check) an expectation failed; 2: bad input; 130: interrupted."""
    _check_args(args)
    limits = None if getattr(args, "allow_large", False) else SOFT_LIMITS
    sweep = load_sweep(args.spec, limits)  # every sample validated before anything runs
    folder, resuming = _folder(args, sweep)
    spec_text = Path(args.spec).read_text(encoding="utf-8")
    with backend(args.workers, args.scheduler) as chosen:  # a bad --scheduler fails here
        if args.force:
            replace_sweep_folder(folder)
        store = Store.create(folder, sweep, spec_text)
        store.remove_orphans()
        done = store.done() if resuming else set()
        todo = [run for run in plan(sweep) if run not in done]
        kept = f", {len(done)} kept from before" if resuming else ""
        print(
            f"{sweep.spec.name}: {len(todo)} of {sweep.runs} runs to do{kept}, on "
            f"{chosen.name} -> {folder}/",
            file=sys.stderr,
        )
        outcome = execute(sweep, store, chosen, todo)
    if outcome.interrupted:
        finished = len(store.done())
        print(
            f"interrupted: {finished} finished run(s) kept in {folder}/; run the same command "
            "with --resume to finish",
            file=sys.stderr,
        )
        return 130
    report = analyze(folder)
    print(
        f"{sweep.spec.name}: {report.runs - report.failed} of {report.runs} runs finished, "
        f"{report.failed} failed ({outcome.ran} run now in {outcome.seconds:.1f} s) -> {folder}/"
    )
    _print_verdicts(report)
    if args.junit:
        write_junit(
            Path(args.junit),
            sweep.spec.name,
            report.verdicts,
            Store(folder).runs(),
            outcome.seconds,
        )
    return _exit_code(report, args.check, sweep)


def analyze_command(args: argparse.Namespace) -> int:
    """Rebuild a sweep folder's analysis (figures, tables, summary.md) from its results."""
    folder = Path(args.folder)
    if not (folder / "sweep.json").is_file():
        raise InputError([Problem("not a sweep folder (no sweep.json)", str(folder))])
    report = analyze(folder)
    print(f"{report.runs - report.failed} of {report.runs} runs finished, {report.failed} failed")
    _print_verdicts(report)
    return 0


def _check_args(args: argparse.Namespace) -> None:
    problems = []
    if args.workers < 1:
        problems.append(Problem("--workers must be at least 1", COMMAND_LINE))
    if args.scheduler and args.workers != 1:
        problems.append(
            Problem(
                "--workers and --scheduler: give one or the other "
                "(a cluster's size is its workers')",
                COMMAND_LINE,
            )
        )
    if args.resume and args.force:
        problems.append(
            Problem("--resume keeps a folder and --force replaces it: give one", COMMAND_LINE)
        )
    if problems:
        raise InputError(problems)


def _folder(args: argparse.Namespace, sweep: Sweep) -> tuple[Path, bool]:
    """The output folder, and whether earlier results in it are kept (``--resume``)."""
    if args.resume:
        folder = Path(args.out) if args.out else RESULTS / sweep.spec.name
        found = Store.fingerprint_of(folder)
        if found is None:
            if folder.exists() and any(folder.iterdir()):
                raise InputError([Problem("is not a sweep folder: cannot resume", str(folder))])
            return folder, False
        if found != sweep.fingerprint():
            message = (
                "was made by a different sweep (its base, baseline, design, seed or kpis "
                "differ): give another --out, or --force to start over"
            )
            raise InputError([Problem(message, str(folder))])
        return folder, True
    folder = choose_folder(args.out, sweep.spec.name, args.force, root=RESULTS)
    if args.force and folder.exists() and Store.fingerprint_of(folder) is None:
        replace_sweep_folder(folder)  # refuses: not a sweep's folder (checked before any run)
    return folder, False


def _print_verdicts(report: Report) -> None:
    print(f"analysis: {report.folder / 'analysis' / 'summary.md'}")
    for verdict in report.verdicts:
        mark = "PASS" if verdict.passed else "FAIL"
        print(f"{mark} {verdict.expectation.name}: {verdict.summary}")
        for line in verdict.failures if not verdict.passed else []:
            print(f"     {line}")


def _exit_code(report: Report, check: bool, sweep: Sweep) -> int:
    if check and not sweep.spec.expectations:
        print("note: --check given but the sweep has no expectations", file=sys.stderr)
    if report.failed:
        print(
            f"error: {report.failed} run(s) failed; see runs in the parts and analysis/summary.md",
            file=sys.stderr,
        )
        return 1
    if check and not report.expectations_ok:
        failed = sum(not v.passed for v in report.verdicts)
        print(f"error: {failed} expectation(s) failed", file=sys.stderr)
        return 1
    return 0
