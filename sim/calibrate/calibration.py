"""Calibration and backtesting as Python functions: ``calibrate`` fits the parameters a scenario
declares free to reported figures; ``backtest`` replays the scenario as it stands against them.

Both simulate the scenario K times (seed ``scenario.seed``, replications 0..K-1: the same
random numbers at every parameter value), read every target from the monthly series, and return
a ``Report`` (every target: reported, simulated mean, 5-95% range, error, pass/fail, in or out
of sample). With ``train_until`` only figures that end by that date are fitted; the later ones
are reported as out of sample. A fit writes the fitted values, whole, to the params file
(``scenarios/world/calibrated.yaml``) that scenarios extend, and both write a report folder:
``report.md``, ``report.csv`` and ``backtest.png``.

Units: tonnes (t) of rare-earth product as counted at the importer's customs.
"""

from __future__ import annotations

import contextlib
import os
import shlex
import sys
from collections.abc import Callable, Iterator, Sequence
from datetime import date
from pathlib import Path

from sim.calibrate.figures import backtest_figure
from sim.calibrate.fitting import (
    current_values,
    evaluate,
    fit,
    in_sample,
    max_evaluations,
    rounded,
)
from sim.calibrate.measures import check_quantities, replications_on
from sim.calibrate.params import assign, shadowed, write_params
from sim.calibrate.report import Report, parameters, report_frame, report_markdown, table_text
from sim.calibrate.targets import TargetSet, load_targets
from sim.errors import InputError, Problem
from sim.io.outputs import atomic_folder
from sim.results.runner import executor_for
from sim.scenario.limits import check_budget
from sim.scenario.loader import derive, load_scenario
from sim.scenario.schema import Scenario

PathLike = str | os.PathLike[str]
REPORT_FILES = frozenset({"report.md", "report.csv", "backtest.png", "calibration.png"})
"""What a report folder holds (``calibration.png``: the figure's name in earlier versions); it
is rewritten by every calibration, and only it is."""
FIGURE = "backtest.png"


def calibrate(
    scenario: PathLike,
    targets: PathLike | Sequence[PathLike],
    *,
    seeds: int = 4,
    out: PathLike | None = "results/calibration",
    params: PathLike | Sequence[PathLike] | None = "scenarios/world/calibrated.yaml",
    check: bool = False,
    train_until: date | str | None = None,
    allow_large: bool = False,
    progress: Callable[[float], None] | None = None,
    scheduler: str | None = None,
) -> Report:
    """Fit the scenario's free parameters to the targets (or, with ``check``, only evaluate).

    ``targets``: files or folders of targets files. ``out``: report folder (None: no files).
    ``params``: the file(s) that receive the fit, each written whole: a parameter goes to the
    first whose chain holds its path (the world's file first, then a file only this scenario
    extends); None: fit and report, write nothing. ``train_until``: fit only figures ending by
    this date. ``progress(cost)`` is called after each evaluation of a fit. ``scheduler``: a Dask
    scheduler address; every evaluation's replications then run on that cluster, with the same
    results. Raises InputError (bad input, exit 2).
    """
    until = parse_train_until(train_until)
    _check_seeds(seeds, out, scheduler)
    folder = None if out is None else Path(out)
    if folder is not None:
        check_report_folder(folder)
    file = os.fspath(scenario)
    loaded = load_scenario(file)
    if not allow_large:
        evaluations = 1 if check else max_evaluations(loaded)
        check_budget(loaded, seeds, file, flag="--seeds", evaluations=evaluations)
    target_set = _load_checked(loaded, targets)
    with executor_for(1, scheduler=scheduler) as executor, replications_on(executor):
        if check:
            report = _evaluate_as_is(file, loaded, target_set, seeds, until)
        else:
            report = _fit(file, loaded, target_set, seeds, until, params, progress)
    if folder is not None:
        write_report(report, folder)
    return report


def backtest(
    scenario: PathLike,
    targets: PathLike | Sequence[PathLike],
    *,
    seeds: int = 20,
    out: PathLike | None = "results/backtest",
    train_until: date | str | None = None,
    allow_large: bool = False,
    scheduler: str | None = None,
) -> Report:
    """Replay the scenario as it stands against every target: the same report as a check, with
    more replications by default so that the 5-95% bands mean something."""
    return calibrate(
        scenario,
        targets,
        seeds=seeds,
        out=out,
        params=None,
        check=True,
        train_until=train_until,
        allow_large=allow_large,
        scheduler=scheduler,
    )


def parse_train_until(value: date | str | None) -> date | None:
    """A date, or its ISO text (``2023-12-31``); InputError otherwise."""
    if value is None or isinstance(value, date):
        return value
    try:
        return date.fromisoformat(value)
    except ValueError:
        message = f"not a date (YYYY-MM-DD): {value!r}"
        raise InputError([Problem(message, "<command line>", None, "--train-until")]) from None


def _check_seeds(seeds: int, out: PathLike | None, scheduler: str | None = None) -> None:
    """The command-line values, with the limits every command applies (sim.scenario.options)."""
    from sim.scenario.options import check_options

    check_options(seeds=seeds, out=out, scheduler=scheduler)


