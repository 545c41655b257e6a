"""``sim.sweep`` and ``sim.analyze``: run a sweep file into a folder, or rebuild its analysis.

Both are plain Python functions returning a ``SweepResult`` (the folder, counts, the verdicts
of the expectations, and the folder's tables as DataFrames); the ``sim sweep`` and ``sim
analyze`` commands only parse arguments, print and choose the exit code.

    result = sim.sweep("scenarios/sweeps/kia_uncertainty.yaml", workers=2)
    result.kpis          # sample, replication, kpi, value: one row per run and KPI
    result.passed        # no run failed and every expectation held
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from sim.errors import InputError, Problem
from sim.io.claim import Claim, Where, claim_existing, claim_output, default_folder
from sim.scenario.loader import read_input_text
from sim.scenario.options import check_options
from sim.sweep.analysis import Report
from sim.sweep.analysis import analyze as analyze_folder
from sim.sweep.execute import Interrupts, backend, execute, plan
from sim.sweep.expectations import Verdict, write_junit
from sim.sweep.loading import load_sweep
from sim.sweep.spec import SOFT_LIMITS, Sweep
from sim.sweep.store import Store, empty_sweep_folder, is_sweep_folder, kpi_failures

RESULTS = Path("results") / "sweeps"
"""Where a sweep's folder goes by default: ``results/sweeps/<sweep name>``."""
COMMAND_LINE = "<command line>"
"""Where problems with the arguments are located (they are the command's options)."""

log = logging.getLogger(__name__)

Folder = str | os.PathLike[str]


class SweepInterrupted(KeyboardInterrupt):
    """Ctrl-C (or SIGTERM) during a sweep: finished runs were written and ``resume=True``
    finishes the sweep. A KeyboardInterrupt, so that it stops a script or notebook cell."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.finished = len(Store(folder).done()) if folder.is_dir() else 0
        super().__init__(
            f"{self.finished} finished run(s) kept in {folder}/; run the same command with "
            "--resume to finish"
        )


@dataclass(frozen=True)
class SweepResult:
    """A sweep folder after ``sweep`` or ``analyze``: what ran, what failed, what held.

    The tables are read from the folder's Parquet files when first asked for.
    """

    folder: Path
    name: str
    """The sweep's name (its file's ``name:``, or the file's stem)."""
    report: Report
    ran: int = 0
    """Runs run by this call (``resume`` skips those already in the folder)."""
    seconds: float = 0.0
    """Wall time of the runs of this call."""
    missing: int = 0
    """Planned runs without a result (an interrupted sweep; ``resume=True`` runs them)."""
    damaged: list[str] = field(default_factory=list)
    """Parts found damaged and quarantined (their runs are then missing)."""

    @property
    def planned(self) -> int:
        """Runs of the sweep's plan found in the folder: samples x replications, plus the
        baseline's."""
        return self.report.runs

    @property
    def failed(self) -> int:
        """Runs of the plan that failed (their errors are in ``runs``)."""
        return self.report.failed

    @property
    def verdicts(self) -> list[Verdict]:
        """One per expectation of the sweep file, in its order."""
        return self.report.verdicts

    @property
    def passed(self) -> bool:
        """No run failed and every expectation held."""
        return self.failed == 0 and self.report.expectations_ok

    @property
    def summary(self) -> Path:
        """The analysis written for people: ``analysis/summary.md``."""
        return self.folder / "analysis" / "summary.md"

    @functools.cached_property
    def runs(self) -> pd.DataFrame:
        """Every run recorded in the folder: sample, replication, status, error, seconds,
        simpy_events, params, kpi_errors; sample -1 is the paired baseline."""
        return Store(self.folder).runs()

    @functools.cached_property
    def kpis(self) -> pd.DataFrame:
        """sample, replication, kpi, value (tonnes, or the unit of a sweep KPI) of runs that
        finished."""
        return Store(self.folder).kpis()

    @functools.cached_property
    def samples(self) -> pd.DataFrame:
        """The design: one row per sample, one column per parameter (by dotted path)."""
        frame = pd.DataFrame(Store(self.folder).samples())
        frame.index.name = "sample"
        return frame

    @property
    def kpi_failures(self) -> dict[str, tuple[int, str]]:
        """KPIs that came out infinite or not a number: runs affected, the first reason."""
        return kpi_failures(self.runs)


