"""Output folders are claimed before any work, and only what a command made is ever replaced.

A command that writes a folder of results (``sim run``, ``compare``, ``sweep``) claims it at
the start, before anything runs:

- a new folder is made with an exclusive ``mkdir``; when the name is taken (by anything: a
  folder, a file, another run's claim), the next free ``NAME-2``, ``NAME-3`` ... is claimed
  instead, so two commands started at once with the same ``--out`` get distinct folders;
- with ``--force``, an existing folder is replaced only when it holds the results of the same
  command (its manifest); anything else is refused, and so is anything that is not a folder;
- ``--resume`` (sweeps) claims the existing folder itself.

A claim is a lock file, ``.sim.lock`` (process id, host, command), inside the folder while the
command works: another command finds it and goes elsewhere, or refuses. A claim left by a
killed process (its process gone) is taken over by the next command. Results are written beside
the folder under a temporary name and moved in with one rename (``Claim.writing``); a failed or
interrupted command removes the folder it made (when still empty) and its lock, nothing else.
"""

from __future__ import annotations

import contextlib
import errno
import json
import os
import shutil
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

from sim.errors import InputError, Problem
from sim.io.durable import (
    alive,
    fsync_path,
    make_temp_folder,
    remove_orphans,
    reported,
    signals_deferred,
    sync_tree,
)

LOCK = ".sim.lock"
"""The lock file inside a claimed folder."""
MANIFEST = "manifest.json"
"""What ``sim run`` and ``sim compare`` results hold: the command, what was run, the seeds."""
MAX_SUFFIX = 10_000
COMMAND_LINE = "<command line>"

Replaceable = Callable[[Path], bool]
"""Whether an existing folder holds results a command may replace with ``--force``."""


@dataclass(frozen=True)
class Where:
    """Where problems with an output folder are reported: ``--out`` when the user gave it, the
    folder itself when it was the default (``results/NAME``)."""

    option: str | None = "--out"

    def problem(self, path: Path, message: str) -> Problem:
        """A problem with ``path``, located at the option that named it (if any)."""
        if self.option is None:
            return Problem(message, str(path))
        return Problem(f"{path}: {message}", COMMAND_LINE, None, self.option)


@dataclass
class Claim:
    """An output folder this process holds: made by it (``fresh``), or an existing one it may
    replace or add to. ``release`` undoes the claim; after ``writing`` it only unlocks."""

    path: Path
    command: str
    fresh: bool
    parents: tuple[Path, ...] = ()
    """Folders above ``path`` this process made for it (innermost first)."""

    def __enter__(self) -> Claim:
        return self

    def __exit__(self, *exc: object) -> None:
        self.release()

    @contextlib.contextmanager
    def writing(self) -> Iterator[Path]:
        """Yield a temporary folder beside the claim; on success it is flushed to disk and
        becomes the claimed folder in one rename (an earlier folder replaced with ``--force``
        is moved aside first and deleted after). On failure it is removed."""
        with reported(self.path):
            tmp = make_temp_folder(self.path)
        try:
            with reported(self.path, tmp):
                yield tmp
                sync_tree(tmp)
                self._install(tmp)
                fsync_path(self.path.parent)
        except BaseException:
            shutil.rmtree(tmp, ignore_errors=True)
            raise

    def _install(self, tmp: Path) -> None:
        if not self.fresh:
            old = self.path.with_name(f".{self.path.name}.old-{os.getpid()}")
            with signals_deferred():  # never interrupted between the two renames
                os.replace(self.path, old)  # the lock goes with it
                os.replace(tmp, self.path)
            shutil.rmtree(old, ignore_errors=True)
            return
        unlock(self.path)
        try:
            os.replace(tmp, self.path)  # onto the empty folder claimed at the start
        except OSError as exc:
            if exc.errno not in (errno.ENOTEMPTY, errno.EEXIST, errno.ENOTDIR):
                raise
            # Another program put something in the claimed folder meanwhile: it is left
            # alone, and the results go to the next free name.
            other = claim_new(self.path, self.command, Where(None))
            unlock(other.path)
            os.replace(tmp, other.path)
            self.path = other.path

    def release(self) -> None:
        """Remove this process's lock and, if this process made the folder and it is still
        empty (nothing was written), the folder and the parents it made for it; never
        anything else."""
        unlock(self.path)
        if not self.fresh:
            return
        for folder in (self.path, *self.parents):
            try:
                folder.rmdir()  # fails, as it should, when anything is in it
            except OSError:
                return


