"""The YAML boundary: scenario files in, a validated frozen ``Scenario`` (or located problems) out.

Everything a planner can get wrong is reported as ``file:line: key.path: message``, all at once,
so a file is fixed in one pass. To know lines, the YAML is composed into nodes (never constructed
from tags, so no ``!!python/...`` object can be built) and walked here into plain data, recording
where every key path was written. ``extends:`` and ``set:`` are resolved before validation and keep
that record up to date, so a problem points at the file and line that set the offending value.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import functools
import gc
import os
import re
import types
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import date
from typing import Annotated, Any, Literal, Union, get_args, get_origin

import yaml
from pydantic import BaseModel, ValidationError
from yaml.composer import Composer
from yaml.resolver import Resolver

from sim.errors import InputError, Problem
from sim.scenario import files, paths
from sim.scenario.paths import Path
from sim.scenario.schema import Scenario, reference_problems

OVERRIDE = "<override>"
"""The file name given to override values that come from code, not a file."""
COMMAND_LINE = "<command line>"
"""The file name given to values that come from the command line."""

_STD = "tag:yaml.org,2002:"
_SCALAR_TAGS = frozenset(_STD + t for t in ("null", "bool", "int", "float", "str", "timestamp"))
_MAP_TAG = _STD + "map"
_SEQ_TAG = _STD + "seq"
_MERGE_TAG = _STD + "merge"
_DIRECTIVES = ("extends", "set")
"""Top-level keys of a scenario file that the loader consumes; they never reach the model."""


@dataclass(frozen=True)
class Limits:
    """Bounds on what one input file may cost to read.

    A scenario file is a few hundred lines; these stop a hostile or broken file (a YAML alias bomb,
    a runaway generator) from exhausting memory. Callers with unusual inputs may lift them.
    """

    max_bytes: int = 2 * 1024 * 1024
    """Files larger than this are refused before parsing."""
    max_nodes: int = 200_000
    """Values built from one file, counting each expansion of an alias again."""
    max_depth: int = 50
    """Nesting of mappings and lists."""


@dataclass(frozen=True)
class Location:
    """Where a value was written: a file as the user named it and a 1-based line (if known)."""

    file: str
    line: int | None = None
    key_prefix: str = ""
    """Written before the key path in a problem: ``--set `` for a value from the command line."""


FROM_CODE = Location(OVERRIDE)
"""Where overrides given from Python are reported."""
FROM_SET_OPTION = Location(COMMAND_LINE, None, "--set ")
"""Where ``--set PATH=VALUE`` values are reported: ``<command line>: --set PATH: ...``."""


class Provenance:
    """Where each key path of a document was written, so problems can name a file and line.

    The root path ``()`` is always recorded. ``locate`` falls back to the deepest recorded
    ancestor, so a missing key is reported at the mapping that should have held it.
    """

    def __init__(self, root: Location) -> None:
        self._at: dict[Path, Location] = {(): root}

    @property
    def root(self) -> Location:
        """Where the document itself is (its file, line 1)."""
        return self._at[()]

    def record(self, path: Path, location: Location) -> None:
        """Remember where the value at ``path`` was written."""
        self._at[path] = location

    def get(self, path: Path) -> Location | None:
        """Where the value at ``path`` was written, if it was recorded."""
        return self._at.get(path)

    def locate(self, path: Path) -> Location:
        """The location of a path, or of its deepest recorded ancestor."""
        for n in range(len(path), -1, -1):
            found = self._at.get(path[:n])
            if found is not None:
                return found
        return self.root

    def copy_tree(self, path: Path, value: Any, source: Provenance) -> None:
        """Take the locations of ``value`` (at ``path``) and everything under it from ``source``."""
        for sub in _subpaths(path, value):
            found = source.get(sub)
            if found is not None:
                self._at[sub] = found

    def stamp_tree(self, path: Path, value: Any, location: Location) -> None:
        """Record one location for ``value`` and everything under it (a ``set:`` or override)."""
        for sub in _subpaths(path, value):
            self._at[sub] = location

    def drop_tree(self, path: Path, value: Any) -> None:
        """Forget the locations of a value that is being replaced."""
        for sub in _subpaths(path, value):
            if sub:
                self._at.pop(sub, None)

    def __len__(self) -> int:
        return len(self._at)


def _subpaths(path: Path, value: Any) -> Iterator[Path]:
    """``path`` and the path of every key and index inside ``value``."""
    yield path
    if isinstance(value, dict):
        for key, child in value.items():
            yield from _subpaths((*path, key), child)
    elif isinstance(value, list):
        for index, child in enumerate(value):
            yield from _subpaths((*path, index), child)


# --- public API --------------------------------------------------------------------------------


def load_scenario(
    path: str | os.PathLike[str],
    overrides: Mapping[str, Any] | None = None,
    limits: Limits = Limits(),
    origin: Location = FROM_CODE,
) -> Scenario:
    """Read, resolve, override and validate a scenario file; InputError lists every problem.

    ``overrides`` are dotted-path sets applied after ``extends:`` and ``set:`` (from code, a
    sweep or a command line), reported as coming from ``origin``: ``<override>``, or
    ``FROM_SET_OPTION`` for ``--set`` values (see ``parse_overrides``).
    """
    with paused_gc():
        data, provenance = load_document(path, limits, overrides, origin)
        return validate_data(data, provenance)


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """No cyclic garbage collection while a file is read.

    Reading builds many small objects that all survive (nodes, provenance, the model); each
    collection then walks every one of them again, so with the collector on, loading grows
    faster than the file (1,000 event entries: ~1.7x the time per entry of 100). Nothing read
    here forms cycles worth collecting early, and the collector resumes afterwards.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


