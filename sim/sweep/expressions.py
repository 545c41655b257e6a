"""Small arithmetic and comparison expressions over KPI names, parsed here, never ``eval``-ed.

    imports.china.myanmar.all.2026 < 0.8 * baseline
    abs(imports.china.all.all.2024 / 77300 - 1) <= 0.15
    lost_t > 100 and quad_delivered_t < 0.5 * baseline.quad_delivered_t

Names are KPI names (dots and digits allowed: ``imports.china.myanmar.all.2026``), a sweep's own
KPIs, ``baseline.<kpi>`` (the paired baseline's value) or a bare ``baseline`` (the baseline's
value of the one KPI the expression names). Numbers may use ``_`` separators (``44_000``).
Operators: ``+ - * /``, one comparison ``< <= > >= == !=``, ``and``, ``or``, ``not``,
parentheses, and the functions ``abs``, ``min``, ``max``. Nothing else parses, so a spec file
cannot run code. Evaluation is vectorised: every name stands for a numpy array of values.
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass

import numpy as np

BASELINE = "baseline"
FUNCTIONS = frozenset({"abs", "min", "max"})
KEYWORDS = frozenset({"and", "or", "not"})
_TOKEN = re.compile(
    r"\s*(?:(?P<num>\d[\d_]*(?:\.\d+)?(?:[eE][+-]?\d+)?)"
    r"|(?P<name>[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z0-9_]+)*)"
    r"|(?P<op><=|>=|==|!=|[<>+\-*/(),]))"
)
_COMPARE = {"<", "<=", ">", ">=", "==", "!="}
MAX_LENGTH = 2_000
"""Characters in one expression; real ones are a line or two."""
MAX_NESTING = 32
"""Parentheses, function calls, ``not`` and signs inside each other. Parsing and evaluating
recurse once per level, so a hostile ``((((...`` must stop here, not at Python's stack limit."""
MAX_TOKENS = 400
"""Numbers, names and operators in one expression: a long chain ``a + a + ...`` builds a tree as
deep as it is long."""


class ExpressionError(ValueError):
    """An expression that does not parse or names something unknown; the message says where."""


@dataclass(frozen=True)
class Num:
    """A number."""

    value: float


@dataclass(frozen=True)
class Name:
    """A KPI's name (or ``baseline``, ``baseline.<kpi>``)."""

    name: str


@dataclass(frozen=True)
class Unary:
    """A unary operation: ``-x`` or ``not x``."""

    op: str  # "-" or "not"
    operand: Node


@dataclass(frozen=True)
class Binary:
    """A binary operation: arithmetic, a comparison, ``and`` or ``or``."""

    op: str  # + - * / < <= > >= == != and or
    left: Node
    right: Node


@dataclass(frozen=True)
class Call:
    """A call of one of the functions expressions know (``abs``, ``min``, ``max``)."""

    function: str
    args: tuple[Node, ...]


Node = Num | Name | Unary | Binary | Call


@dataclass(frozen=True)
class Expression:
    """A parsed expression and its source text."""

    text: str
    root: Node

    @property
    def is_condition(self) -> bool:
        """True when the expression yields true/false (a comparison, and, or, not)."""
        return _is_condition(self.root)

    def names(self) -> list[str]:
        """Every name used, in order of first appearance."""
        found: dict[str, None] = {}
        _collect(self.root, found)
        return list(found)

    def kpis(self) -> list[str]:
        """The KPI names used, without ``baseline.`` prefixes, in order."""
        out: dict[str, None] = {}
        for name in self.names():
            if name != BASELINE:
                out[name.removeprefix(BASELINE + ".")] = None
        return list(out)

    @property
    def uses_baseline(self) -> bool:
        """Whether the expression reads the baseline's KPIs."""
        return any(n == BASELINE or n.startswith(BASELINE + ".") for n in self.names())

    def sides(self) -> tuple[Expression, Expression] | None:
        """The two sides of a top-level comparison (for reports), else None."""
        root = self.root
        if isinstance(root, Binary) and root.op in _COMPARE:
            return Expression(self.text, root.left), Expression(self.text, root.right)
        return None

    def evaluate(self, lookup: Callable[[str], np.ndarray]) -> np.ndarray:
        """The value for every unit: ``lookup(name)`` gives each name's array."""
        with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
            return np.asarray(_evaluate(self.root, lookup), dtype=float)


def parse(text: str) -> Expression:
    """Parse an expression; ExpressionError says what is wrong and where."""
    tokens = _tokens(text)
    parser = _Parser(text, tokens)
    root = parser.expression()
    if parser.position < len(tokens):
        raise ExpressionError(f"unexpected {tokens[parser.position][1]!r} in {text!r}")
    return Expression(text, _bind_baseline(root, text))


def _shown(text: str) -> str:
    """An expression as quoted in a message: whole, or its start when it is long."""
    return repr(text) if len(text) <= 60 else repr(text[:57] + "...")


def _tokens(text: str) -> list[tuple[str, str]]:
    if len(text) > MAX_LENGTH:
        raise ExpressionError(f"longer than {MAX_LENGTH:,} characters: {_shown(text)}")
    out: list[tuple[str, str]] = []
    position = 0
    stripped = text.rstrip()
    while position < len(stripped):
        match = _TOKEN.match(stripped, position)
        if match is None or match.end() == position:
            raise ExpressionError(f"cannot read {stripped[position:][:20]!r} in {text!r}")
        kind = match.lastgroup
        assert kind is not None
        value = match.group(kind)
        if kind == "name" and value in KEYWORDS:
            kind = "op"
        out.append((kind, value))
        position = match.end()
    if not out:
        raise ExpressionError("empty expression")
    if len(out) > MAX_TOKENS:
        raise ExpressionError(f"more than {MAX_TOKENS} terms and operators in {_shown(text)}")
    return out


class _Parser:
    """Recursive descent: or > and > not > comparison > sum > product > unary > atom."""

    def __init__(self, text: str, tokens: list[tuple[str, str]]) -> None:
        self.text = text
        self.tokens = tokens
        self.position = 0
        self.depth = 0

    @contextlib.contextmanager
    def nested(self) -> Iterator[None]:
        """One level deeper (a parenthesis, a call, ``not`` or a sign), within MAX_NESTING."""
        self.depth += 1
        if self.depth > MAX_NESTING:
            message = f"nested more than {MAX_NESTING} levels deep in {_shown(self.text)}"
            raise ExpressionError(message)
        try:
            yield
        finally:
            self.depth -= 1

    def peek(self) -> str | None:
        return self.tokens[self.position][1] if self.position < len(self.tokens) else None

    def take(self) -> tuple[str, str]:
        if self.position >= len(self.tokens):
            raise ExpressionError(f"{self.text!r} ends too early")
        token = self.tokens[self.position]
        self.position += 1
        return token

    def expect(self, value: str) -> None:
        kind, got = self.take()
        if got != value or kind != "op":
            raise ExpressionError(f"expected {value!r}, got {got!r} in {self.text!r}")

    def expression(self) -> Node:
        node = self.conjunction()
        while self.peek() == "or":
            self.take()
            node = Binary("or", node, self.conjunction())
        return node

    def conjunction(self) -> Node:
        node = self.negation()
        while self.peek() == "and":
            self.take()
            node = Binary("and", node, self.negation())
        return node

    def negation(self) -> Node:
        if self.peek() == "not":
            self.take()
            with self.nested():
                return Unary("not", self.negation())
        return self.comparison()

    def comparison(self) -> Node:
        node = self.sum()
        op = self.peek()
        if op in _COMPARE:
            self.take()
            node = Binary(op, node, self.sum())
            if self.peek() in _COMPARE:
                raise ExpressionError(f"chained comparisons are not supported in {self.text!r}")
        return node

    def sum(self) -> Node:
        node = self.product()
        while (op := self.peek()) in ("+", "-"):
            self.take()
            node = Binary(str(op), node, self.product())
        return node

    def product(self) -> Node:
        node = self.unary()
        while (op := self.peek()) in ("*", "/"):
            self.take()
            node = Binary(str(op), node, self.unary())
        return node

    def unary(self) -> Node:
        if self.peek() in ("-", "+"):
            op = self.take()[1]
            with self.nested():
                operand = self.unary()
            return Unary("-", operand) if op == "-" else operand
        return self.atom()

    def atom(self) -> Node:
        kind, value = self.take()
        if kind == "num":
            return Num(float(value.replace("_", "")))
        if kind == "name":
            if self.peek() == "(":
                return self.call(value)
            return Name(value)
        if value == "(":
            with self.nested():
                node = self.expression()
            self.expect(")")
            return node
        raise ExpressionError(f"unexpected {value!r} in {self.text!r}")

    def call(self, function: str) -> Node:
        if function not in FUNCTIONS:
            known = ", ".join(sorted(FUNCTIONS))
            raise ExpressionError(f"unknown function {function!r} (known: {known})")
        self.expect("(")
        with self.nested():
            args = [self.sum()]
            while self.peek() == ",":
                self.take()
                args.append(self.sum())
        self.expect(")")
        if function == "abs" and len(args) != 1:
            raise ExpressionError("abs() takes one argument")
        return Call(function, tuple(args))


def _collect(node: Node, found: dict[str, None]) -> None:
    if isinstance(node, Name):
        found[node.name] = None
    elif isinstance(node, Unary):
        _collect(node.operand, found)
    elif isinstance(node, Binary):
        _collect(node.left, found)
        _collect(node.right, found)
    elif isinstance(node, Call):
        for arg in node.args:
            _collect(arg, found)


def _bind_baseline(root: Node, text: str) -> Node:
    """Replace a bare ``baseline`` by ``baseline.<kpi>`` when the expression names one KPI."""
    found: dict[str, None] = {}
    _collect(root, found)
    if BASELINE not in found:
        return root
    kpis = [n for n in found if n != BASELINE and not n.startswith(BASELINE + ".")]
    if len(kpis) != 1:
        raise ExpressionError(
            f"a bare 'baseline' needs exactly one KPI in the expression (found {len(kpis)}); "
            f"write baseline.<kpi> in {text!r}"
        )
    return _replace(root, f"{BASELINE}.{kpis[0]}")


def _replace(node: Node, name: str) -> Node:
    if isinstance(node, Name):
        return Name(name) if node.name == BASELINE else node
    if isinstance(node, Unary):
        return Unary(node.op, _replace(node.operand, name))
    if isinstance(node, Binary):
        return Binary(node.op, _replace(node.left, name), _replace(node.right, name))
    if isinstance(node, Call):
        return Call(node.function, tuple(_replace(a, name) for a in node.args))
    return node


def _is_condition(node: Node) -> bool:
    if isinstance(node, Binary):
        return node.op in _COMPARE or node.op in ("and", "or")
    return isinstance(node, Unary) and node.op == "not"


_ARITHMETIC: dict[str, Callable[[np.ndarray, np.ndarray], np.ndarray]] = {
    "+": np.add,
    "-": np.subtract,
    "*": np.multiply,
    "/": np.divide,
    "<": np.less,
    "<=": np.less_equal,
    ">": np.greater,
    ">=": np.greater_equal,
    "==": np.equal,
    "!=": np.not_equal,
    "and": np.logical_and,
    "or": np.logical_or,
}


def _evaluate(node: Node, lookup: Callable[[str], np.ndarray]) -> np.ndarray:
    if isinstance(node, Num):
        return np.asarray(node.value)
    if isinstance(node, Name):
        return np.asarray(lookup(node.name), dtype=float)
    if isinstance(node, Unary):
        value = _evaluate(node.operand, lookup)
        return np.asarray(np.logical_not(value) if node.op == "not" else np.negative(value))
    if isinstance(node, Binary):
        left, right = _evaluate(node.left, lookup), _evaluate(node.right, lookup)
        return _ARITHMETIC[node.op](left, right)
    args = [_evaluate(arg, lookup) for arg in node.args]
    if node.function == "abs":
        return np.asarray(np.abs(args[0]))
    reduce = np.minimum if node.function == "min" else np.maximum
    out = args[0]
    for arg in args[1:]:
        out = reduce(out, arg)
    return out