# --- claiming ----------------------------------------------------------------------------------


def default_folder(root: Path, name: str) -> Path:
    """``root/NAME`` for a scenario or sweep name, refusing a name that would leave ``root``
    (files refuse such names already; this covers scenarios built in Python)."""
    if Path(name).name != name or name in {"", ".", ".."} or "\\" in name:
        raise InputError([Problem(f"scenario name {name!r} cannot be a folder name", path="name")])
    return root / name


def claim_output(
    out: str | os.PathLike[str] | None,
    default: Path,
    command: str,
    force: bool,
    replaceable: Replaceable | None = None,
) -> Claim:
    """Claim ``--out`` (or ``default`` when not given) for ``command``: a new folder there or
    beside it, or with ``force`` the existing folder when ``replaceable`` (default: it holds a
    manifest of ``command``). Problems are InputErrors located at ``--out``."""
    where = Where("--out" if out is not None else None)
    target = Path(out) if out is not None else default
    if target.name in ("", ".", ".."):
        raise InputError([where.problem(target, "give a folder name")])
    if force and _exists(target):
        return claim_existing(target, command, where, replaceable or holds_manifest(command))
    return claim_new(target, command, where)


def claim_new(target: Path, command: str, where: Where) -> Claim:
    """A new folder at ``target``, or at the next free ``target-N``, made by this process."""
    parents = _make_parents(target, where)
    for n in range(1, MAX_SUFFIX):
        candidate = target if n == 1 else target.with_name(f"{target.name}-{n}")
        with contextlib.suppress(OSError):
            remove_orphans(candidate)  # a folder a killed writer moved aside is back first
        try:
            os.mkdir(candidate, 0o777)
        except FileExistsError:
            if _take_orphan_claim(candidate, command):
                return Claim(candidate, command, fresh=True, parents=parents)
            _drop_dead_lock(candidate)
            continue
        except OSError as exc:
            raise InputError([where.problem(candidate, _cannot_create(exc))]) from None
        try:
            _lock(candidate, command)
        except BaseException as exc:  # an interrupt too: the folder just made goes
            unlock(candidate)
            with contextlib.suppress(OSError):
                candidate.rmdir()
            if isinstance(exc, OSError):
                raise InputError([where.problem(candidate, _cannot_create(exc))]) from None
            raise
        return Claim(candidate, command, fresh=True, parents=parents)
    message = f"too many earlier results beside it ({target.name}-2 to -{MAX_SUFFIX - 1}); " + (
        "use --force"
    )
    raise InputError([where.problem(target, message)])


def claim_existing(
    target: Path, command: str, where: Where, replaceable: Replaceable | None = None
) -> Claim:
    """The existing folder ``target``, locked for this process. With ``replaceable``, it must
    hold results the command may replace; ``None`` accepts any folder (the caller checks)."""
    if not target.is_dir():
        raise InputError([where.problem(target, "is not a folder; refusing to replace it")])
    holder = lock_holder(target)
    if holder is not None and holder.alive:
        raise InputError([where.problem(target, f"is in use by {holder}; wait for it to end")])
    if _only_a_lock(target):
        if _take_orphan_claim(target, command):  # a killed command's empty claim
            return Claim(target, command, fresh=True)
        raise InputError([where.problem(target, "is in use by another sim command")])
    if replaceable is not None and not replaceable(target):
        message = (
            f"exists and is not a folder of sim {command} results; refusing to replace it "
            "(--force replaces only those): give another --out"
        )
        raise InputError([where.problem(target, message)])
    try:
        if holder is not None:
            _take_over(target, command)
        else:
            _lock(target, command)
    except FileExistsError:
        raise InputError([where.problem(target, "is in use by another sim command")]) from None
    except OSError as exc:
        raise InputError([where.problem(target, f"cannot lock it: {_reason(exc)}")]) from None
    except BaseException:  # interrupted while locking: no lock of this process is left
        unlock(target)
        raise
    return Claim(target, command, fresh=False)


def holds_manifest(command: str) -> Replaceable:
    """A folder holding ``manifest.json`` written by ``sim COMMAND`` (a ``sim run`` manifest
    from before manifests named their command counts as ``run``)."""

    def check(folder: Path) -> bool:
        manifest = folder / MANIFEST
        try:
            if not manifest.is_file():
                return False
            data = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return False
        if not isinstance(data, dict):
            return False
        found = data.get("command", "run" if "scenario_sha256" in data else None)
        return bool(found == command)

    return check


