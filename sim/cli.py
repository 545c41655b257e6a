"""The ``sim`` command: a thin layer over the Python API.

Exit codes: 0 ok, 1 a run failed, 2 bad input. Messages are one line each; the traceback is
shown only with ``--debug``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import signal
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

from sim.errors import InputError, OutputError, Problem, RunError

Command = Callable[[argparse.Namespace], int]
CLOSED_PIPE = 141
"""The exit code when stdout's reader went away (``sim run ... | head``): 128 + SIGPIPE, as a
shell reports for other tools."""


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit code instead of exiting (testable). Everything,
    argument parsing included, is inside the handlers: an interrupt anywhere exits 130."""
    args: argparse.Namespace | None = None
    try:
        parser = build_parser()
        try:
            args = parser.parse_args(argv)
        except SystemExit as exc:  # argparse exits 2 on bad usage, 0 on --help
            return int(exc.code or 0)
        command: Command = args.command
        with _log_to_stderr():
            return command(args)
    except (Exception, KeyboardInterrupt) as exc:
        return _exit_code(exc, args)


def _exit_code(exc: BaseException, args: argparse.Namespace | None) -> int:
    """One line on stderr for what went wrong, and the exit code that says what kind it was."""
    if isinstance(exc, InputError):
        for problem in exc.problems:
            print(f"error: {problem}", file=sys.stderr)
        return 2
    if isinstance(exc, KeyboardInterrupt):  # a sweep's says what was kept and how to go on
        print(f"interrupted: {exc or 'finished results were kept'}", file=sys.stderr)
        return 130
    if isinstance(exc, BrokenPipeError):
        return closed_pipe()
    if isinstance(exc, RunError):
        _fail(args, f"run failed: {exc}")
    elif isinstance(exc, OutputError):
        _fail(args, str(exc))
    elif isinstance(exc, OSError) and exc.filename:  # an unexpected one, still located
        _fail(args, f"{os.fsdecode(exc.filename)}: {exc.strerror or exc}")
    else:  # the last resort: one line, not a traceback
        _fail(args, f"{type(exc).__name__}: {exc}")
    return 1


def closed_pipe() -> int:
    """Stop quietly when stdout's reader has gone: later writes (and Python's final flush) go
    to /dev/null instead of raising again."""
    with contextlib.suppress(OSError, ValueError):
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
    return CLOSED_PIPE


def main_entry() -> None:
    """The console script: SIGTERM is handled like Ctrl-C, so partial outputs are cleaned up
    and finished results kept, wherever in the command it lands."""
    signal.signal(signal.SIGTERM, _interrupt)
    try:
        code = main()
        sys.stdout.flush()
    except KeyboardInterrupt:  # landed outside main's handlers (on its way out)
        code = 130
    except BrokenPipeError:
        code = closed_pipe()
    sys.exit(code)


def _interrupt(signum: int, frame: object) -> None:
    raise KeyboardInterrupt


class _Stderr(logging.Handler):
    """What the Python API logs (``sim.*`` loggers: notes at INFO, warnings) as lines on the
    current ``sys.stderr`` (looked up at each message, so that tests capturing it see them)."""

    def emit(self, record: logging.LogRecord) -> None:
        prefix = "warning: " if record.levelno >= logging.WARNING else ""
        print(prefix + self.format(record), file=sys.stderr)


@contextlib.contextmanager
def _log_to_stderr() -> Iterator[None]:
    logger = logging.getLogger("sim")
    handler, level = _Stderr(), logger.level
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    try:
        yield
    finally:
        logger.removeHandler(handler)
        logger.setLevel(level)


def _fail(args: argparse.Namespace | None, message: str) -> None:
    if getattr(args, "debug", False):
        traceback.print_exc()
    print(f"error: {message}", file=sys.stderr)


