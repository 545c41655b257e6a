"""Key tables for the docs, written from a JSON Schema: the schema documents itself.

Every key of a scenario, sweep or targets file carries its description (with its unit) in the
models; the tables in ``docs/*.md`` are generated from them, never written by hand. A doc marks
where a table goes and which model it shows::

    <!-- keys Site -->
    (the generated table)
    <!-- /keys -->

``<!-- keys BorderClosure except start probability note repeat -->`` leaves some keys out (the
keys every event has, shown once), ``only`` keeps the keys named. ``fill`` rewrites every marked
block of a text; ``sim schema --docs FILE`` rewrites a file, and a test fails when a doc is stale.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterator, Mapping
from typing import Any

ID_PATTERN = "^[a-z][a-z0-9_]*$"
MAX_QUANTITY = 1e12
_BLOCK = re.compile(r"(<!-- keys (?P<spec>[^>]*?) -->\n)(?P<body>.*?)(<!-- /keys -->)", re.S)


class UnknownTable(ValueError):
    """A doc marks a table for a model the schemas do not have, or keys it does not have."""


def models(schema: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The object models of a JSON Schema by title: the root and every ``$defs`` entry."""
    found: dict[str, Mapping[str, Any]] = {}
    for name, node in schema.get("$defs", {}).items():
        found[str(node.get("title", name))] = node
    found[str(schema.get("title", "root"))] = schema
    return found


def table(model: Mapping[str, Any], keys: list[str] | None = None) -> str:
    """A markdown table of a model's keys: key, kind of value, default, meaning (with unit)."""
    properties: Mapping[str, Any] = model.get("properties", {})
    required = set(model.get("required", []))
    rows = ["| key | value | default | meaning |", "|---|---|---|---|"]
    for key in keys if keys is not None else list(properties):
        node = properties[key]
        default = "required" if key in required else _default(node)
        rows.append(
            f"| `{key}` | {_cell(kind(node))} | {_cell(default)} | "
            f"{_cell(_text(node.get('description', '')))} |"
        )
    return "\n".join(rows) + "\n"


def fill(text: str, tables: Mapping[str, Mapping[str, Any]]) -> str:
    """The text with every marked block holding its generated table (see the module doc)."""

    def block(match: re.Match[str]) -> str:
        model, keys = _spec(match.group("spec"), tables)
        return f"{match.group(1)}{table(model, keys)}{match.group(4)}"

    return _BLOCK.sub(block, text)


def marked(text: str) -> list[str]:
    """The model names of a text's marked blocks, in order."""
    return [m.group("spec").split()[0] for m in _BLOCK.finditer(text)]


def _spec(
    spec: str, tables: Mapping[str, Mapping[str, Any]]
) -> tuple[Mapping[str, Any], list[str]]:
    words = spec.split()
    if not words or words[0] not in tables:
        raise UnknownTable(f"no model named {words[0] if words else '(none)'!r} in the schemas")
    model = tables[words[0]]
    keys = list(model.get("properties", {}))
    mode, named = (words[1], words[2:]) if len(words) > 1 else ("", [])
    unknown = [k for k in named if k not in keys]
    if mode not in ("", "only", "except") or unknown:
        raise UnknownTable(f"<!-- keys {spec} -->: {mode!r} or keys {unknown} not understood")
    if mode == "only":
        return model, named
    return model, [k for k in keys if k not in named]


# --- kinds of value ----------------------------------------------------------------------------


def kind(node: Mapping[str, Any]) -> str:
    """What a key takes, in a few words: ``number ≥ 0``, ``id``, ``list of id``, ``date or
    date range``, ``id → Site``."""
    if "$ref" in node:
        return _ref_name(node["$ref"])
    for union in ("anyOf", "oneOf"):
        if union in node:
            return _union(node[union], node)
    if "const" in node:
        return f"`{node['const']}`"
    if "enum" in node:
        return " or ".join(f"`{v}`" for v in node["enum"])
    simple = _SIMPLE.get(str(node.get("type")))
    if simple is not None:
        return simple(node)
    return "any value"