Source = Scenario | str | os.PathLike[str]
"""A scenario as the Python API takes it: a file, or a ``Scenario`` already loaded."""


def load_scenarios(
    sources: Sequence[Source],
    overrides: Mapping[str, Any] | None = None,
    origin: Location = FROM_CODE,
) -> list[Scenario]:
    """Every scenario of a list of files or ``Scenario`` objects, with ``overrides`` (reported
    as coming from ``origin``) applied to each; InputError lists the problems of all of them
    at once, before anything runs."""
    scenarios, problems = [], []
    for source in sources:
        try:
            if isinstance(source, Scenario):
                scenarios.append(derive(source, overrides, origin) if overrides else source)
            else:
                scenarios.append(load_scenario(source, overrides or None, origin=origin))
        except InputError as exc:
            problems.extend(exc.problems)
    if problems:
        raise InputError(problems)
    return scenarios


def source_name(source: Source) -> str:
    """How problems and reports name a scenario: its file, or ``<name>`` when given loaded."""
    return f"<{source.name}>" if isinstance(source, Scenario) else os.fspath(source)


def load_document(
    path: str | os.PathLike[str],
    limits: Limits = Limits(),
    overrides: Mapping[str, Any] | None = None,
    origin: Location = FROM_CODE,
) -> tuple[dict[str, Any], Provenance]:
    """The merged data of a scenario file after ``extends:``, ``set:`` and the overrides, not
    yet validated, with where each value was written.

    Useful to tools that show or diff resolved scenarios, and to locate a problem found later
    (a soft limit) where its value came from; ``validate_data`` finishes the job.
    """
    data, provenance = _resolve(os.fspath(path), limits, ())
    if overrides:
        problems = _apply_overrides(data, provenance, overrides, origin)
        if problems:
            raise InputError(_sorted(problems))
    return data, provenance


def parse_overrides(pairs: Sequence[str], limits: Limits = Limits()) -> dict[str, Any]:
    """``--set PATH=VALUE`` pairs as overrides, each value read as YAML (numbers, dates, lists,
    mappings) by the same safe reader as files, with the same limits: no tags beyond plain
    YAML's, a node budget against alias bombs, real calendar dates. Every problem is located
    at ``<command line>: --set PATH``; all are reported at once."""
    overrides: dict[str, Any] = {}
    problems: list[Problem] = []
    for pair in pairs:
        dotted, sep, text = pair.partition("=")
        dotted = dotted.strip()
        if not sep or not dotted:
            message = f"takes PATH=VALUE, got {_clip(pair)!r}"
            problems.append(Problem(message, COMMAND_LINE, None, "--set"))
            continue
        try:
            overrides[dotted] = _option_value(text, limits)
        except InputError as exc:
            key = FROM_SET_OPTION.key_prefix + dotted
            problems.extend(Problem(p.message, COMMAND_LINE, None, key) for p in exc.problems)
    if problems:
        raise InputError(problems)
    return overrides


def _option_value(text: str, limits: Limits) -> Any:
    """One command-line value read as YAML (an empty value is null)."""
    if len(text.encode("utf-8", "surrogatepass")) > limits.max_bytes:
        raise _fail(COMMAND_LINE, f"value is too large (the limit is {limits.max_bytes} bytes)")
    if not text.strip():
        return None
    try:
        node = _compose(text, COMMAND_LINE, limits)
    except InputError as exc:
        if any("file is empty" in p.message for p in exc.problems):
            return None  # only a comment
        raise InputError([_value_problem(p, text) for p in exc.problems]) from None
    walker = _Walker(COMMAND_LINE, limits)
    value = walker.value(node, (), 0)
    if walker.problems:
        raise InputError(walker.problems)
    return value


def _value_problem(problem: Problem, text: str) -> Problem:
    """A YAML syntax problem of a command-line value, said of the value, not of a file."""
    if problem.message.startswith(("YAML syntax error", "YAML error")):
        return Problem(f"cannot read the value {_clip(text)!r}", problem.file)
    return problem


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."


def validate_data(data: dict[str, Any], provenance: Provenance) -> Scenario:
    """Validate resolved data into a ``Scenario``; every problem is located via ``provenance``.

    Reference checks (dangling ids, dates outside the horizon) run only on a model that
    validated, since they need typed values.
    """
    try:
        scenario = Scenario.model_validate(data)
    except ValidationError as exc:
        problems = problems_from_validation_error(exc, data, provenance, provenance.root.file)
        raise InputError(problems) from exc
    located = [
        _problem_at(path, message, provenance) for path, message in reference_problems(scenario)
    ]
    if located:
        raise InputError(_sorted(located))
    return scenario


