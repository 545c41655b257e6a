"""``sim sweep`` and ``sim analyze``: check the spec, pick the folder, run, analyse, judge."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import Iterator
from pathlib import Path

from sim.errors import InputError, Problem
from sim.io.claim import Claim, Where, claim_existing, claim_output, default_folder
from sim.scenario.loader import read_input_text
from sim.scenario.options import check_options
from sim.sweep.analysis import Report, analyze
from sim.sweep.execute import Interrupts, backend, execute, plan
from sim.sweep.expectations import write_junit
from sim.sweep.loading import load_sweep
from sim.sweep.spec import SOFT_LIMITS, Sweep
from sim.sweep.store import Store, empty_sweep_folder, is_sweep_folder, kpi_failures

RESULTS = Path("results") / "sweeps"
COMMAND_LINE = "<command line>"


def command(args: argparse.Namespace) -> int:
    """Run a sweep. Exit 0: all runs finished (and, with --check, every expectation held);
    1: a run failed or (with --check) an expectation failed; 2: bad input; 130: interrupted."""
    _check_args(args)
    limits = None if getattr(args, "allow_large", False) else SOFT_LIMITS
    sweep = load_sweep(args.spec, limits)  # every sample validated before anything runs
    spec_text = read_input_text(args.spec)
    with Interrupts() as interrupts, _claim(args, sweep) as (claim, resuming):
        try:
            return _sweep(args, sweep, spec_text, claim, resuming, interrupts)
        except KeyboardInterrupt:  # in a block an interrupt stops at once (connecting)
            return _interrupted(claim.path)


def _sweep(
    args: argparse.Namespace,
    sweep: Sweep,
    spec_text: str,
    claim: Claim,
    resuming: bool,
    interrupts: Interrupts,
) -> int:
    folder = claim.path
    with backend(
        args.workers, args.scheduler, interrupts
    ) as chosen:  # a bad --scheduler fails here
        if args.force and not claim.fresh:
            empty_sweep_folder(folder)
        store = Store.create(folder, sweep, spec_text)
        if resuming:
            _report_damage(store)
        store.remove_orphans()
        done = store.done() if resuming else set()
        todo = [run for run in plan(sweep) if run not in done]
        kept = f", {len(done)} kept from before" if resuming else ""
        print(
            f"{sweep.spec.name}: {len(todo)} of {sweep.runs} runs to do{kept}, on "
            f"{chosen.name} -> {folder}/",
            file=sys.stderr,
        )
        outcome = execute(sweep, store, chosen, todo, interrupts=interrupts)
    if outcome.interrupted:
        return _interrupted(folder)
    with interrupts.at_once():
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


def _interrupted(folder: Path) -> int:
    finished = len(Store(folder).done()) if folder.is_dir() else 0
    print(
        f"interrupted: {finished} finished run(s) kept in {folder}/; run the same command "
        "with --resume to finish",
        file=sys.stderr,
    )
    return 130


def _report_damage(store: Store) -> None:
    """Quarantine damaged parts (their runs are then run again), saying so on stderr."""
    for damage in store.verify():
        print(f"warning: {damage}", file=sys.stderr)


def analyze_command(args: argparse.Namespace) -> int:
    """Rebuild a sweep folder's analysis (figures, tables, summary.md) from its results,
    after checking its parts (a damaged one is quarantined, not fatal)."""
    folder = Path(args.folder)
    check_options(out=args.folder)
    store = Store(folder)
    meta = store.meta()
    with claim_existing(folder, "analyze", Where(None)):
        _report_damage(store)
        report = analyze(folder)
    missing = max(0, int(meta.get("runs") or 0) - report.runs)
    print(f"{report.runs - report.failed} of {report.runs} runs finished, {report.failed} failed")
    if missing:
        print(
            f"note: {missing} planned run(s) have no result; `sim sweep SPEC --out {folder} "
            "--resume` runs them",
            file=sys.stderr,
        )
    _print_verdicts(report)
    return 0


def _check_args(args: argparse.Namespace) -> None:
    problems = []
    try:
        check_options(workers=args.workers, out=args.out, scheduler=args.scheduler)
    except InputError as exc:
        problems.extend(exc.problems)
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


@contextlib.contextmanager
def _claim(args: argparse.Namespace, sweep: Sweep) -> Iterator[tuple[Claim, bool]]:
    """The output folder, claimed for this sweep, and whether earlier results in it are kept
    (``--resume``). Released (its lock removed; the folder too if this made it and it is
    still empty) on the way out."""
    default = default_folder(RESULTS, sweep.spec.name)
    if args.resume:
        claim, resuming = _claim_to_resume(args, sweep, default)
    else:
        claim = claim_output(args.out, default, "sweep", args.force, replaceable=is_sweep_folder)
        resuming = False
    with claim:
        yield claim, resuming


def _claim_to_resume(args: argparse.Namespace, sweep: Sweep, default: Path) -> tuple[Claim, bool]:
    folder = Path(args.out) if args.out else default
    where = Where("--out" if args.out else None)
    if not folder.exists():
        return claim_output(str(folder), default, "sweep", force=False), False
    found = Store.fingerprint_of(folder)
    if found is None:
        if folder.is_dir() and not [p for p in folder.iterdir() if p.name != ".sim.lock"]:
            return claim_existing(folder, "sweep", where), False  # an empty folder: start
        raise InputError([Problem("is not a sweep folder: cannot resume", str(folder))])
    if found != sweep.fingerprint():
        message = (
            "was made by a different sweep (its base, baseline, design, seed or kpis "
            "differ): give another --out, or --force to start over"
        )
        raise InputError([Problem(message, str(folder))])
    return claim_existing(folder, "sweep", where), True


def _print_verdicts(report: Report) -> None:
    """Each expectation's PASS/FAIL, KPI failures, then the sweep's verdict: FAIL when any run
    failed or any expectation did not hold, whatever the expectations' own lines say."""
    print(f"analysis: {report.folder / 'analysis' / 'summary.md'}")
    for verdict in report.verdicts:
        mark = "PASS" if verdict.passed else "FAIL"
        print(f"{mark} {verdict.expectation.name}: {verdict.summary}")
        for line in verdict.failures if not verdict.passed else []:
            print(f"     {line}")
    for name, (count, reason) in kpi_failures(Store(report.folder).runs()).items():
        print(f"warning: KPI {name!r} has no value in {count} run(s): {reason}", file=sys.stderr)
    print(f"verdict: {_verdict(report)}")


def _verdict(report: Report) -> str:
    reasons = []
    if report.failed:
        reasons.append(f"{report.failed} run(s) failed")
    failed = sum(not v.passed for v in report.verdicts)
    if failed:
        reasons.append(f"{failed} expectation(s) failed")
    if reasons:
        return f"FAIL ({'; '.join(reasons)})"
    held = f"; {len(report.verdicts)} expectation(s) held" if report.verdicts else ""
    return f"PASS ({report.runs} run(s) finished{held})"


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
