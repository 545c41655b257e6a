"""Values a command takes besides its files, checked before any work with the files' limits.

A seed, a count, a number of workers, an output folder or a scheduler address given on the
command line (or to the Python API) gets the same bounds a file's would, and a problem is
located at the option: ``<command line>: --seed: must be less than 9223372036854775808``.
``--set PATH=VALUE`` values are read by the scenario loader (``parse_overrides``) with the
files' reader and limits.

Every check returns problems rather than raising, so a command reports all of its options'
problems at once (``check_options``).
"""

from __future__ import annotations

import numbers
import os
import re
from pathlib import Path

from sim.errors import InputError, Problem

COMMAND_LINE = "<command line>"
SEED_LIMIT = 2**63
"""Seeds lie in 0 .. 2**63 - 1, on the command line as in files (``seed:``)."""
WORKERS_PER_CPU = 4
"""``--workers`` is at most this many processes per CPU this process may use: runs are
CPU-bound, so more processes only compete for the cores (and each holds ~50-150 MB)."""
SCHEMES = ("tcp", "tls", "ws", "wss", "ucx", "inproc")
"""Dask's address schemes; an address without one is taken as ``tcp://``."""
_HOST_PORT = re.compile(
    r"^(?:(?P<scheme>[A-Za-z][A-Za-z0-9+.-]*)://)?"
    r"(?P<host>\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?)"
    r"(?::(?P<port>[0-9]{1,5}))?$"
)


def usable_cpus() -> int:
    """CPUs this process may run on (its affinity mask where the system has one)."""
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except (AttributeError, OSError):
        return max(1, os.cpu_count() or 1)


def max_workers() -> int:
    """The largest ``--workers`` accepted on this machine: ``WORKERS_PER_CPU`` per usable CPU."""
    return WORKERS_PER_CPU * usable_cpus()


def _at(option: str, message: str) -> Problem:
    return Problem(message, COMMAND_LINE, None, option)


def whole_problems(value: object, option: str) -> list[Problem]:
    """A whole number, as argparse's ``type=int`` makes it: the Python API takes the same
    values, so ``seed="3"``, ``replications=2.5`` or ``workers=True`` are refused here, located,
    rather than failing later with a TypeError."""
    if value is None or (isinstance(value, numbers.Integral) and not isinstance(value, bool)):
        return []
    return [_at(option, f"expected a whole number, got {_clip(repr(value))}")]


def seed_problems(seed: int | None, option: str = "--seed") -> list[Problem]:
    """A master seed: 0 .. 2**63 - 1, as ``seed:`` in a file."""
    if seed is None or whole_problems(seed, option):
        return whole_problems(seed, option)
    if seed < 0:
        return [_at(option, "must not be negative")]
    if seed >= SEED_LIMIT:
        return [_at(option, f"must be less than {SEED_LIMIT} (2**63), as in files")]
    return []


def count_problems(value: int | None, option: str, minimum: int = 1) -> list[Problem]:
    """A count of replications or seeds; the soft limits on work are checked later, with the
    scenario (``sim.scenario.limits``)."""
    if whole_problems(value, option):
        return whole_problems(value, option)
    if value is not None and value < minimum:
        return [_at(option, f"must be at least {minimum}")]
    return []


def workers_problems(workers: int | None, option: str = "--workers") -> list[Problem]:
    """Local worker processes: 1 .. ``max_workers()``."""
    if workers is None or whole_problems(workers, option):
        return whole_problems(workers, option)
    if workers < 1:
        return [_at(option, "must be at least 1")]
    limit = max_workers()
    if workers > limit:
        message = (
            f"must be at most {limit} ({WORKERS_PER_CPU} per CPU; this machine lets the "
            f"command use {usable_cpus()})"
        )
        return [_at(option, message)]
    return []