def derive(
    scenario: Scenario, overrides: Mapping[str, Any], origin: Location = FROM_CODE
) -> Scenario:
    """A variant of a scenario with dotted-path values replaced, validated like a file.

    Sweeps and calibration use this to vary any parameter; a bad path or value is an InputError
    located at ``<override>`` with the path, so a sweep spec error reads like a file error.
    """
    data = scenario.model_dump(mode="python")
    provenance = Provenance(origin)
    problems = _apply_overrides(data, provenance, overrides, origin)
    if problems:
        raise InputError(_sorted(problems))
    return validate_data(data, provenance)


def scenario_json_schema() -> dict[str, Any]:
    """A JSON Schema (draft 2020-12) for scenario files, for editors' completion and checks.

    Files may be partial (a world file, a variant that extends it), so nothing is required at
    the top level; ``extends`` and ``set`` are allowed there.
    """
    schema = Scenario.model_json_schema()
    schema.pop("required", None)
    properties = schema.setdefault("properties", {})
    properties["extends"] = {
        "title": "Extends",
        "description": "File(s) this one builds on, relative to this file's folder; "
        "mappings merge key by key, this file wins.",
        "anyOf": [{"type": "string"}, {"type": "array", "items": {"type": "string"}}],
        "default": [],
    }
    properties["set"] = {
        "title": "Set",
        "description": "Dotted key path -> value, applied after merging "
        "(e.g. sites.pangwa.capacity_tpm.mhree: 2500).",
        "type": "object",
        "default": {},
    }
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", **schema}


def read_yaml(
    path: str | os.PathLike[str],
    limits: Limits = Limits(),
) -> tuple[Any, Provenance]:
    """Safely read any YAML input (sweep specs, targets) into plain data with its provenance.

    No ``extends:``/``set:`` handling: callers validate with their own models and can use
    ``problems_from_validation_error`` to report located problems.
    """
    file = os.fspath(path)
    node = _compose(_read_text(file, limits), file, limits)
    walker = _Walker(file, limits)
    data = walker.value(node, (), 0)
    if walker.problems:
        raise InputError(_sorted(walker.problems))
    return data, walker.provenance


def problems_from_validation_error(
    exc: ValidationError,
    data: Any,
    provenance: Provenance,
    file: str,
    model: type[BaseModel] | None = None,
) -> list[Problem]:
    """Every pydantic error as a short, located Problem, sorted by file and line.

    Pydantic's locations include union branch names (``border_closure``, ``constrained-float``);
    only segments that are real keys of ``data`` are kept. Errors from union branches that do not
    fit the value's shape are dropped, so ``days: -1`` reads "must not be negative" rather than
    also "expected a mapping". ``model`` (default: inferred for ``Scenario``) supplies the field
    names for did-you-mean on unknown keys. ``file`` is used when ``provenance`` has no record.
    """
    if model is None and exc.title == Scenario.__name__:
        model = Scenario
    errors = [_Error.of(raw, data, model, provenance) for raw in exc.errors(include_url=False)]
    kept = _prune_union_noise(errors, data)
    problems = [_problem_at(e.path, e.message, provenance, file) for e in kept]
    return _sorted(list(dict.fromkeys(problems)))


# --- reading one file --------------------------------------------------------------------------


def _read_text(file: str, limits: Limits) -> str:
    """The file's text, refusing oversized, unreadable or non-regular files (a named pipe would
    block ``open()`` forever) before any parsing."""
    raw = files.read_bytes(file, limits.max_bytes)
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise _fail(file, f"not UTF-8 text (bad byte at offset {exc.start})") from None


def read_input_text(path: str | os.PathLike[str], limits: Limits = Limits()) -> str:
    """A YAML input's text as written (a sweep file kept beside its results), read with the
    same checks as when it is parsed."""
    return _read_text(os.fspath(path), limits)


class _TooDeep(Exception):
    def __init__(self, line: int | None) -> None:
        self.line = line


class _DepthLimitedComposer(Composer):
    """PyYAML's composer, refusing to nest deeper than ``max_depth`` nodes.

    libyaml's own composer recurses in C and crashes the interpreter on a megabyte of ``[``; this
    one stops at the limit, and since events are parsed on demand, parsing stops there too.
    """

    max_depth = 51
    _depth = 0

    def compose_node(self, parent: yaml.Node | None, index: Any) -> yaml.Node | None:
        self._depth += 1
        try:
            if self._depth > self.max_depth:
                parser: Any = self  # the event methods come from the parser mixed in
                raise _TooDeep(_mark_line(parser.peek_event().start_mark))
            return super().compose_node(parent, index)
        finally:
            self._depth -= 1


