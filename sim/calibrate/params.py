"""The fitted-parameter file (``scenarios/world/calibrated.yaml``), written whole by the tool.

The file is data the tool owns: a generated header saying what wrote it, the world it
``extends:``, and a ``set:`` block of dotted paths with their fitted values (each with its
bounds in a comment). A refit replaces the file as a whole, atomically; entries it does not
fit are carried over from the previous file (marked so), never dropped silently. Nothing is
edited as text.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from sim.errors import InputError, Problem
from sim.io.outputs import atomic_file
from sim.scenario import paths
from sim.scenario.loader import load_document
from sim.scenario.schema import Scenario


@dataclass(frozen=True)
class ParamsFile:
    """What a params file holds: the world it extends and its ``set:`` entries."""

    extends: str | list[str]
    entries: dict[str, Any]


def read_params(path: Path) -> ParamsFile:
    """The current params file; it must exist and extend a world (the tool never guesses one)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, yaml.YAMLError) as exc:
        message = f"cannot read the params file: {str(exc).splitlines()[0]}"
        raise InputError([Problem(message, str(path))]) from None
    extends = data.get("extends") if isinstance(data, dict) else None
    entries = data.get("set") or {} if isinstance(data, dict) else {}
    if not extends or not isinstance(entries, dict):
        message = "a params file needs extends: (the world it calibrates) and a set: mapping"
        raise InputError([Problem(message, str(path))])
    return ParamsFile(extends, dict(entries))


def params_text(
    previous: ParamsFile,
    values: Mapping[str, float],
    scenario: Scenario | None = None,
    command: str = "sim calibrate",
) -> str:
    """The whole file: header, ``extends:``, fitted values (with their bounds when the scenario
    that declares them is given), then entries of the previous file this fit did not touch."""
    header = [
        "# The calibrated world: the world it extends, with the parameters `sim calibrate` fitted",
        "# to reported figures. Written whole by the tool; do not edit by hand (a refit rewrites",
        "# this file). Bounds and reasons: the `free:` block of the calibrated scenario.",
        f"# Written by: {command}",
        "# Review changes to this file like code: forward scenarios start from it.",
    ]
    lines = [*header, f"extends: {_flow(previous.extends)}", "set:"]
    for path, value in values.items():
        bound = None if scenario is None else scenario.free.get(path)
        note = "" if bound is None else f", bounds {bound.low:g} to {bound.high:g}"
        lines.append(f"  {_key(path)}: {_number(value)}  # fitted{note}")
    kept = {k: v for k, v in previous.entries.items() if k not in values}
    for path, value in kept.items():
        lines.append(f"  {_key(path)}: {_flow(value)}  # kept from the previous file, not fitted")
    return "\n".join(lines) + "\n"


def _key(path: str) -> str:
    """A dotted path as a YAML key (quoted only when plain YAML would misread it)."""
    plain = yaml.safe_dump({path: 0}, default_flow_style=True, width=10**6).strip()[1:-1]
    return plain.rsplit(":", 1)[0]


def _flow(value: Any) -> str:
    """Any YAML value on one line."""
    if isinstance(value, float | int) and not isinstance(value, bool):
        return _number(float(value))
    return yaml.safe_dump([value], default_flow_style=True, width=10**6).strip()[1:-1]


def _number(value: float) -> str:
    """A number as YAML reads it back (never in exponent form, which YAML 1.1 reads as text)."""
    if float(value).is_integer():
        return str(int(value))
    return str(np.format_float_positional(float(value), trim="-"))


def assign(
    scenario: Scenario, params: Sequence[str], scenario_file: str
) -> tuple[dict[str, str], list[Problem]]:
    """Which params file receives each free parameter: the first (in the order given) whose own
    chain holds its path, so world parameters go to the world's file and a scenario's own (an
    event's length) to a file only that scenario extends. Paths no file can hold are problems
    located at the scenario's ``free:`` entries (writing them would break the file)."""
    chains = [load_document(file)[0] for file in params]
    _, provenance = load_document(scenario_file)
    where: dict[str, str] = {}
    problems = []
    for path in scenario.free:
        holder = next(
            (f for f, data in zip(params, chains, strict=True) if _holds(data, path)), None
        )
        if holder is not None:
            where[path] = holder
            continue
        at = provenance.locate(("free", path))
        names = ", ".join(params)
        message = f"cannot be written to {names}: no such key in that file's chain"
        problems.append(Problem(message, at.file, at.line, f"free.{path}"))
    return where, problems


def _holds(data: dict[str, Any], path: str) -> bool:
    try:
        paths.get(data, path)
    except KeyError:
        return False
    return True


def params_problems(scenario: Scenario, params: str, scenario_file: str) -> list[Problem]:
    """Free parameters that the params file's own chain cannot hold, located at ``free:``."""
    return assign(scenario, [params], scenario_file)[1]


def write_params(
    path: Path,
    values: Mapping[str, float],
    scenario: Scenario | None = None,
    command: str = "sim calibrate",
) -> None:
    """Replace the params file, atomically, and check that it reads back with these values."""
    text = params_text(read_params(path), values, scenario, command)
    written = (yaml.safe_load(text) or {}).get("set", {})
    if any(written.get(p) != v for p, v in values.items()):
        raise InputError([Problem("could not write its set: block safely", str(path), None)])

    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_file(path, write)


def shadowed(scenario_file: str, params: str, free: Sequence[str]) -> list[str]:
    """Free paths that the scenario takes from somewhere other than the params file (the
    written fit would not reach it)."""
    _, provenance = load_document(scenario_file)
    target = os.path.realpath(params)
    out = []
    for path in free:
        where = provenance.get(paths.split(path))
        if where is None or os.path.realpath(where.file) != target:
            out.append(path)
    return out
