"""The commands without a package of their own, as Python functions: run, validate, schema, show
(and the docs' key tables, written from the schema: key_tables, refresh_docs).

``import sim`` exposes these and the applications' (``sim.compare``, ``sim.sweep``,
``sim.analyze``, ``sim.calibrate``). Every function takes plain arguments (files or
``Scenario`` objects, seeds, counts, folders), returns objects and raises ``InputError`` for
bad input; none prints. The ``sim`` command only parses its arguments, calls these and prints.

    import sim
    result = sim.run("scenarios/baseline.yaml", replications=20, out="results/baseline")
    result.imports        # monthly tonnes by importer, origin and product
"""

from __future__ import annotations

import contextlib
import functools
import os
from collections.abc import Callable, Mapping, Sequence
from concurrent.futures import Executor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sim.errors import InputError, Problem
from sim.scenario.loader import Source, load_scenarios, source_name
from sim.scenario.schema import Scenario

if TYPE_CHECKING:
    from sim.io.claim import Claim
    from sim.results.result import Result

Folder = str | os.PathLike[str]


def run(
    scenario: Source,
    *,
    overrides: Mapping[str, Any] | None = None,
    seed: int | None = None,
    replications: int | None = None,
    workers: int = 1,
    executor: Executor | None = None,
    scheduler: str | None = None,
    out: Folder | Claim | None = None,
    force: bool = False,
    plot: bool = True,
    baseline: Source | None = None,
    xlsx: bool = False,
    allow_large: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run every replication of a scenario (a file or a ``Scenario``) into one ``Result``.

    ``overrides`` set parameters by dotted path; ``seed`` and ``replications`` default to the
    scenario's. Replications run on ``executor`` (a process pool, a Dask client's
    ``get_executor()``), else on a Dask cluster (``scheduler``, tcp://host:port), else on
    ``workers`` local processes, else here; the outcome is the same. Each replication is
    reduced to its monthly totals as it finishes, so memory does not hold ledgers.

    With ``out`` the outputs (CSV tables, kpis.json, manifest.json, with ``xlsx`` a workbook
    and with ``plot`` imports.png, where a ``baseline`` scenario run with the same seeds is
    drawn dashed) appear there all at once: the folder is claimed before the run, an existing
    one is kept and the next free ``out-2``, ``out-3`` used (``force`` replaces an earlier
    run's folder); ``result.folder`` says where. The tables are written as replications finish
    and not kept in memory (the Result reads flows, timeline and events back from the folder
    when asked), so memory stays flat whatever the number of replications. ``out`` may also be
    a folder already claimed (``sim.io.claim``), as the command claims all of its folders first.
    ``allow_large`` lifts the soft limits on work; ``progress(done, total)`` is called as
    replications finish.
    """
    from sim.io.claim import Claim, claim_output
    from sim.scenario.limits import check_budget
    from sim.scenario.options import check_options

    check_options(seed=seed, replications=replications, workers=workers, scheduler=scheduler)
    if out is not None and not isinstance(out, Claim):
        check_options(out=out)
    (loaded,) = load_scenarios([scenario], overrides)
    paired = load_scenarios([baseline])[0] if baseline is not None and plot else None
    if not allow_large:
        check_budget(loaded, replications, source_name(scenario), overrides=overrides)
        if paired is not None and baseline is not None:
            check_budget(paired, replications, source_name(baseline))
    how = _How(seed, replications, workers, executor, scheduler, progress)
    if out is None:
        return _simulate(loaded, None, how, None)[0]
    with contextlib.ExitStack() as stack:
        if isinstance(out, Claim):
            claim = out
        else:
            claim = stack.enter_context(claim_output(out, Path(out), "run", force))
        with claim.writing() as folder:
            result, base = _simulate(loaded, paired, how, folder)
            _write_extras(result, base, folder, plot, xlsx)
    result.folder = claim.path
    return result


@dataclass(frozen=True)
class _How:
    """How replications are run: seed, count, where, and who hears of progress."""

    seed: int | None
    replications: int | None
    workers: int
    executor: Executor | None
    scheduler: str | None
    progress: Callable[[int, int], None] | None


def _simulate(
    scenario: Scenario, baseline: Scenario | None, how: _How, folder: Path | None
) -> tuple[Result, Result | None]:
    """The scenario's replications (tables streamed into ``folder`` when given) and, paired
    with them (same seed and count), the baseline's, of which only the series are kept."""
    from sim.results.runner import executor_for
    from sim.results.runner import run as run_replications

    with executor_for(how.workers, how.executor, how.scheduler) as chosen:
        result = run_replications(
            scenario, how.seed, how.replications, chosen, how.progress, out=folder
        )
        base = None
        if baseline is not None:
            base = run_replications(
                baseline, result.seed, result.replications, chosen, keep_tables=False
            )
    return result, base


def _write_extras(
    result: Result, base: Result | None, folder: Path, plot: bool, xlsx: bool
) -> None:
    """What a run writes besides its tables: the outcomes and the workbook, the figure."""
    from sim.io.exports import write_run_extras

    write_run_extras(result, folder, xlsx=xlsx)
    if plot:
        from sim.io.plots import imports_figure, save

        save(imports_figure(result, base), str(folder / "imports.png"))


KINDS = ("scenario", "sweep", "targets")
"""The kinds of input file: scenarios, sweep files, calibration targets files."""


@dataclass(frozen=True)
class Checked:
    """A file that validated: what kind of file it is and what it holds."""

    file: str
    kind: str
    """``scenario``, ``sweep`` or ``targets``."""
    value: Any
    """The validated object: a ``Scenario``, a ``Sweep`` (sim.sweep.spec) or a
    ``TargetsFile`` (sim.calibrate.targets)."""

    @property
    def summary(self) -> str:
        """One line for people: what the file describes."""
        if self.kind == "sweep":
            spec = self.value.spec
            return (
                f"sweep {spec.name}: {len(self.value.design)} sample(s) x {spec.replications} "
                f"replication(s) of {self.value.base.name}"
            )
        if self.kind == "targets":
            return f"{len(self.value.items)} target(s)"
        scenario = self.value
        return f"{scenario.name}, {scenario.start} to {scenario.end}"


def validate(
    files: Source | Sequence[Source],
    *,
    overrides: Mapping[str, Any] | None = None,
    kind: str | None = None,
) -> list[Checked]:
    """Check scenario, sweep or targets files without running anything; InputError lists the
    problems of all files at once.

    ``kind`` (default: told by each file's top-level keys: a sweep file has ``base`` and
    ``parameters``, a targets file ``targets``) says how to read them. A sweep file's every
    sample is validated, as ``sim.sweep`` would before running. ``overrides`` (dotted path ->
    value) are applied to scenarios, as ``run`` would.
    """
    _check_kind(kind)
    checked: list[Checked] = []
    problems: list[Problem] = []
    for source in _as_list(files):
        try:
            checked.append(_check_one(source, kind, overrides))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return checked


def _check_one(source: Source, kind: str | None, overrides: Mapping[str, Any] | None) -> Checked:
    file = source_name(source)
    found = "scenario" if isinstance(source, Scenario) else kind or kind_of(source)
    if found == "sweep":
        from sim.sweep.loading import load_sweep

        return Checked(file, found, load_sweep(file))
    if found == "targets":
        from sim.calibrate.targets import load_targets_file

        return Checked(file, found, load_targets_file(file))
    return Checked(file, found, load_scenarios([source], overrides)[0])


def kind_of(file: str | os.PathLike[str]) -> str:
    """What kind of input a file is, told by its top-level keys: ``sweep`` (``base`` and
    ``parameters``), ``targets`` (``targets``), else ``scenario``."""
    from sim.scenario.loader import read_yaml

    data, _ = read_yaml(file)
    if isinstance(data, dict):
        if "base" in data and "parameters" in data:
            return "sweep"
        if "targets" in data:
            return "targets"
    return "scenario"


def _check_kind(kind: str | None) -> None:
    if kind is not None and kind not in KINDS:
        message = f"unknown kind {kind!r}; expected one of {', '.join(KINDS)}"
        raise InputError([Problem(message, "<command line>", None, "--kind")])


def _as_list(files: Source | Sequence[Source]) -> list[Source]:
    if isinstance(files, str | os.PathLike | Scenario):
        return [files]
    if not files:
        raise InputError([Problem("no file given", file="<command line>")])
    return list(files)


def schema(kind: str = "scenario") -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of scenario, sweep or targets files, for editors'
    completion and checks; every key carries its description and unit."""
    _check_kind(kind)
    if kind == "sweep":
        from sim.sweep.spec import SweepSpec

        return _document(SweepSpec.model_json_schema(by_alias=True))
    if kind == "targets":
        from sim.calibrate.targets import TargetsDocument

        return _document(TargetsDocument.model_json_schema())
    from sim.scenario.loader import scenario_json_schema

    return scenario_json_schema()


def _document(schema: dict[str, Any]) -> dict[str, Any]:
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def key_tables(kind: str | None = None) -> dict[str, str]:
    """Markdown tables of the keys of scenario, sweep or targets files (all three by default),
    by model name (``Site``, ``BorderClosure``, ``SweepSpec``): each key's kind of value,
    default and meaning with its unit, written from the schema's descriptions."""
    from sim.scenario import keytables

    _check_kind(kind)
    tables: dict[str, str] = {}
    for each in [kind] if kind is not None else list(KINDS):
        for name, model in keytables.models(schema(each)).items():
            tables[name] = keytables.table(model)
    return tables


def refresh_docs(files: Sequence[str | os.PathLike[str]], *, write: bool = True) -> list[str]:
    """Rewrite the key tables a markdown file marks (``<!-- keys Site -->`` ...
    ``<!-- /keys -->``) from the schemas of all three kinds of file; the files that were stale
    (with ``write=False`` nothing is written: a check)."""
    from sim.io.durable import atomic_file
    from sim.scenario import keytables

    models: dict[str, Any] = {}
    for each in KINDS:
        models.update(keytables.models(schema(each)))
    stale = []
    for file in files:
        path = Path(file)
        text = _read_doc(path)
        try:
            fresh = keytables.fill(text, models)
        except keytables.UnknownTable as exc:
            raise InputError([Problem(str(exc), file=str(path))]) from None
        if fresh != text:
            stale.append(os.fspath(file))
            if write:
                atomic_file(path, functools.partial(_write_text, fresh))
    return stale


def _write_text(text: str, path: Path) -> None:
    path.write_text(text, encoding="utf-8")


def _read_doc(path: Path) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise InputError([Problem(f"cannot read: {reason}", file=str(path))]) from None


SECTIONS = ("groups", "sites", "crossings", "routes", "processors", "importers", "events")
"""What ``show`` lists of a scenario."""


def show(
    scenario: Source, *, overrides: Mapping[str, Any] | None = None
) -> dict[str, dict[str, str]]:
    """What a scenario defines once its ``extends:`` and ``set:`` are resolved: for each of
    groups, sites, crossings, routes, processors, importers and events, id -> its name (an
    event: its kind and start)."""
    (loaded,) = load_scenarios([scenario], overrides)
    listing: dict[str, dict[str, str]] = {}
    for section in SECTIONS:
        entries = getattr(loaded, section)
        if section == "events":
            listing[section] = {eid: _event_line(event) for eid, event in entries.items()}
        else:
            listing[section] = {key: entry.name or key for key, entry in entries.items()}
    return listing


def _event_line(event: Any) -> str:
    start = event.start
    when = str(start) if not hasattr(start, "low") else f"{start.low} to {start.high}"
    chance = "" if event.probability == 1 else f", probability {event.probability:g}"
    return f"{event.kind} from {when}{chance}"
