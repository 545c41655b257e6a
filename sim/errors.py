"""Errors a user can act on: each names the file, the line and the dotted key path."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input file, located as precisely as the input allows."""

    message: str
    file: str = "<scenario>"
    line: int | None = None
    path: str = ""

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        key = f" {self.path}:" if self.path else ""
        return _one_line(f"{where}:{key} {self.message}")


def _one_line(text: str) -> str:
    """Control characters (a newline in a key, a file name or a quoted value) escaped, so a
    problem is always exactly one line of output."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def describe(exc: BaseException) -> str:
    """An exception in one line, its type and message: how a failed run or an unreachable
    scheduler is reported without a traceback."""
    text = str(exc).strip().replace("\n", " | ")
    return f"{type(exc).__name__}: {text}" if text else type(exc).__name__


class SimError(Exception):
    """Base of the errors a user can act on; ``except sim.SimError`` catches both kinds."""


class InputError(SimError):
    """Bad input (exit code 2). Carries every problem found, not just the first."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


class RunError(SimError):
    """A run that could not complete (exit code 1): an invariant broke or a worker failed.

    ``where`` names the run (``scenario 'kia_offensive', seed 7, replication 3``) so that it
    can be run again on its own; the message follows it on the same line.
    """

    def __init__(self, message: str, where: str = "") -> None:
        self.message = message
        self.where = where
        super().__init__(f"{where}: {message}" if where else message)

    def __reduce__(self) -> tuple[type[RunError], tuple[str, str]]:
        """Pickled whole, so a worker process's error keeps its ``where``."""
        return (type(self), (self.message, self.where))


def run_name(scenario: str, seed: int, replication: int) -> str:
    """How a run error names the run: scenario, seed and replication."""
    return f"scenario {scenario!r}, seed {seed}, replication {replication}"


class OutputError(Exception):
    """An output that could not be written (exit code 1): no permission, a full disk, a
    read-only filesystem. Names the path; results already complete on disk are kept."""

    def __init__(self, path: object, reason: str) -> None:
        self.path = str(path)
        self.reason = reason
        super().__init__(f"cannot write {self.path}: {reason}")