# --- the lock file -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Holder:
    """Who holds a claim, as its lock file says."""

    pid: int
    host: str
    command: str

    @property
    def alive(self) -> bool:
        """True unless the holder is known to be gone (a process of another host may live)."""
        return self.host != socket.gethostname() or alive(self.pid)

    def __str__(self) -> str:
        return f"sim {self.command} (process {self.pid} on {self.host})"


def lock_holder(folder: Path) -> Holder | None:
    """The holder of a folder's claim, or None when it is not claimed."""
    try:
        text = (folder / LOCK).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, ValueError):
        return Holder(-1, "?", "?")  # unreadable: assume someone holds it
    pid, _, rest = text.strip().partition(" ")
    host, _, command = rest.partition(" ")
    if not pid.isdigit():
        return Holder(-1, "?", "?")
    return Holder(int(pid), host, command)


def _lock_text(command: str) -> str:
    return f"{os.getpid()} {socket.gethostname()} {command}\n"


def _lock(folder: Path, command: str) -> None:
    """Create the lock file exclusively, whole (FileExistsError when someone holds the
    folder): written under a name of this process's, then hard-linked into place, so that no
    one ever sees it empty or half-written (where hard links are not supported, it is
    created exclusively instead)."""
    path = folder / LOCK
    tmp = folder / f"{LOCK}.{os.getpid()}.tmp"
    tmp.write_text(_lock_text(command), encoding="utf-8")
    try:
        os.link(tmp, path)
    except FileExistsError:
        raise
    except OSError:  # no hard links here (some network or FAT filesystems)
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, 0o666)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(_lock_text(command))
    finally:
        tmp.unlink(missing_ok=True)


def unlock(folder: Path) -> None:
    """Remove the lock file if this process holds it."""
    holder = lock_holder(folder)
    if holder is not None and holder.pid == os.getpid() and holder.host == socket.gethostname():
        with contextlib.suppress(OSError):
            (folder / LOCK).unlink()


def _take_over(folder: Path, command: str) -> None:
    """Replace a dead holder's lock with this process's. The dead lock is first renamed to a
    name of this process's: of two processes taking it over at once, one rename wins."""
    stale = folder / f"{LOCK}.stale-{os.getpid()}"
    os.rename(folder / LOCK, stale)  # FileNotFoundError: someone else took it
    try:
        _lock(folder, command)
    finally:
        stale.unlink(missing_ok=True)


def _only_a_lock(folder: Path) -> bool:
    try:
        return [p.name for p in folder.iterdir()] == [LOCK]
    except OSError:
        return False


def _take_orphan_claim(folder: Path, command: str) -> bool:
    """Take over a folder that holds nothing but the lock of a process that is gone (a claim
    whose command was killed); False when it is anything else or someone else took it."""
    try:
        if not (folder.is_dir() and not folder.is_symlink() and _only_a_lock(folder)):
            return False
        holder = lock_holder(folder)
        if holder is None or holder.alive:
            return False
        _take_over(folder, command)
    except OSError:
        return False
    return True


def _drop_dead_lock(folder: Path) -> None:
    """Remove the lock a killed command left in a folder of results (it was replacing them
    with --force, or adding to them): the results stay as they were."""
    with contextlib.suppress(OSError):
        holder = lock_holder(folder)
        if holder is not None and not holder.alive and holder.pid >= 0:
            stale = folder / f"{LOCK}.stale-{os.getpid()}"
            os.rename(folder / LOCK, stale)
            stale.unlink()


# --- helpers -----------------------------------------------------------------------------------


def _exists(path: Path) -> bool:
    return path.exists() or path.is_symlink()


def _make_parents(target: Path, where: Where) -> tuple[Path, ...]:
    """Make the missing folders above ``target``; the ones made, innermost first."""
    missing = []
    folder = target.parent
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    made = []
    try:
        for folder in reversed(missing):
            with contextlib.suppress(FileExistsError):
                os.mkdir(folder, 0o777)
                made.append(folder)
    except OSError as exc:
        for folder in reversed(made):
            with contextlib.suppress(OSError):
                folder.rmdir()
        raise InputError([where.problem(target, _cannot_create(exc))]) from None
    return tuple(reversed(made))


def _cannot_create(exc: OSError) -> str:
    return f"cannot create the folder: {_reason(exc)}"


def _reason(exc: OSError) -> str:
    return exc.strerror or str(exc)
