"""Reading an input file without hanging on it: regular files only, checked before opening.

``open()`` on a named pipe (FIFO) blocks until something writes to it, and a device or a socket
is never what a planner meant, so every file a command reads (scenarios, sweep files, targets,
params, a sweep folder's own files) is checked with ``os.stat`` first and refused unless it is a
regular file. The file is then opened non-blocking and checked again on the open descriptor, so
a file swapped for a pipe in between is refused too.
"""

from __future__ import annotations

import os
import stat

from sim.errors import InputError, Problem

_KINDS = (
    (stat.S_ISFIFO, "a named pipe"),
    (stat.S_ISCHR, "a character device"),
    (stat.S_ISBLK, "a block device"),
    (stat.S_ISSOCK, "a socket"),
)


def not_regular(mode: int) -> str | None:
    """Why a file of this ``st_mode`` cannot be read as an input, or None for a regular file."""
    if stat.S_ISREG(mode):
        return None
    if stat.S_ISDIR(mode):
        return "is a directory, not a file"
    kind = next((name for test, name in _KINDS if test(mode)), "not a regular file")
    return f"is {kind}, not a regular file; give a file"


def regular_file_problem(path: str | os.PathLike[str]) -> str | None:
    """Why ``path`` cannot be read as an input file (missing, a folder, a pipe...), or None."""
    try:
        mode = os.stat(path).st_mode
    except FileNotFoundError:
        return "file not found"
    except (OSError, ValueError) as exc:
        return f"cannot read the file: {_reason(exc)}"
    return not_regular(mode)


def read_bytes(path: str | os.PathLike[str], max_bytes: int, shown: str | None = None) -> bytes:
    """At most ``max_bytes`` of a regular file; InputError (located at ``shown`` or the path)
    for anything else: missing, a folder, a pipe, a device, too large, unreadable."""
    file = shown if shown is not None else os.fspath(path)
    problem = regular_file_problem(path)
    if problem is not None:
        raise InputError([Problem(problem, file)])
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | os.O_CLOEXEC)
    except (OSError, ValueError) as exc:
        raise InputError([Problem(f"cannot read the file: {_reason(exc)}", file)]) from None
    try:
        info = os.fstat(fd)
        problem = not_regular(info.st_mode)  # swapped for a pipe since the check above
        if problem is None and info.st_size > max_bytes:
            problem = f"file is too large ({info.st_size} bytes; the limit is {max_bytes})"
        if problem is not None:
            raise InputError([Problem(problem, file)])
        os.set_blocking(fd, True)
        with os.fdopen(fd, "rb", closefd=False) as handle:
            raw = handle.read(max_bytes + 1)
    except OSError as exc:
        raise InputError([Problem(f"cannot read the file: {_reason(exc)}", file)]) from None
    finally:
        os.close(fd)
    if len(raw) > max_bytes:
        raise InputError([Problem(f"file is too large (the limit is {max_bytes} bytes)", file)])
    return raw


def _reason(exc: BaseException) -> str:
    return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