def sweep(
    spec: Folder,
    *,
    workers: int = 1,
    scheduler: str | None = None,
    out: Folder | None = None,
    resume: bool = False,
    force: bool = False,
    allow_large: bool = False,
    junit: Folder | None = None,
    progress: bool = True,
    xlsx: bool = False,
) -> SweepResult:
    """Run a sweep file's runs into a folder, analyse them and judge its expectations.

    ``workers`` local processes (1: serially, here) or a Dask ``scheduler`` address run the
    runs, with identical results. ``out`` defaults to ``results/sweeps/<name>``; an existing
    folder is kept (the next free ``-2``, ``-3`` is used) unless ``force`` replaces an earlier
    sweep's folder or ``resume`` runs only what it is missing. ``allow_large`` lifts the soft
    limits on work. ``junit`` writes a JUnit XML report of the expectations (for CI); ``xlsx``
    adds ``analysis/sweep.xlsx``. Bad input
    raises InputError before anything runs; Ctrl-C or SIGTERM raises ``SweepInterrupted`` once
    finished runs are written. Failed runs and failed expectations are in the result, not
    raised.
    """
    _check_options(workers, scheduler, out, resume, force)
    sweep = load_sweep(spec, None if allow_large else SOFT_LIMITS)  # every sample checked
    spec_text = read_input_text(spec)
    with Interrupts() as interrupts, _claim(out, resume, force, sweep) as (claim, resuming):
        try:
            how = _How(workers, scheduler, force, progress, xlsx)
            result = _run(sweep, spec_text, claim, resuming, interrupts, how)
        except SweepInterrupted:
            raise
        except KeyboardInterrupt:  # an interrupt in a block that stops at once (connecting)
            raise SweepInterrupted(claim.path) from None
        if junit is not None:
            runs = result.runs
            write_junit(Path(junit), sweep.spec.name, result.verdicts, runs, result.seconds)
    return result


@dataclass(frozen=True)
class _How:
    """How a sweep's runs are run: the backend, whether an earlier folder is replaced, and
    whether a progress bar is shown."""

    workers: int
    scheduler: str | None
    force: bool
    progress: bool
    xlsx: bool = False


def _run(
    sweep: Sweep,
    spec_text: str,
    claim: Claim,
    resuming: bool,
    interrupts: Interrupts,
    how: _How,
) -> SweepResult:
    folder = claim.path
    with backend(how.workers, how.scheduler, interrupts) as chosen:  # a bad scheduler fails here
        if how.force and not claim.fresh:
            empty_sweep_folder(folder)
        store = Store.create(folder, sweep, spec_text)
        damaged = _check_parts(store) if resuming else []
        store.remove_orphans()
        done = store.done() if resuming else set()
        todo = [run for run in plan(sweep) if run not in done]
        kept = f", {len(done)} kept from before" if resuming else ""
        log.info(
            "%s: %d of %d runs to do%s, on %s -> %s/",
            sweep.spec.name,
            len(todo),
            sweep.runs,
            kept,
            chosen.name,
            folder,
        )
        outcome = execute(sweep, store, chosen, todo, how.progress, interrupts=interrupts)
    if outcome.interrupted:
        raise SweepInterrupted(folder)
    with interrupts.at_once():
        report = analyze_folder(folder, xlsx=how.xlsx)
    return SweepResult(
        folder, sweep.spec.name, report, outcome.ran, outcome.seconds, damaged=damaged
    )


def _check_parts(store: Store) -> list[str]:
    """Quarantine damaged parts (their runs are then run again), saying so."""
    damaged = [str(damage) for damage in store.verify()]
    for damage in damaged:
        log.warning("%s", damage)
    return damaged


def analyze(folder: Folder, xlsx: bool = False) -> SweepResult:
    """Rebuild a sweep folder's analysis (figures, tables, ``summary.md``) from its results,
    after checking its parts (a damaged one is quarantined, not fatal)."""
    path = Path(folder)
    check_options(out=folder)
    store = Store(path)
    meta = store.meta()
    with claim_existing(path, "analyze", Where(None)):
        damaged = _check_parts(store)
        report = analyze_folder(path, xlsx=xlsx)
    missing = max(0, int(meta.get("runs") or 0) - report.runs)
    return SweepResult(
        path, str(meta.get("name", path.name)), report, missing=missing, damaged=damaged
    )


def _check_options(
    workers: int, scheduler: str | None, out: Folder | None, resume: bool, force: bool
) -> None:
    problems = []
    try:
        check_options(workers=workers, out=out, scheduler=scheduler)
    except InputError as exc:
        problems.extend(exc.problems)
    if scheduler and workers != 1:
        problems.append(
            Problem(
                "--workers and --scheduler: give one or the other "
                "(a cluster's size is its workers')",
                COMMAND_LINE,
            )
        )
    if resume and force:
        problems.append(
            Problem("--resume keeps a folder and --force replaces it: give one", COMMAND_LINE)
        )
    if problems:
        raise InputError(problems)


@contextlib.contextmanager
def _claim(
    out: Folder | None, resume: bool, force: bool, sweep: Sweep
) -> Iterator[tuple[Claim, bool]]:
    """The output folder, claimed for this sweep, and whether earlier results in it are kept
    (``resume``). Released (its lock removed; the folder too if this made it and it is still
    empty) on the way out."""
    default = default_folder(RESULTS, sweep.spec.name)
    if resume:
        claim, resuming = _claim_to_resume(out, sweep, default)
    else:
        claim = claim_output(out, default, "sweep", force, replaceable=is_sweep_folder)
        resuming = False
    with claim:
        yield claim, resuming


def _claim_to_resume(out: Folder | None, sweep: Sweep, default: Path) -> tuple[Claim, bool]:
    folder = Path(out) if out else default
    where = Where("--out" if out else None)
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
