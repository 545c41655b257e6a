"""Writing files and folders durably: complete or not at all, on disk before they count.

Every file and folder is written beside its destination under a hidden temporary name, flushed
to disk (``fsync``) and moved into place in one rename, after which the folder holding it is
flushed too, so that a power cut leaves either the previous complete output or the new complete
one, never a half-written or empty one. Temporary names carry the writer's process id, so the
next writer removes what a killed one left (``remove_orphans``).

Files and folders are created with the permissions the umask allows (``0o666`` and ``0o777``
before it), as any other program's would be; ``tempfile`` would make them private (0600/0700).

An operating-system error while writing (no permission, a full disk, a read-only filesystem)
becomes an ``OutputError`` naming the destination: one line, exit code 1.
"""

from __future__ import annotations

import contextlib
import glob
import os
import secrets
import shutil
import signal
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

from sim.errors import OutputError


def temp_name(target: Path) -> Path:
    """A fresh hidden sibling name for ``target``: ``.NAME.PID.RANDOM.tmp``."""
    return target.with_name(f".{target.name}.{os.getpid()}.{secrets.token_hex(4)}.tmp")


def make_temp_folder(target: Path) -> Path:
    """A new empty folder beside ``target`` (permissions from the umask)."""
    while True:
        path = temp_name(target)
        try:
            os.mkdir(path, 0o777)
            return path
        except FileExistsError:
            continue


def make_temp_file(target: Path) -> Path:
    """A new empty file beside ``target`` (permissions from the umask)."""
    while True:
        path = temp_name(target)
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        except FileExistsError:
            continue
        os.close(fd)
        return path


def fsync_path(path: Path) -> None:
    """Flush a file's or a folder's contents to disk."""
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def sync_tree(folder: Path) -> None:
    """Flush every file and folder under ``folder`` (and it) to disk, innermost first."""
    for root, _, names in os.walk(folder, topdown=False):
        for name in names:
            fsync_path(Path(root) / name)
        fsync_path(Path(root))


@contextlib.contextmanager
def reported(target: Path, temporary: Path | None = None) -> Iterator[None]:
    """Turn an operating-system error while writing ``target`` into an OutputError naming it
    (a path inside ``temporary`` is named as the same path inside ``target``)."""
    try:
        yield
    except OutputError:
        raise
    except OSError as exc:
        raise OutputError(_shown_path(exc, target, temporary), _reason(exc)) from exc


def _shown_path(exc: OSError, target: Path, temporary: Path | None) -> Path:
    if not exc.filename:
        return target
    path = Path(os.fsdecode(exc.filename))
    if temporary is not None and path.is_relative_to(temporary):
        return target / path.relative_to(temporary)
    if path.name.startswith(f".{target.name}."):
        return target
    return path


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc) or type(exc).__name__


def atomic_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write one file through a temporary sibling, fsync and a rename: readers see the old file
    or the new one, never part of one, and after a power cut the new one is whole."""
    with reported(path):
        path.parent.mkdir(parents=True, exist_ok=True)
        remove_orphans(path)
        tmp = make_temp_file(path)
        try:
            write(tmp)
            fsync_path(tmp)
            os.replace(tmp, path)
        except BaseException:
            tmp.unlink(missing_ok=True)
            raise
        fsync_path(path.parent)


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it is flushed and replaces ``target`` in one
    rename. For a command's own folders that it replaces every time (an analysis, a report);
    a command's output folder is claimed first (``sim.io.claim``)."""
    with reported(target):
        target.parent.mkdir(parents=True, exist_ok=True)
        remove_orphans(target)
        tmp = make_temp_folder(target)
    try:
        with reported(target, tmp):
            yield tmp
            sync_tree(tmp)
            replace_folder(tmp, target)
            fsync_path(target.parent)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_orphans(target: Path) -> None:
    """Delete temporary siblings of ``target`` (folders or files) left by writers that were
    killed (SIGKILL gives no chance to clean up). A temporary name carries its writer's process
    id; one whose process is gone is an orphan."""
    for path in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = path.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not alive(int(pid)):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    for old in target.parent.glob(f".{glob.escape(target.name)}.old-*"):
        pid = old.name.rsplit("-", 1)[1]
        if pid.isdigit() and not alive(int(pid)):
            if target.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:  # killed between its two renames: the previous folder is put back
                os.replace(old, target)


def alive(pid: int) -> bool:
    """Whether a process with this id exists (on this machine)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


@contextlib.contextmanager
def signals_deferred() -> Iterator[None]:
    """Hold Ctrl-C and SIGTERM back for a few system calls that must not be split (two
    renames): they are delivered, and handled as usual, right after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    held = {signal.SIGINT, signal.SIGTERM}
    previous = signal.pthread_sigmask(signal.SIG_BLOCK, held)
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, previous)


def replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``, moving any previous folder aside first and deleting it after.

    An interrupt cannot land between the two renames; a writer killed there (SIGKILL) leaves
    the previous folder aside under its process id, and ``remove_orphans`` puts it back."""
    old = None
    with signals_deferred():
        if target.exists():
            old = target.with_name(f".{target.name}.old-{os.getpid()}")
            os.replace(target, old)
        os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