def _union(options: list[Mapping[str, Any]], node: Mapping[str, Any]) -> str:
    if node.get("discriminator", {}).get("propertyName") == "kind":
        return "event (by `kind`)"
    names = [o["$ref"].rsplit("/", 1)[-1] for o in options if "$ref" in o]
    if names and len(names) == len(options) and set(names) <= _DISTRIBUTIONS:
        return "distribution"
    parts = list(dict.fromkeys(kind(o) for o in options))
    return " or ".join(parts)


_DISTRIBUTIONS = {"Uniform", "LogUniform", "Triangular", "TruncNormal", "Choice", "DateRange"}
_NAMES = {"DateRange": "date range", "Tonnes": "t by product", "Prices": "USD/t by product"}


def _ref_name(ref: str) -> str:
    name = ref.rsplit("/", 1)[-1]
    return _NAMES.get(name, name)


def _number(node: Mapping[str, Any]) -> str:
    word = "whole number" if node.get("type") == "integer" else "number"
    low, high = node.get("minimum"), node.get("maximum")
    if low == 0 and high == 1:
        return f"{word} 0..1"
    if "exclusiveMinimum" in node:
        bound = f" > {_number_text(node['exclusiveMinimum'])}"
    elif low is not None:
        bound = f" ≥ {_number_text(low)}"
    else:
        bound = ""
    if high is not None and high < MAX_QUANTITY:
        bound += f", ≤ {_number_text(high)}"
    if "exclusiveMaximum" in node and node["exclusiveMaximum"] < MAX_QUANTITY:
        bound += f", < {_number_text(node['exclusiveMaximum'])}"
    return word + bound


def _string(node: Mapping[str, Any]) -> str:
    if node.get("format") == "date":
        return "date"
    if node.get("pattern") == ID_PATTERN:
        return "id"
    if "pattern" in node:
        return "name"
    return "text"


def _array(node: Mapping[str, Any]) -> str:
    items = node.get("prefixItems")
    if items:
        return "[" + ", ".join(kind(i) for i in items) + "]"
    inner = kind(node.get("items", {}))
    least = node.get("minItems")
    return f"list of {inner}" + (f" (≥ {least})" if least else "")


def _object(node: Mapping[str, Any]) -> str:
    patterns: Mapping[str, Any] = node.get("patternProperties", {})
    for pattern, value in patterns.items():
        key = "id" if pattern == ID_PATTERN else "key"
        return f"{key} → {kind(value)}"
    extra = node.get("additionalProperties")
    if isinstance(extra, Mapping):
        key = "id" if node.get("propertyNames", {}).get("pattern") == ID_PATTERN else "key"
        return f"{key} → {kind(extra)}"
    return "mapping"


_SIMPLE: dict[str, Callable[[Mapping[str, Any]], str]] = {
    "number": _number,
    "integer": _number,
    "string": _string,
    "boolean": lambda node: "true/false",
    "array": _array,
    "object": _object,
    "null": lambda node: "null",
}


# --- defaults and text -------------------------------------------------------------------------


def _default(node: Mapping[str, Any]) -> str:
    if "default" not in node:
        return "required"
    value = node["default"]
    if value is None:
        return "null"
    if value in ({}, []):
        return "none"
    if value == "":
        return '`""`'
    return f"`{_plain(value)}`"


def _plain(value: Any) -> str:
    """A default as it would be written in YAML, short."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return _number_text(value)
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {_plain(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_plain(v) for v in value) + "]"
    if isinstance(value, str):
        return value
    return json.dumps(value)


def _number_text(value: float) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _text(description: str) -> str:
    """A description on one line, with reST literals as markdown code."""
    return " ".join(description.replace("``", "`").split())


def _cell(text: str) -> str:
    return text.replace("|", "\\|")


def walk_properties(schema: Mapping[str, Any]) -> Iterator[tuple[str, str, Mapping[str, Any]]]:
    """Every (model, key, property) of a schema: what must carry a description."""
    for name, model in models(schema).items():
        for key, node in model.get("properties", {}).items():
            yield name, key, node