class _PyComposer(_DepthLimitedComposer, yaml.SafeLoader):
    """Safe YAML syntax to nodes in pure Python: used when libyaml is not installed."""


@functools.cache
def _composer_class() -> type[Any]:
    """The depth-limited composer over libyaml's event parser when available (5x faster)."""
    if not getattr(yaml, "__with_libyaml__", False):
        return _PyComposer
    from yaml._yaml import CParser

    class _CComposer(_DepthLimitedComposer, CParser, Resolver):
        def __init__(self, stream: str) -> None:
            CParser.__init__(self, stream)
            Resolver.__init__(self)
            Composer.__init__(self)

    return _CComposer


def _compose(text: str, file: str, limits: Limits) -> yaml.Node:
    """The YAML node tree: syntax only, no Python objects built, so tags cannot run code.

    This is ``yaml.compose`` with the safe resolver, plus a nesting limit.
    """
    loader: Any = _composer_class()(text)
    loader.max_depth = limits.max_depth + 1  # the top node is at depth 1
    try:
        node: yaml.Node | None = loader.get_single_node()
    except _TooDeep as exc:
        raise _fail(file, f"nested more than {limits.max_depth} levels deep", exc.line) from None
    except yaml.MarkedYAMLError as exc:
        line = _mark_line(exc.problem_mark or exc.context_mark)
        if "maximum nesting depth" in str(exc.problem):  # PyYAML >= 6.0.4 has a limit of its own
            raise _fail(file, f"nested more than {limits.max_depth} levels deep", line) from None
        raise _fail(file, _syntax_message(exc), line) from None
    except yaml.YAMLError as exc:  # a reader error (a control character) spans two lines
        raise _fail(file, f"YAML error: {' '.join(str(exc).split())}") from None
    finally:
        loader.dispose()
    if node is None:
        raise _fail(file, "file is empty: expected a mapping of keys")
    return node


def _syntax_message(exc: yaml.MarkedYAMLError) -> str:
    """PyYAML's problem, with where the unfinished construct began when that is elsewhere."""
    context = exc.context or ""
    began = _mark_line(exc.context_mark)
    if context and began is not None and began != _mark_line(exc.problem_mark):
        context += f" (from line {began})"
    detail = ": ".join(part for part in (context, exc.problem) if part)
    return f"YAML syntax error: {detail or exc}"


def _mark_line(mark: Any) -> int | None:
    return mark.line + 1 if mark is not None else None


def _fail(file: str, message: str, line: int | None = None) -> InputError:
    return InputError([Problem(message, file, line)])


def _tag_name(tag: str) -> str:
    return "!!" + tag.removeprefix(_STD) if tag.startswith(_STD) else tag


class _Walker:
    """Turns a node tree into plain dicts, lists and scalars, recording each key's line.

    Counting every node visited (an alias is visited again each time it is used) bounds the work
    an alias bomb can cause; the depth bound also stops recursive aliases.
    """

    def __init__(self, file: str, limits: Limits) -> None:
        self.file = file
        self.limits = limits
        self.constructor = yaml.SafeLoader("")
        self.nodes = 0
        self.problems: list[Problem] = []
        self.provenance = Provenance(Location(file))

    def value(self, node: yaml.Node, path: Path, depth: int) -> Any:
        self._count(path, depth)
        if isinstance(node, yaml.MappingNode):
            return self._mapping(node, path, depth)
        if isinstance(node, yaml.SequenceNode):
            return self._sequence(node, path, depth)
        return self._scalar(node, path)

    def _count(self, path: Path, depth: int) -> None:
        self.nodes += 1
        if self.nodes > self.limits.max_nodes:
            message = f"too many values (more than {self.limits.max_nodes}, aliases included)"
        elif depth > self.limits.max_depth:
            message = f"nested more than {self.limits.max_depth} levels deep"
        else:
            return
        # Name the top-level entry: the full path is noise, and an alias's node carries the
        # line of its anchor, not of the place where it blew up.
        entry = path[:1]
        where = self.provenance.locate(entry)
        raise InputError([Problem(message, self.file, where.line, paths.join(entry))])

    def _problem(self, node: yaml.Node, path: Path, message: str) -> Problem:
        return Problem(message, self.file, node.start_mark.line + 1, paths.join(path))

    def _tag_ok(self, node: yaml.Node, path: Path, allowed: frozenset[str]) -> bool:
        if node.tag in allowed:
            return True
        self.problems.append(self._problem(node, path, f"unsupported tag {_tag_name(node.tag)!r}"))
        return False

    def _mapping(self, node: yaml.MappingNode, path: Path, depth: int) -> dict[str, Any] | None:
        if not self._tag_ok(node, path, frozenset({_MAP_TAG})):
            return None
        out: dict[str, Any] = {}
        lines: dict[str, int] = {}
        for key_node, value_node in node.value:
            key = self._key(key_node, path, lines)
            if key is None:
                continue
            line = key_node.start_mark.line + 1
            lines[key] = line
            self.provenance.record((*path, key), Location(self.file, line))
            out[key] = self.value(value_node, (*path, key), depth + 1)
        return out

    def _key(self, node: yaml.Node, path: Path, lines: dict[str, int]) -> str | None:
        """The key as a string, or None after recording why it is not acceptable."""
        raw = node.value if isinstance(node, yaml.ScalarNode) else "?"
        if node.tag == _MERGE_TAG:
            message = "merge keys (<<) are not supported; use extends"
        elif not isinstance(node, yaml.ScalarNode):
            message = "a key must be a plain string, not a list or mapping"
        elif node.tag != _STD + "str":
            message = f"key {raw!r} is not a string; quote it"
        elif raw in lines:
            message = f"duplicate key {raw!r} (first at line {lines[raw]})"
        else:
            return str(raw)
        self.problems.append(self._problem(node, (*path, str(raw)), message))
        return None

    def _sequence(self, node: yaml.SequenceNode, path: Path, depth: int) -> list[Any] | None:
        if not self._tag_ok(node, path, frozenset({_SEQ_TAG})):
            return None
        out: list[Any] = []
        for index, item in enumerate(node.value):
            self.provenance.record((*path, index), Location(self.file, item.start_mark.line + 1))
            out.append(self.value(item, (*path, index), depth + 1))
        return out

    def _scalar(self, node: yaml.Node, path: Path) -> Any:
        if not self._tag_ok(node, path, _SCALAR_TAGS):
            return None
        try:
            return self.constructor.construct_object(node, deep=True)
        except (ValueError, OverflowError, yaml.YAMLError) as exc:
            self.problems.append(self._problem(node, path, f"cannot read {node.value!r}: {exc}"))
            return None