def build_parser() -> argparse.ArgumentParser:
    """The ``sim`` command's arguments: one subcommand a Python function of ``sim``."""
    parser = argparse.ArgumentParser(
        prog="sim", description="Rare-earth supply-disruption scenarios for Myanmar."
    )
    parser.add_argument("--debug", action="store_true", help="show tracebacks")
    sub = parser.add_subparsers(required=True, metavar="COMMAND")

    p = sub.add_parser("run", help="run scenarios and write their results")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--seed", type=int, help="master seed (default: the scenario's)")
    p.add_argument("--replications", type=int, help="replications (default: the scenario's)")
    p.add_argument("--workers", type=int, default=1, help="processes for replications")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://host:port")
    p.add_argument("--out", help="output folder (one FILE only; default results/<name>)")
    p.add_argument(
        "--set",
        action="append",
        metavar="PATH=VALUE",
        help="override a parameter by dotted path (repeatable)",
    )
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--no-plot", action="store_true", help="skip imports.png")
    p.add_argument("--allow-large", action="store_true", help="lift the soft limits on work")
    p.add_argument(
        "--baseline",
        metavar="FILE",
        help="a scenario run with the same seeds and drawn dashed on imports.png",
    )
    p.add_argument("--xlsx", action="store_true", help="also write results.xlsx (a sheet a table)")
    p.set_defaults(command=cmd_run)

    kinds = ("scenario", "sweep", "targets")
    p = sub.add_parser("validate", help="check scenario, sweep or targets files without running")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--kind", choices=kinds, help="the files' kind (default: told by their keys)")
    p.set_defaults(command=cmd_validate)

    p = sub.add_parser("schema", help="print the JSON Schema of scenario, sweep or targets files")
    p.add_argument("--kind", choices=kinds, default="scenario", help="which files (scenario)")
    shown = p.add_mutually_exclusive_group()
    shown.add_argument(
        "--markdown", action="store_true", help="print the key tables (markdown), not JSON"
    )
    shown.add_argument(
        "--docs",
        nargs="+",
        metavar="FILE",
        help="rewrite the key tables marked in these markdown files (<!-- keys Model -->)",
    )
    p.set_defaults(command=cmd_schema)

    p = sub.add_parser("show", help="list what a scenario defines, after extends: and set:")
    p.add_argument("file", metavar="FILE")
    p.set_defaults(command=cmd_show)

    p = sub.add_parser("calibrate", help="fit a scenario's free parameters to reported figures")
    _calibration_arguments(
        p,
        seeds=4,
        out=None,
        out_help="report folder (default results/calibration; with --check, none unless given)",
    )
    p.add_argument(
        "--params",
        nargs="+",
        default=["scenarios/world/calibrated.yaml"],
        metavar="FILE",
        help="files the fitted parameters are written to, whole: each to the first whose chain "
        "holds it",
    )
    p.add_argument("--dry-run", action="store_true", help="fit and report; write no params file")
    p.add_argument(
        "--check",
        action="store_true",
        help="no fitting: exit 1 unless the scenario meets its targets' passing rules",
    )
    p.set_defaults(command=cmd_calibrate)

    p = sub.add_parser("backtest", help="replay a scenario against every reported figure")
    _calibration_arguments(p, seeds=20, out="results/backtest")
    p.set_defaults(command=cmd_backtest)

    p = sub.add_parser("compare", help="run scenarios side by side: plots, KPIs, report")
    p.add_argument("files", nargs="+", metavar="FILE")
    p.add_argument("--replications", type=int, help="replications per scenario")
    p.add_argument("--seed", type=int, help="master seed shared by all scenarios")
    p.add_argument("--workers", type=int, default=1, help="processes")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://host:port")
    p.add_argument("--out", default="results/compare", help="output folder")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--allow-large", action="store_true", help="lift the soft limits on work")
    p.add_argument("--xlsx", action="store_true", help="also write compare.xlsx (a sheet a table)")
    p.set_defaults(command=cmd_compare)

    p = sub.add_parser("sweep", help="run a parameter sweep")
    p.add_argument("spec", metavar="SPEC")
    p.add_argument("--workers", type=int, default=1, help="local processes (1: serial)")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://host:port")
    p.add_argument("--resume", action="store_true", help="run only what is missing in --out")
    p.add_argument("--out", help="output folder (default results/sweeps/<name>)")
    p.add_argument("--check", action="store_true", help="exit 1 when an expectation fails")
    p.add_argument("--junit", metavar="FILE", help="JUnit XML report of expectations")
    p.add_argument("--force", action="store_true", help="replace an existing output folder")
    p.add_argument("--allow-large", action="store_true", help="lift the soft limits on work")
    p.add_argument("--xlsx", action="store_true", help="also write analysis/sweep.xlsx")
    p.set_defaults(command=cmd_sweep)

    p = sub.add_parser("analyze", help="rebuild a sweep's analysis from its folder")
    p.add_argument("folder", metavar="DIR")
    p.add_argument("--xlsx", action="store_true", help="also write analysis/sweep.xlsx")
    p.set_defaults(command=cmd_analyze)
    return parser


def cmd_validate(args: argparse.Namespace) -> int:
    """Check files without running; one ``ok:`` line a file (problems raise, exit 2)."""
    from sim.api import validate

    for checked in validate(args.files, kind=args.kind):
        print(f"ok: {checked.file} ({checked.summary})")
    return 0


def cmd_schema(args: argparse.Namespace) -> int:
    """Print the JSON Schema of a kind of file, its key tables, or rewrite a doc's tables."""
    from sim.api import key_tables, refresh_docs, schema

    if args.docs:
        stale = refresh_docs(args.docs)
        for file in args.docs:
            print(f"{'updated' if file in stale else 'up to date'}: {file}")
    elif args.markdown:
        for name, table in key_tables(args.kind).items():
            print(f"### {name}\n\n{table}")
    else:
        print(json.dumps(schema(args.kind), indent=2))
    return 0


def cmd_show(args: argparse.Namespace) -> int:
    """List what a scenario defines, section by section."""
    from sim.api import show

    for section, entries in show(args.file).items():
        print(f"{section}: {len(entries)}")
        width = max((len(key) for key in entries), default=0)
        for key, name in entries.items():
            print(f"  {key:<{width}}  {name}")
    return 0


def _calibration_arguments(
    p: argparse.ArgumentParser, seeds: int, out: str | None, out_help: str = "report folder"
) -> None:
    """What calibrate and backtest share: scenario, targets, seeds, report folder, split."""
    p.add_argument("scenario", metavar="SCENARIO")
    p.add_argument(
        "--targets", required=True, nargs="+", metavar="FILE", help="targets files or folders"
    )
    p.add_argument("--seeds", type=int, default=seeds, metavar="K", help="replications averaged")
    p.add_argument("--out", default=out, help=out_help)
    p.add_argument(
        "--train-until",
        metavar="DATE",
        help="fit only figures ending by DATE (YYYY-MM-DD); report later ones as out of sample",
    )
    p.add_argument("--allow-large", action="store_true", help="lift the soft limits on work")
    p.add_argument("--scheduler", metavar="ADDRESS", help="Dask scheduler, tcp://host:port")


def cmd_run(args: argparse.Namespace) -> int:
    """Every value and file is checked, and every output folder claimed, before any run."""
    from sim.api import run
    from sim.io.claim import claim_output, default_folder
    from sim.scenario.limits import check_budget
    from sim.scenario.loader import FROM_SET_OPTION, load_scenarios

    overrides = check_run_options(args)
    scenarios = load_scenarios(args.files, overrides, FROM_SET_OPTION)  # all before any run
    baseline = load_scenarios([args.baseline])[0] if args.baseline else None
    if not args.allow_large:
        for file, scenario in zip(args.files, scenarios, strict=True):
            check_budget(
                scenario, args.replications, file, overrides=overrides, origin=FROM_SET_OPTION
            )
        if baseline is not None:
            check_budget(baseline, args.replications, args.baseline)
    with contextlib.ExitStack() as claims:
        targets = [
            claims.enter_context(
                claim_output(args.out, default_folder(RESULTS, s.name), "run", args.force)
            )
            for s in scenarios
        ]
        for scenario, claim in zip(scenarios, targets, strict=True):
            with _progress(scenario.name) as progress:
                result = run(
                    scenario,
                    seed=args.seed,
                    replications=args.replications,
                    workers=args.workers,
                    scheduler=args.scheduler,
                    out=claim,
                    plot=not args.no_plot,
                    baseline=baseline,
                    xlsx=args.xlsx,
                    allow_large=True,  # checked above, located at the files and options
                    progress=progress,
                )
            print(
                f"{scenario.name}: {result.replications} replication(s) in "
                f"{result.wall_seconds:.2f} s -> {result.folder}/"
            )
            print(kpi_table(result))
    return 0


RESULTS = Path("results")
"""Where ``sim run`` writes by default: ``results/<scenario name>/``."""


def check_run_options(args: argparse.Namespace) -> dict[str, Any]:
    """Every command-line value of ``sim run`` (all problems at once); the ``--set`` values
    as overrides."""
    from sim.scenario.loader import parse_overrides
    from sim.scenario.options import check_options

    problems: list[Problem] = []
    if args.out is not None and len(args.files) > 1:
        message = "takes one FILE; omit it to write results/<name>/"
        problems.append(Problem(message, file="<command line>", path="--out"))
    overrides: dict[str, Any] = {}
    try:
        check_options(
            seed=args.seed,
            replications=args.replications,
            workers=args.workers,
            out=args.out,
            scheduler=args.scheduler,
        )
    except InputError as exc:
        problems.extend(exc.problems)
    if args.scheduler and args.workers != 1:
        message = (
            "--workers and --scheduler: give one or the other (a cluster's size is its workers')"
        )
        problems.append(Problem(message, file="<command line>"))
    try:
        overrides = parse_overrides(args.set or [])
    except InputError as exc:
        problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return overrides


def parse_sets(pairs: list[str] | None) -> dict[str, Any]:
    """``--set PATH=VALUE`` pairs as overrides (see ``sim.scenario.loader.parse_overrides``)."""
    from sim.scenario.loader import parse_overrides

    return parse_overrides(pairs or [])


def cmd_calibrate(args: argparse.Namespace) -> int:
    """Fit (or with --check, only evaluate) and report: 0 when every targets file's rule holds
    in sample, 1 when one does not. --check writes nothing unless --out is given; a fit writes
    its report to --out (default results/calibration)."""
    from sim.calibrate import calibrate
    from sim.calibrate.calibration import DEFAULT_REPORT, progress_bar, verdict

    out = args.out if args.out is not None or args.check else DEFAULT_REPORT
    with progress_bar(enabled=not args.check) as progress:
        report = calibrate(
            args.scenario,
            args.targets,
            seeds=args.seeds,
            out=out,
            params=None if args.dry_run else args.params,
            check=args.check,
            train_until=args.train_until,
            allow_large=args.allow_large,
            progress=progress,
            scheduler=args.scheduler,
        )
    for written in report.params_files:
        print(f"wrote {written}")
    return verdict(report)


def cmd_backtest(args: argparse.Namespace) -> int:
    """Replay as is and report; exit as ``calibrate --check`` would."""
    from sim.calibrate import backtest
    from sim.calibrate.calibration import verdict

    report = backtest(
        args.scenario,
        args.targets,
        seeds=args.seeds,
        out=args.out,
        train_until=args.train_until,
        allow_large=args.allow_large,
        scheduler=args.scheduler,
    )
    return verdict(report)


def cmd_compare(args: argparse.Namespace) -> int:
    """Run scenarios paired and print each one's time and the headline comparison."""
    from sim.compare import compare
    from sim.compare.command import summary

    comparison = compare(
        args.files,
        seed=args.seed,
        replications=args.replications,
        workers=args.workers,
        scheduler=args.scheduler,
        out=args.out,
        force=args.force,
        xlsx=args.xlsx,
        allow_large=args.allow_large,
    )
    for result in comparison.results:
        print(
            f"{result.scenario.name}: {result.replications} replication(s) in "
            f"{result.wall_seconds:.2f} s"
        )
    print()
    print(summary(comparison))
    print(f"-> {comparison.folder}/")
    return 0


def cmd_sweep(args: argparse.Namespace) -> int:
    """Exit 0: all runs finished (and, with --check, every expectation held); 1: a run failed
    or (with --check) an expectation failed; 2: bad input; 130: interrupted."""
    from sim.sweep import sweep

    result = sweep(
        args.spec,
        workers=args.workers,
        scheduler=args.scheduler,
        out=args.out,
        resume=args.resume,
        force=args.force,
        allow_large=args.allow_large,
        junit=args.junit,
        xlsx=args.xlsx,
    )
    total = result.planned
    print(
        f"{result.name}: {total - result.failed} of {total} runs finished, {result.failed} "
        f"failed ({result.ran} run now in {result.seconds:.1f} s) -> {result.folder}/"
    )
    _print_verdicts(result)
    if args.check and not result.verdicts:
        print("note: --check given but the sweep has no expectations", file=sys.stderr)
    if result.failed:
        print(
            f"error: {result.failed} run(s) failed; see runs in the parts and analysis/summary.md",
            file=sys.stderr,
        )
        return 1
    if args.check and not result.passed:
        failed = sum(not v.passed for v in result.verdicts)
        print(f"error: {failed} expectation(s) failed", file=sys.stderr)
        return 1
    return 0


def cmd_analyze(args: argparse.Namespace) -> int:
    """Rebuild a sweep folder's analysis and print where it went."""
    from sim.sweep import analyze

    result = analyze(args.folder, xlsx=args.xlsx)
    total = result.planned
    print(f"{total - result.failed} of {total} runs finished, {result.failed} failed")
    if result.missing:
        print(
            f"note: {result.missing} planned run(s) have no result; `sim sweep SPEC --out "
            f"{result.folder} --resume` runs them",
            file=sys.stderr,
        )
    _print_verdicts(result)
    return 0


def _print_verdicts(result: Any) -> None:
    """Each expectation's PASS/FAIL, KPI failures, then the sweep's verdict: FAIL when any run
    failed or any expectation did not hold, whatever the expectations' own lines say."""
    print(f"analysis: {result.summary}")
    for verdict in result.verdicts:
        mark = "PASS" if verdict.passed else "FAIL"
        print(f"{mark} {verdict.expectation.name}: {verdict.summary}")
        for line in verdict.failures if not verdict.passed else []:
            print(f"     {line}")
    for name, (count, reason) in result.kpi_failures.items():
        print(f"warning: KPI {name!r} has no value in {count} run(s): {reason}", file=sys.stderr)
    print(f"verdict: {_verdict(result)}")


def _verdict(result: Any) -> str:
    reasons = []
    if result.failed:
        reasons.append(f"{result.failed} run(s) failed")
    failed = sum(not v.passed for v in result.verdicts)
    if failed:
        reasons.append(f"{failed} expectation(s) failed")
    if reasons:
        return f"FAIL ({'; '.join(reasons)})"
    held = f"; {len(result.verdicts)} expectation(s) held" if result.verdicts else ""
    return f"PASS ({result.planned} run(s) finished{held})"


SERIES = [
    ("China from Myanmar", "imports.china.myanmar.all"),
    ("  of which medium/heavy", "imports.china.myanmar.mhree"),
    ("China, all origins", "imports.china.all.all"),
    ("Quad from Myanmar, each tonne once", "imports.quad.myanmar.all"),
]
"""Annual rows of the run table. The Quad is counted once per tonne, at its first Quad border
(US-bound product crosses India first); where its tonnes are bound follows as a breakdown."""
TOTALS = [
    ("Reached Quad processors", "quad_delivered_t"),
    ("Processed by Quad plants", "quad_processed_t"),
    ("Peak stockpile on sites", "peak_stockpile_t"),
    ("Lost to interdiction", "lost_t"),
]


def kpi_table(result: object) -> str:
    """Headline KPIs, tonnes: annual imports (mean over replications) by year, then totals
    over the horizon with their 5-95% range."""
    from sim.results.result import Result

    assert isinstance(result, Result)
    from sim.results.kpis import quad_destinations

    full = result.kpi_stats()
    summary = full["mean"]
    years = sorted({k.rsplit(".", 1)[1] for k in summary.index if k.startswith("imports.")})
    series = SERIES + [
        (f"  of which bound for {result.scenario.importers[d].name}", f"quad_bound.{d}.myanmar")
        for d in quad_destinations(result.scenario)
    ]
    width = max(len(label) for label, _ in series + TOTALS)
    lines = [f"  {'annual imports, t (mean)':<{width}}" + "".join(f"{y:>9}" for y in years)]
    for label, key in series:
        values = [summary.get(f"{key}.{year}", float("nan")) for year in years]
        if any(v > 0 for v in values):
            lines.append(f"  {label:<{width}}" + "".join(f"{v:>9,.0f}" for v in values))
    lines.append(f"  {'over the horizon, t':<{width}}{'mean':>9}{'5-95% range':>22}")
    for label, key in TOTALS:
        row = full.loc[key]
        lines.append(
            f"  {label:<{width}}{row['mean']:>9,.0f}{row['p5']:>11,.0f} - {row['p95']:<9,.0f}"
        )
    return "\n".join(lines)


class _progress:
    """A tqdm bar on stderr for long runs (silent when stderr is not a terminal)."""

    def __init__(self, label: str) -> None:
        self.label = label
        self.bar: Any = None

    def __enter__(self) -> Callable[[int, int], None]:
        return self.update

    def update(self, done: int, total: int) -> None:
        if total < 2:
            return
        if self.bar is None:
            from tqdm import tqdm

            self.bar = tqdm(
                total=total, desc=self.label, unit="rep", file=sys.stderr, disable=None, leave=False
            )
        self.bar.update(1)

    def __exit__(self, *exc: object) -> None:
        if self.bar is not None:
            self.bar.close()
