"""Dotted key paths into nested scenario data: ``sites.pangwa.capacity_tpm.mhree``.

Mappings are addressed by key and lists by index (``routes.india.legs.0.days``), so that any
parameter can be swept or calibrated without code of its own.
"""

from __future__ import annotations

import copy
from typing import Any

Path = tuple[str | int, ...]


def split(dotted: str) -> Path:
    """Split a dotted path; all-digit parts become list indices."""
    if not dotted or any(part == "" for part in dotted.split(".")):
        raise KeyError(f"malformed key path {dotted!r}")
    return tuple(int(p) if p.isdigit() else p for p in dotted.split("."))


def join(path: Path) -> str:
    """A key path as dotted text: ``("sites", "pangwa", "capacity_tpm")`` -> ``sites.pangwa...``."""
    return ".".join(str(p) for p in path)


def get(data: Any, dotted: str | Path) -> Any:
    """The value at a path; KeyError naming the first part that is missing."""
    path = split(dotted) if isinstance(dotted, str) else dotted
    node = data
    for i, part in enumerate(path):
        node = _child(node, part, path[: i + 1])
    return node


def set_in(data: dict[str, Any], dotted: str | Path, value: Any) -> dict[str, Any]:
    """A deep copy of ``data`` with the value at the path replaced.

    The parent of the last part must exist; the last part may be new in a mapping (adding a
    site, say) but not past the end of a list.
    """
    path = split(dotted) if isinstance(dotted, str) else dotted
    out = copy.deepcopy(data)
    parent = get(out, path[:-1]) if len(path) > 1 else out
    last = path[-1]
    if isinstance(parent, dict):
        parent[str(last)] = value
    elif isinstance(parent, list) and isinstance(last, int) and last < len(parent):
        parent[last] = value
    else:
        raise KeyError(f"no key {join(path)!r}: {join(path[:-1]) or 'the top'} cannot hold it")
    return out


def _child(node: Any, part: str | int, so_far: Path) -> Any:
    if isinstance(node, dict) and str(part) in node:
        return node[str(part)]
    if isinstance(node, list) and isinstance(part, int) and part < len(node):
        return node[part]
    raise KeyError(f"no key {join(so_far)!r}")
