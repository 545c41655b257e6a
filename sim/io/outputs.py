"""Writing results to disk: complete or not at all.

Every output folder is written beside its destination under a hidden temporary name and moved
into place in one rename, so a run killed at any moment leaves either the previous complete
folder or the new complete one, never a half-written one.
"""

from __future__ import annotations

import contextlib
import glob
import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from sim import __version__
from sim.errors import InputError, Problem
from sim.results.result import Result

CSV_FLOAT = "%.6f"


def scenario_digest(result: Result) -> str:
    """sha256 of the resolved scenario (canonical JSON), so a manifest pins what was run."""
    text = result.scenario.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def choose_folder(
    out: str | os.PathLike[str] | None, name: str, force: bool, root: Path = Path("results")
) -> Path:
    """Where a run's outputs go: ``--out`` or ``results/<name>``.

    An existing folder is replaced only with ``force``; otherwise the next free ``-2``, ``-3``
    suffix is used, so nothing is ever silently overwritten. A name that would leave the chosen
    folder (``../x``, an absolute path) is refused.
    """
    if out is None:
        if Path(name).name != name or name in {"", ".", ".."}:
            raise InputError(
                [Problem(f"scenario name {name!r} cannot be a folder name", path="name")]
            )
        target = root / name
    else:
        target = Path(out)
    if target.parent.is_dir():
        remove_orphans(target)  # a previous folder a killed writer left aside is back first
    if force or not target.exists():
        return target
    for n in range(2, 10_000):
        candidate = target.with_name(f"{target.name}-{n}")
        if not candidate.exists():
            return candidate
    raise InputError([Problem(f"too many earlier results beside {target}; use --force")])


@contextlib.contextmanager
def atomic_folder(target: Path) -> Iterator[Path]:
    """Yield a fresh temporary folder; on success it replaces ``target`` in one rename."""
    target.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(target)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    )
    try:
        yield tmp
        replace_folder(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise


def remove_orphans(target: Path) -> None:
    """Delete temporary siblings of ``target`` (folders or files) left by writers that were
    killed (SIGKILL gives no chance to clean up). A temporary name carries its writer's process
    id; one whose process is gone is an orphan."""
    for path in target.parent.glob(f".{glob.escape(target.name)}.*.tmp"):
        pid = path.name[len(target.name) + 2 :].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
    for old in target.parent.glob(f".{glob.escape(target.name)}.old-*"):
        pid = old.name.rsplit("-", 1)[1]
        if pid.isdigit() and not _alive(int(pid)):
            if target.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:  # killed between its two renames: the previous folder is put back
                os.replace(old, target)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def replace_folder(new: Path, target: Path) -> None:
    """Put ``new`` at ``target``, moving any previous folder aside first and deleting it after.

    A writer killed between the two renames leaves the previous folder aside under its
    process id; ``remove_orphans`` puts it back."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        os.replace(target, old)
    os.replace(new, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def atomic_file(path: Path, write: Callable[[Path], None]) -> None:
    """Write one file through a temporary sibling and a rename: readers see the old file or
    the new one, never part of one. The temporary name carries the process id, so the next
    writer removes what a killed one left."""
    path.parent.mkdir(parents=True, exist_ok=True)
    remove_orphans(path)
    fd, name = tempfile.mkstemp(
        prefix=f".{path.name}.{os.getpid()}.", suffix=".tmp", dir=path.parent
    )
    os.close(fd)
    tmp = Path(name)
    try:
        write(tmp)
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def manifest(result: Result) -> dict[str, Any]:
    return {
        "scenario": result.scenario.name,
        "scenario_sha256": scenario_digest(result),
        "seed": result.seed,
        "replications": result.replications,
        "replication_seeds": [[result.seed, i] for i in range(result.replications)],
        "package_version": __version__,
        "python": platform.python_version(),
        "wall_seconds": round(result.wall_seconds, 4),
        "simpy_events": int(sum(result.simpy_events)),
        "simpy_events_per_replication": [int(n) for n in result.simpy_events],
    }


def kpi_document(result: Result) -> dict[str, Any]:
    """kpis.json: each KPI's mean, 5th and 95th percentile over replications."""
    summary = result.kpi_summary()
    return {
        "scenario": result.scenario.name,
        "replications": result.replications,
        "kpis": {
            kpi: {k: round(float(v), 6) for k, v in row.items()} for kpi, row in summary.iterrows()
        },
    }


def write_tables(result: Result, folder: Path) -> None:
    """The CSV and JSON outputs of a run (byte-identical for the same scenario and seed)."""
    result.imports.to_csv(folder / "imports.csv", index=False, float_format=CSV_FLOAT)
    if result.scenario.customs_scopes:
        scoped = result.imports_by_scope()
        scoped.to_csv(folder / "imports_by_scope.csv", index=False, float_format=CSV_FLOAT)
    result.flows.to_csv(folder / "flows.csv", index=False, float_format=CSV_FLOAT)
    result.events.to_csv(folder / "events.csv", index=False)
    result.timeline.to_csv(folder / "timeline.csv", index=False, float_format=CSV_FLOAT)
    (folder / "kpis.json").write_text(json.dumps(kpi_document(result), indent=2) + "\n")
    (folder / "manifest.json").write_text(json.dumps(manifest(result), indent=2) + "\n")