# --- extends and set ---------------------------------------------------------------------------

_Chain = tuple[tuple[str, str], ...]
"""Files being resolved, outermost first, as (real path, path as shown): for cycle detection."""


def _read_mapping(file: str, limits: Limits) -> tuple[dict[str, Any], Provenance]:
    data, provenance = read_yaml(file, limits)
    if not isinstance(data, dict):
        got = _describe(data)
        raise _fail(file, f"expected a mapping of keys at the top of the file, got {got}")
    return data, provenance


def _resolve(file: str, limits: Limits, chain: _Chain) -> tuple[dict[str, Any], Provenance]:
    """One file with its parents merged under it and its ``set:`` applied."""
    raw, raw_prov = _read_mapping(file, limits)
    chain = (*chain, (os.path.realpath(file), file))
    problems: list[Problem] = []
    base, base_prov = _parents(raw, raw_prov, limits, chain, problems)
    body = {key: value for key, value in raw.items() if key not in _DIRECTIVES}
    data, provenance = _merge(base, base_prov, body, raw_prov)
    _apply_sets(data, provenance, raw, raw_prov, problems)
    if problems:
        raise InputError(_sorted(problems))
    return data, provenance


def _parents(
    raw: dict[str, Any], raw_prov: Provenance, limits: Limits, chain: _Chain, out: list[Problem]
) -> tuple[dict[str, Any], Provenance]:
    """The files named by ``extends:``, each resolved and merged over the previous ones."""
    file = chain[-1][1]
    data: dict[str, Any] = {}
    provenance = Provenance(raw_prov.root)
    for name, key_path in _extends_entries(raw, raw_prov, out):
        where = raw_prov.locate(key_path)
        parent = os.path.normpath(os.path.join(os.path.dirname(file), name))
        problem = _extends_problem(parent, chain)
        if problem:
            out.append(Problem(problem, where.file, where.line, paths.join(key_path)))
            continue
        try:
            parent_data, parent_prov = _resolve(parent, limits, chain)
        except InputError as exc:
            out.extend(exc.problems)
            continue
        data, provenance = _merge(data, provenance, parent_data, parent_prov)
    return data, provenance


def _extends_entries(
    raw: dict[str, Any], raw_prov: Provenance, out: list[Problem]
) -> list[tuple[str, Path]]:
    """(file name, key path of the entry) for each parent named by ``extends:``."""
    if "extends" not in raw:
        return []
    value = raw["extends"]
    if isinstance(value, str) and value:
        return [(value, ("extends",))]
    if isinstance(value, list) and value and all(isinstance(v, str) and v for v in value):
        return [(name, ("extends", index)) for index, name in enumerate(value)]
    where = raw_prov.locate(("extends",))
    message = "expected a file name or a list of file names"
    out.append(Problem(message, where.file, where.line, "extends"))
    return []


def _extends_problem(parent: str, chain: _Chain) -> str | None:
    """Why a parent cannot be loaded (missing, or already being resolved), if it cannot."""
    if os.path.isdir(parent):
        return f"extends names a folder, not a file: {parent}"
    problem = files.regular_file_problem(parent)
    if problem == "file not found":
        return f"extends file not found: {parent}"
    if problem is not None:
        return f"extends {parent}: {problem}"
    real = os.path.realpath(parent)
    reals = [r for r, _ in chain]
    if real in reals:
        shown = [shown for _, shown in chain[reals.index(real) :]]
        return "extends cycle: " + " -> ".join([*shown, parent])
    return None