def _load_checked(scenario: Scenario, targets: PathLike | Sequence[PathLike]) -> TargetSet:
    """The targets, each quantity checked against what the scenario can report."""
    target_set = load_targets(targets)
    located = []
    for r in target_set.resolved:
        t = r.target
        located.append((target_set.locate(t.id, "quantity"), t.quantity))
        if t.versus is not None:
            located.append((target_set.locate(t.id, "versus"), t.denominator))
    problems = check_quantities(scenario, located)
    if problems:
        raise InputError(problems)
    return target_set


def _evaluate_as_is(
    file: str, scenario: Scenario, targets: TargetSet, seeds: int, until: date | None
) -> Report:
    start = current_values(scenario, file)
    resolved = targets.resolved
    return Report(
        file,
        targets,
        evaluate(scenario, resolved, seeds),
        parameters(scenario, start),
        None,
        in_sample(resolved, until),
        until,
    )


def _fit(
    file: str,
    scenario: Scenario,
    targets: TargetSet,
    seeds: int,
    until: date | None,
    params: PathLike | Sequence[PathLike] | None,
    progress: Callable[[float], None] | None,
) -> Report:
    """Fit, round, re-evaluate the rounded values, write the params files."""
    if not scenario.free:
        raise InputError([Problem("declares no free parameters to fit", file, None, "free")])
    current_values(scenario, file)
    files = _params_files(params)
    holders: dict[str, str] = {}
    if files:
        holders, problems = assign(scenario, files, file)
        if problems:
            raise InputError(problems)
    resolved = targets.resolved
    fitted = in_sample(resolved, until)
    if not any(fitted):
        message = f"no target ends on or before {until}: nothing to fit"
        raise InputError([Problem(message, "<command line>", None, "--train-until")])
    result = fit(scenario, resolved, seeds, progress=progress, fitted=fitted)
    values = rounded(scenario, result.fitted)
    candidate = derive(scenario, values)
    command = _command_line(file, targets, until, files)
    written = []
    for params_file in files:
        mine = {p: v for p, v in values.items() if holders[p] == params_file}
        if not mine:
            continue
        written.append(Path(params_file))
        write_params(Path(params_file), mine, scenario, command)
        for path in shadowed(file, params_file, list(mine)):
            print(f"warning: {file} does not take {path} from {params_file}", file=sys.stderr)
    return Report(
        file,
        targets,
        evaluate(candidate, resolved, seeds),
        parameters(candidate, result.start),
        result,
        fitted,
        until,
        params_files=written,
    )


def _params_files(params: PathLike | Sequence[PathLike] | None) -> list[str]:
    if params is None:
        return []
    if isinstance(params, str | os.PathLike):
        return [os.fspath(params)]
    return [os.fspath(p) for p in params]


def _command_line(file: str, targets: TargetSet, until: date | None, params: list[str]) -> str:
    words = ["sim", "calibrate", file, "--targets", *(f.file for f in targets.files)]
    if until is not None:
        words += ["--train-until", until.isoformat()]
    if params != ["scenarios/world/calibrated.yaml"]:
        words += ["--params", *params]
    return shlex.join(words)


# --- the report folder -------------------------------------------------------------------------


def check_report_folder(folder: Path) -> None:
    """Refuse an ``out`` that names anything but a calibration report (or a new folder).

    The report is the calibration's current one and is replaced on every run, as the params
    file is; but ``--out results`` by mistake must not delete every other result.
    """
    if not folder.exists() or (folder.is_dir() and _holds_only_a_report(folder)):
        return
    message = (
        f"{folder} exists and is not a calibration report folder; refusing to replace it "
        "(give a new folder)"
    )
    raise InputError([Problem(message, "<command line>", None, "--out")])


def _holds_only_a_report(folder: Path) -> bool:
    return all(path.name in REPORT_FILES for path in folder.iterdir())


def write_report(report: Report, folder: Path) -> None:
    """The report folder, all at once: report.md, report.csv, backtest.png."""
    from sim.io.plots import save

    with atomic_folder(folder) as tmp:
        (tmp / "report.md").write_text(report_markdown(report, [FIGURE]), encoding="utf-8")
        report_frame(report).to_csv(tmp / "report.csv", index=False, float_format="%.6f")
        save(backtest_figure(report), str(tmp / FIGURE))
    report.folder = folder


# --- the commands ------------------------------------------------------------------------------


DEFAULT_REPORT = "results/calibration"
"""Where ``sim calibrate`` writes a fit's report when no ``--out`` is given (``--check`` then
writes none)."""


def verdict(report: Report) -> int:
    """Print the table and the verdict; 0 when every file's rule holds in sample, else 1."""
    from sim.calibrate.report import summary_lines

    print(table_text(report.rows))
    if report.folder is not None:
        print(f"report: {report.folder}/report.md")
    for line in summary_lines(report):
        print(line.removeprefix("- ").replace("**", ""))
    if not report.passed:
        print("calibration: the targets' passing rules are not met", file=sys.stderr)
        return 1
    return 0


@contextlib.contextmanager
def progress_bar(enabled: bool) -> Iterator[Callable[[float], None]]:
    """A tqdm counter of evaluations on stderr, showing the current cost (silent off a tty)."""
    from tqdm import tqdm

    disable = None if enabled else True
    with tqdm(desc="calibrate", unit="eval", file=sys.stderr, disable=disable, leave=False) as bar:

        def update(cost: float) -> None:
            bar.update(1)
            bar.set_postfix(cost=f"{cost:.3g}", refresh=False)

        yield update