def scheduler_problems(address: str | None, option: str = "--scheduler") -> list[Problem]:
    """A Dask scheduler address, ``tcp://host:port`` (or ``host:port``, another of Dask's
    schemes, ``inproc://...``), checked for form only: whether it answers is found out when
    the sweep connects, still before any run."""
    if address is None:
        return []
    expected = "expected a Dask scheduler address such as tcp://127.0.0.1:8786"
    if not isinstance(address, str):
        return [_at(option, f"{expected}, got {_clip(repr(address))}")]
    if address.startswith("inproc://") and len(address) > len("inproc://"):
        return []
    match = _HOST_PORT.match(address.strip())
    if address != address.strip() or match is None:
        return [_at(option, f"{_shown(address)} is not an address; {expected}")]
    scheme, port = match.group("scheme"), match.group("port")
    if scheme is not None and scheme.lower() not in SCHEMES:
        known = ", ".join(f"{s}://" for s in SCHEMES)
        return [_at(option, f"unknown scheme {scheme + '://'!r} (known: {known})")]
    if port is not None and not 0 < int(port) < 65536:
        return [_at(option, f"port {port} is not between 1 and 65535")]
    return []


def out_problems(out: str | os.PathLike[str] | None, option: str = "--out") -> list[Problem]:
    """An output folder: a name (not empty, ``.`` or ``..``), not an existing file, under
    folders this process can create things in on a writable filesystem. Checked again, for
    real, when the folder is claimed (``sim.io.claim``), still before any work."""
    if out is None:
        return []
    if isinstance(out, list) and not out:  # argparse reads ``--out=--`` as an empty list
        return [_at(option, "is empty; give a folder name")]
    if not isinstance(out, str | os.PathLike):
        return [_at(option, f"expected a folder path, got {_clip(repr(out))}")]
    text = os.fspath(out)
    if "\0" in text:
        return [_at(option, "contains a NUL character")]
    if not text.strip():
        return [_at(option, "is empty; give a folder name")]
    path = Path(text)
    if path.name in ("", ".", ".."):
        return [_at(option, f"{_shown(text)} is not a folder name; name the folder to write")]
    problem = _folder_problem(path)
    return [_at(option, problem)] if problem else []


def _folder_problem(path: Path) -> str | None:
    """Why an output folder at ``path`` cannot be made (or written into), or None."""
    try:
        if path.exists() and not path.is_dir():
            return f"{path} is a file, not a folder"
        ancestor = path.parent
        while not ancestor.exists():
            ancestor = ancestor.parent
    except OSError as exc:  # a name too long, a loop of symbolic links
        return f"cannot use {path}: {exc.strerror or exc}"
    return writable_folder_problem(ancestor, path)


def writable_folder_problem(folder: Path, target: Path) -> str | None:
    """Why nothing can be created in the existing ``folder`` (on the way to ``target``)."""
    if not folder.is_dir():
        return f"cannot create {target}: {folder} is a file, not a folder"
    try:
        read_only = bool(os.statvfs(folder).f_flag & os.ST_RDONLY)
    except OSError:
        read_only = False
    if read_only:
        return f"cannot create {target}: {folder} is on a read-only filesystem"
    if not os.access(folder, os.W_OK | os.X_OK):
        return f"cannot create {target}: permission denied in {folder}"
    return None


def check_options(
    *,
    seed: int | None = None,
    replications: int | None = None,
    seeds: int | None = None,
    workers: int | None = None,
    out: str | os.PathLike[str] | None = None,
    scheduler: str | None = None,
) -> None:
    """Raise InputError listing every problem of the given options (None: not given)."""
    problems = [
        *seed_problems(seed),
        *count_problems(replications, "--replications"),
        *count_problems(seeds, "--seeds"),
        *workers_problems(workers),
        *out_problems(out),
        *scheduler_problems(scheduler),
    ]
    if problems:
        raise InputError(problems)


def _shown(text: str, width: int = 60) -> str:
    return repr(_clip(text, width))


def _clip(text: str, width: int = 60) -> str:
    return text if len(text) <= width else text[: width - 3] + "..."