def _merge(
    base: dict[str, Any], base_prov: Provenance, over: dict[str, Any], over_prov: Provenance
) -> tuple[dict[str, Any], Provenance]:
    """``over`` merged onto ``base``: mappings merge key by key, anything else is replaced.

    The provenance follows the values: a key is located where its final value was written.
    """
    provenance = Provenance(over_prov.root)
    data = _merge_value((), base, over, base_prov, over_prov, provenance)
    return data, provenance


def _merge_value(
    path: Path, base: Any, over: Any, base_prov: Provenance, over_prov: Provenance, out: Provenance
) -> Any:
    if not (isinstance(base, dict) and isinstance(over, dict)):
        out.copy_tree(path, over, over_prov)
        return over
    if path:
        out.record(path, over_prov.locate(path))
    merged: dict[str, Any] = {}
    for key, value in base.items():
        if key in over:
            merged[key] = _merge_value((*path, key), value, over[key], base_prov, over_prov, out)
        else:
            out.copy_tree((*path, key), value, base_prov)
            merged[key] = value
    for key, value in over.items():
        if key not in base:
            out.copy_tree((*path, key), value, over_prov)
            merged[key] = value
    return merged


def _apply_sets(
    data: dict[str, Any],
    provenance: Provenance,
    raw: dict[str, Any],
    raw_prov: Provenance,
    out: list[Problem],
) -> None:
    """Apply a file's ``set:`` entries in order, each located at its own line."""
    if "set" not in raw:
        return
    entries = raw["set"]
    if not isinstance(entries, dict):
        where = raw_prov.locate(("set",))
        message = "expected a mapping of dotted key paths to values"
        out.append(Problem(message, where.file, where.line, "set"))
        return
    for dotted, value in entries.items():
        where = raw_prov.locate(("set", dotted))
        try:
            _assign(data, provenance, dotted, value, where)
        except _PathError as exc:
            out.append(Problem(str(exc), where.file, where.line, dotted))


def _apply_overrides(
    data: dict[str, Any],
    provenance: Provenance,
    overrides: Mapping[str, Any],
    origin: Location = FROM_CODE,
) -> list[Problem]:
    """Apply dotted-path overrides from code or the command line; problems, not exceptions."""
    problems = []
    for dotted, value in overrides.items():
        try:
            _assign(data, provenance, str(dotted), copy.deepcopy(value), origin)
        except _PathError as exc:
            key = origin.key_prefix + str(dotted)
            problems.append(Problem(str(exc), origin.file, origin.line, key))
    return problems


class _PathError(Exception):
    """A dotted path that does not lead anywhere in the data."""


_MISSING = object()


def _assign(
    data: dict[str, Any], provenance: Provenance, dotted: str, value: Any, where: Location
) -> None:
    """Set the value at a dotted path in place; the parent must exist (as ``paths.set_in``)."""
    container, key, path = _target(data, dotted)
    old = container[key] if _holds(container, key) else _MISSING
    if old is not _MISSING:
        provenance.drop_tree(path, old)
    container[key] = value
    provenance.stamp_tree(path, value, where)


def _holds(container: Any, key: str | int) -> bool:
    if isinstance(container, dict):
        return key in container
    return isinstance(key, int) and key < len(container)


def _target(data: dict[str, Any], dotted: str) -> tuple[Any, str | int, Path]:
    """The container that will hold a dotted path's value, its key there, and the typed path."""
    try:
        parts = paths.split(dotted)
    except KeyError:
        raise _PathError(f"malformed key path {dotted!r}") from None
    node: Any = data
    done: Path = ()
    for part in parts[:-1]:
        key = _existing_key(node, part, done)
        done = (*done, key)
        node = node[key]
    last = _new_key(node, parts[-1], done)
    return node, last, (*done, last)


def _existing_key(node: Any, part: str | int, done: Path) -> str | int:
    if isinstance(node, dict) and str(part) in node:
        return str(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return part
    raise _PathError(_no_such_key(node, part, done))


def _new_key(node: Any, part: str | int, done: Path) -> str | int:
    if isinstance(node, dict):
        return str(part)
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return part
    raise _PathError(_no_such_key(node, part, done))


def _no_such_key(node: Any, part: str | int, done: Path) -> str:
    path = paths.join((*done, part))
    if isinstance(node, dict):
        return f"no key {path!r}{_did_you_mean(str(part), list(node))}"
    if isinstance(node, list):
        return f"no key {path!r}: {paths.join(done)} is a list of {len(node)} item(s)"
    return f"no key {path!r}: {paths.join(done) or 'the top'} is a single value"


def _did_you_mean(name: str, candidates: list[str]) -> str:
    close = difflib.get_close_matches(name, candidates, n=1)
    return f" (did you mean {close[0]!r}?)" if close else ""


# --- pydantic errors as problems ---------------------------------------------------------------

_SHAPE_TYPES = frozenset(
    {
        "float_type",
        "float_parsing",
        "int_type",
        "int_parsing",
        "bool_type",
        "bool_parsing",
        "string_type",
        "list_type",
        "dict_type",
        "model_type",
        "model_attributes_type",
    }
)
"""Errors that only say "not this kind of value": noise when another union branch fits."""
_MAPPING_TYPES = frozenset({"dict_type", "model_type", "model_attributes_type"})
_EXPECTED = {
    "float_type": "a number",
    "float_parsing": "a number",
    "int_type": "a whole number",
    "int_parsing": "a whole number",
    "int_from_float": "a whole number",
    "bool_type": "true or false",
    "bool_parsing": "true or false",
    "string_type": "a string",
    "list_type": "a list",
    "dict_type": "a mapping",
    "model_type": "a mapping",
    "model_attributes_type": "a mapping",
}
_BOUNDS = {
    "greater_than": ("gt", "must be greater than {}"),
    "greater_than_equal": ("ge", "must be at least {}"),
    "less_than": ("lt", "must be less than {}"),
    "less_than_equal": ("le", "must be at most {}"),
}
_ID_PATTERN = "^[a-z][a-z0-9_]*$"


@dataclass(frozen=True)
class _Error:
    """One pydantic error with its location reduced to real keys of the data."""

    path: Path
    message: str
    kind: str
    branch: bool
    """The loc ended in a union branch name: the error is about one alternative only."""
    value: Any

    @classmethod
    def of(
        cls,
        raw: Any,
        data: Any,
        model: type[BaseModel] | None,
        provenance: Provenance | None = None,
    ) -> _Error:
        loc = tuple(raw["loc"])
        kind = str(raw["type"])
        path, branch = _data_path(loc, data, kind == "missing")
        message = _message(raw, loc, model)
        if kind.startswith("union_tag"):
            path = (*path, _discriminator(raw.get("ctx") or {}))
        elif kind == "value_error":
            path = _about_key(path, message, data, provenance)
        return cls(path, message, kind, branch, raw.get("input"))


def _data_path(loc: tuple[Any, ...], data: Any, missing: bool) -> tuple[Path, bool]:
    """The loc segments that are keys or indices present in the data (plus a missing last key).

    Also whether the last segment was dropped, which marks an error from one union branch.
    """
    node = data
    path: list[str | int] = []
    dropped = False
    for index, segment in enumerate(loc):
        if _has_child(node, segment):
            node = node[segment]
        elif not (missing and index == len(loc) - 1):
            dropped = True
            continue
        path.append(segment)
        dropped = False
    return tuple(path), dropped


def _has_child(node: Any, segment: Any) -> bool:
    if isinstance(node, dict):
        return isinstance(segment, str) and segment in node
    return isinstance(node, list) and isinstance(segment, int) and 0 <= segment < len(node)


def _about_key(path: Path, message: str, data: Any, provenance: Provenance | None = None) -> Path:
    """Locate a model-level check ("end must be after start") at the first key it names, or
    at the first one an override set (``--set start=...`` made it wrong)."""
    try:
        node = paths.get(data, path)
    except KeyError:
        return path
    if not isinstance(node, dict):
        return path
    named = [
        (*path, word)
        for word in dict.fromkeys(re.findall(r"[A-Za-z_][A-Za-z0-9_]*", message))
        if word in node
    ]
    for key in named:
        where = provenance.get(key) if provenance is not None else None
        if where is not None and where.file in (OVERRIDE, COMMAND_LINE):
            return key
    return named[0] if named else path


def _prune_union_noise(errors: list[_Error], data: Any) -> list[_Error]:
    """Drop "not this kind of value" errors from union branches the value was not meant for."""
    noisy = [e for e in errors if e.branch and _is_shape(e.kind)]
    real = [e for e in errors if e not in noisy]
    kept = list(real)
    by_path: dict[Path, list[_Error]] = {}
    for error in noisy:
        if not any(r.path[: len(error.path)] == error.path for r in real):
            by_path.setdefault(error.path, []).append(error)
    for group in by_path.values():
        kept.append(_best_fit(group))
    return [e for e in errors if e in kept]


def _is_shape(kind: str) -> bool:
    return kind in _SHAPE_TYPES or kind.startswith("date")


def _best_fit(group: list[_Error]) -> _Error:
    """Of several branch errors for one value, the one about the kind of value it is."""
    wants_mapping = isinstance(group[0].value, dict)
    fitting = [e for e in group if (e.kind in _MAPPING_TYPES) == wants_mapping]
    return (fitting or group)[0]


def _message(raw: Any, loc: tuple[Any, ...], model: type[BaseModel] | None) -> str:
    """A short, human message for a pydantic error."""
    kind = str(raw["type"])
    ctx = raw.get("ctx") or {}
    got = _describe(raw.get("input"))
    if kind == "missing" or kind == "union_tag_not_found":
        return "missing required key"
    if kind == "extra_forbidden":
        return _unknown_key(loc, model)
    if kind in _BOUNDS:
        return _bound(kind, ctx)
    if kind in _EXPECTED:
        return f"expected {_EXPECTED[kind]}, got {got}"
    if kind.startswith("date"):
        return f"expected a date (YYYY-MM-DD), got {got}"
    return _other_message(kind, raw, ctx, got)


def _other_message(kind: str, raw: Any, ctx: dict[str, Any], got: str) -> str:
    if kind == "value_error":
        return str(ctx.get("error", raw["msg"]))
    if kind == "union_tag_invalid":
        return _bad_tag(ctx, raw.get("input"))
    if kind == "string_pattern_mismatch":
        key = "key " if "[key]" in raw["loc"] else ""
        if ctx.get("pattern") == _ID_PATTERN:
            return f"{key}{got} is not an id (lowercase letters, digits and _, letter first)"
        return f"{key}{got} does not match the pattern {ctx.get('pattern')}"
    if kind in ("too_short", "too_long"):
        bound = "at least {}" if kind == "too_short" else "at most {}"
        count = ctx.get("min_length" if kind == "too_short" else "max_length")
        return f"must have {bound.format(count)} item(s)"
    if kind == "string_too_long":
        return f"must be at most {ctx.get('max_length')} characters"
    if kind == "finite_number":
        return "must be a finite number"
    if kind == "literal_error":
        return f"must be one of {ctx.get('expected')}, got {got}"
    return str(raw["msg"])


def _bound(kind: str, ctx: dict[str, Any]) -> str:
    name, template = _BOUNDS[kind]
    limit = ctx.get(name)
    if kind == "greater_than_equal" and limit == 0:
        return "must not be negative"
    if isinstance(limit, float) and limit.is_integer():
        limit = int(limit)
    return template.format(limit)


def _discriminator(ctx: dict[str, Any]) -> str:
    """The key that tells a union's alternatives apart: pydantic names it ``'kind'``, or
    ``dist()`` for a function named as the key (``sim.scenario.distributions.dist``)."""
    return str(ctx.get("discriminator", "")).strip("'\"").removesuffix("()")


def _bad_tag(ctx: dict[str, Any], value: Any) -> str:
    field = _discriminator(ctx)
    expected = re.findall(r"'([^']*)'", str(ctx.get("expected_tags", "")))
    tag = value.get(field) if isinstance(value, dict) else ctx.get("tag")
    if not isinstance(tag, str):
        return f"must be one of {', '.join(expected)}, got {_describe(tag)}"
    hint = _did_you_mean(tag, expected)
    return f"unknown {field} {tag!r}{hint}; expected one of {', '.join(expected)}"


def _unknown_key(loc: tuple[Any, ...], model: type[BaseModel] | None) -> str:
    key = str(loc[-1]) if loc else ""
    fields = _field_names(model, loc[:-1]) if model is not None else []
    if model is Scenario and len(loc) == 1:
        fields += list(_DIRECTIVES)
    return f"unknown key {key!r}{_did_you_mean(key, fields)}"


def _describe(value: Any) -> str:
    """A value as a planner wrote it, short."""
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if isinstance(value, date):
        return value.isoformat()
    text = repr(value)
    return text if len(text) <= 40 else text[:37] + "..."


def _problem_at(path: Path, message: str, provenance: Provenance, file: str = "") -> Problem:
    where = provenance.locate(path)
    return Problem(message, where.file or file, where.line, where.key_prefix + paths.join(path))


def _sorted(problems: list[Problem]) -> list[Problem]:
    return sorted(problems, key=lambda p: (p.file, p.line or 0, p.path, p.message))


# --- the model's field names at a pydantic loc, for did-you-mean -------------------------------


def _field_names(model: type[BaseModel], loc: tuple[Any, ...]) -> list[str]:
    """Field names of the model(s) found by following a pydantic loc (branch names included)."""
    members = _members(model)
    for segment in loc:
        members = _step(members, segment)
    return sorted({name for m in members if _is_model(m) for name in m.model_fields})


def _members(tp: Any) -> list[Any]:
    """The alternatives of a type, with Annotated and unions unwrapped."""
    origin = get_origin(tp)
    if origin is Annotated:
        return _members(get_args(tp)[0])
    if origin is Union or origin is types.UnionType:
        return [m for arg in get_args(tp) for m in _members(arg)]
    return [tp]


def _step(members: list[Any], segment: Any) -> list[Any]:
    out: list[Any] = []
    for m in members:
        if _is_model(m) and isinstance(segment, str) and segment in m.model_fields:
            out += _members(m.model_fields[segment].annotation)
        elif get_origin(m) is dict:
            out += _members(get_args(m)[1])
        elif get_origin(m) is list and isinstance(segment, int):
            out += _members(get_args(m)[0])
    if out:
        return out
    tagged = [m for m in members if _is_model(m) and _has_tag(m, segment)]
    return tagged or members


def _is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def _has_tag(model: type[BaseModel], tag: Any) -> bool:
    """Whether a discriminated union branch name (``border_closure``) names this model."""
    for field in model.model_fields.values():
        if get_origin(field.annotation) is Literal and tag in get_args(field.annotation):
            return True
    return False
