"""A sweep's folder: results streamed to Parquet part-files as runs finish.

    DIR/sweep.json              what was swept (the resolved spec), its fingerprint, the version
    DIR/spec.yaml               the sweep file as written
    DIR/samples.parquet         the design: sample, one column per parameter, params (JSON)
    DIR/parts/part-NNNNNN.*     one triple per flush of finished runs:
        .imports.parquet        sample, replication, importer, origin, product, month, tonnes
        .kpis.parquet           sample, replication, kpi, value (finite values only)
        .runs.parquet           sample, replication, status (ok|failed), error, seconds,
                                simpy_events, params (JSON), kpi_errors (JSON: KPI -> why it
                                has no value); its metadata holds the other two files' sha256
    DIR/quarantine/             damaged parts moved aside, each with a note of why
    DIR/analysis/               figures, tables and summary.md (rebuilt by ``sim analyze``)

Each file is written under a hidden temporary name, flushed to disk and renamed into place; the
runs file is written last and is the commit mark: a part counts only once its runs file exists,
so a sweep killed at any moment leaves complete parts and nothing half-written that is read.
A part damaged all the same (a power cut on a disk that lies about flushing, a copy cut short)
is found by ``verify`` (run by ``--resume`` and ``sim analyze``) and moved to quarantine: its
runs are then missing, and ``--resume`` runs them again. Runs are keyed by (sample,
replication); sample -1 is the paired baseline. A run recorded twice (failed, then retried by
``--resume``) is taken from the later part. Nothing here holds more than one flush of results
in memory.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim import __version__
from sim.errors import InputError, Problem
from sim.io.claim import LOCK
from sim.io.durable import atomic_file, fsync_path
from sim.scenario.files import read_bytes, regular_file_problem
from sim.sweep.spec import Sweep

PARTS = "parts"
QUARANTINE = "quarantine"
_PART = re.compile(r"^part-(\d{6,})\.runs\.parquet$")
_ANY_PART = re.compile(r"^part-(\d{6,})\.")
KINDS = ("imports", "kpis", "runs")
RUN_COLUMNS = [
    "sample",
    "replication",
    "status",
    "error",
    "seconds",
    "simpy_events",
    "params",
    "kpi_errors",
]
SUMS = {kind: f"sim.{kind}.sha256".encode() for kind in ("imports", "kpis")}
"""Keys of the runs file's metadata holding the sha256 of the part's other two files."""
MAX_META_BYTES = 64 * 1024 * 1024


def _serialise(table: pa.Table) -> bytes:
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink, compression="zstd")
    return bytes(sink.getvalue().to_pybytes())


def _write_bytes(path: Path, data: bytes) -> None:
    def write(tmp: Path) -> None:
        tmp.write_bytes(data)

    atomic_file(path, write)


def _write_parquet(table: pa.Table, path: Path) -> None:
    _write_bytes(path, _serialise(table))


def _write_text(path: Path, text: str) -> None:
    def write(tmp: Path) -> None:
        tmp.write_text(text, encoding="utf-8")

    atomic_file(path, write)


class Store:
    """Reads and writes one sweep folder."""

    def __init__(self, folder: str | os.PathLike[str]) -> None:
        self.folder = Path(folder)
        self.parts = self.folder / PARTS
        self._next = self._last_part() + 1

    # --- setting up --------------------------------------------------------------------------

    @classmethod
    def create(cls, folder: Path, sweep: Sweep, spec_text: str) -> Store:
        """Write what was swept (a new folder, or the same sweep again on resume)."""
        folder.mkdir(parents=True, exist_ok=True)
        (folder / PARTS).mkdir(exist_ok=True)
        meta = {
            "name": sweep.spec.name,
            "spec_file": sweep.file,
            "fingerprint": sweep.fingerprint(),
            "package_version": __version__,
            "base": sweep.base.name,
            "baseline": None if sweep.baseline is None else sweep.baseline.name,
            "runs": sweep.runs,
            "spec": sweep.spec.model_dump(mode="json", by_alias=True),
        }
        text = json.dumps(meta, indent=2) + "\n"
        _write_text(folder / "sweep.json", text)
        _write_text(folder / "spec.yaml", spec_text)
        _write_parquet(samples_table(sweep.design), folder / "samples.parquet")
        return cls(folder)

    @staticmethod
    def fingerprint_of(folder: Path) -> str | None:
        """The fingerprint a folder was made with, or None when it is not a sweep folder."""
        try:
            meta = json.loads(read_bytes(folder / "sweep.json", MAX_META_BYTES))
            return str(meta["fingerprint"])
        except (InputError, ValueError, KeyError, TypeError):
            return None

    def meta(self) -> dict[str, Any]:
        """The folder's ``sweep.json``: spec, plan and fingerprint (InputError if unreadable)."""
        try:
            meta = json.loads(read_bytes(self.folder / "sweep.json", MAX_META_BYTES))
        except InputError as exc:
            reason = exc.problems[0].message
            message = f"not a sweep folder (no readable sweep.json: {reason})"
            raise InputError([Problem(message, str(self.folder))]) from None
        except ValueError as exc:
            message = f"not a sweep folder (sweep.json is not JSON: {exc})"
            raise InputError([Problem(message, str(self.folder))]) from None
        if not isinstance(meta, dict) or not isinstance(meta.get("spec"), dict):
            message = "not a sweep folder (sweep.json holds no sweep)"
            raise InputError([Problem(message, str(self.folder))])
        return meta

    def remove_orphans(self) -> None:
        """Delete files of parts that never committed (a sweep killed while writing one)."""
        committed = {n for n, _ in self._committed()}
        for path in self.parts.glob("part-*.parquet"):
            number = int(path.name.split(".")[0].split("-")[1])
            if number not in committed:
                path.unlink(missing_ok=True)
        for path in self.parts.glob(".part-*.tmp"):
            path.unlink(missing_ok=True)

    # --- writing -----------------------------------------------------------------------------

    def write(self, results: list[dict[str, Any]]) -> None:
        """One part: the finished runs' imports and KPIs, then the runs file that commits it
        (holding the other two files' sha256, so that a damaged part can be told)."""
        if not results:
            return
        stem = self.parts / f"part-{self._next:06d}"
        self._next += 1
        ok = [r for r in results if r["status"] == "ok"]
        sums: dict[bytes, bytes] = {}
        for kind, table in (("imports", imports_table(ok)), ("kpis", kpis_table(ok))):
            data = _serialise(table)
            _write_bytes(Path(f"{stem}.{kind}.parquet"), data)
            sums[SUMS[kind]] = hashlib.sha256(data).hexdigest().encode()
        runs = runs_table(results)
        runs = runs.replace_schema_metadata({**(runs.schema.metadata or {}), **sums})
        _write_parquet(runs, Path(f"{stem}.runs.parquet"))

    # --- checking ----------------------------------------------------------------------------

    def verify(self) -> list[Damage]:
        """Check every committed part and move a damaged one (missing or unreadable files, a
        checksum that does not match) to ``quarantine/`` with a note; its runs are then
        missing, and ``--resume`` runs them again. Returns what was quarantined."""
        found = []
        for number, runs_path in list(self._committed()):
            reason, runs = part_problem(runs_path)
            if reason is not None:
                found.append(self._quarantine(number, reason, runs))
        if found:
            fsync_path(self.parts)
        return found

    def _quarantine(self, number: int, reason: str, runs: list[tuple[int, int]] | None) -> Damage:
        folder = self.folder / QUARANTINE
        folder.mkdir(exist_ok=True)
        stem = f"part-{number:06d}"
        for path in sorted(self.parts.glob(f"{stem}.*")):
            os.replace(path, folder / path.name)
        listed = "unknown (its runs file is unreadable)" if runs is None else f"{len(runs)}"
        note = (
            f"{stem}: {reason}\nruns it held: {listed}\n"
            + "".join(f"sample {s} replication {r}\n" for s, r in runs or [])
            + f"These runs are missing from the sweep; `sim sweep SPEC --out {self.folder} "
            "--resume` runs them again.\n"
        )
        _write_bytes(folder / f"{stem}.txt", note.encode("utf-8"))
        fsync_path(folder)
        return Damage(self.parts / stem, reason, None if runs is None else len(runs))

    # --- reading -----------------------------------------------------------------------------

    def _last_part(self) -> int:
        """The highest part number used, quarantined parts included (numbers are never
        reused, so a note in quarantine always names one part)."""
        numbers = [n for n, _ in self._committed()]
        for folder in (self.parts, self.folder / QUARANTINE):
            if folder.is_dir():
                for path in folder.iterdir():
                    match = _ANY_PART.match(path.name)
                    if match:
                        numbers.append(int(match.group(1)))
        return max(numbers, default=0)

    def _committed(self) -> Iterator[tuple[int, Path]]:
        if not self.parts.is_dir():
            return
        for path in sorted(self.parts.iterdir()):
            match = _PART.match(path.name)
            if match:
                yield int(match.group(1)), path

    def part_files(self, kind: str) -> list[Path]:
        """The committed parts' files of one kind, in part order."""
        out = []
        for _, runs in self._committed():
            path = runs.with_name(runs.name.replace(".runs.", f".{kind}."))
            if path.exists():
                out.append(path)
        return out

    def runs(self) -> pd.DataFrame:
        """Every run's latest record, sorted by sample and replication."""
        frames = [_with_run_columns(pq.read_table(p).to_pandas()) for p in self.part_files("runs")]
        if not frames:
            return pd.DataFrame({c: pd.Series(dtype=_RUN_DTYPES[c]) for c in RUN_COLUMNS})
        runs = pd.concat(frames, ignore_index=True)
        runs = runs.drop_duplicates(["sample", "replication"], keep="last")
        return runs.sort_values(["sample", "replication"]).reset_index(drop=True)

    def done(self) -> set[tuple[int, int]]:
        """The (sample, replication) pairs that finished ok."""
        runs = self.runs()
        ok = runs[runs.status == "ok"]
        return set(zip(ok["sample"].astype(int), ok["replication"].astype(int), strict=True))

    def kpis(self, names: set[str] | None = None) -> pd.DataFrame:
        """Long KPI rows (sample, replication, kpi, value) of ok runs, optionally some KPIs.

        Only finite values: a non-finite one (written by a version that kept them) is a
        failure of that KPI, as ``kpi_errors`` records for new runs, not a number."""
        frames = []
        for path in self.part_files("kpis"):
            table = pq.read_table(path)
            frame = table.to_pandas()
            frame["kpi"] = frame["kpi"].astype(str)
            if names is not None:
                frame = frame[frame["kpi"].isin(names)]
            frames.append(frame[np.isfinite(frame["value"].to_numpy(dtype=float))])
        if not frames:
            return pd.DataFrame({"sample": [], "replication": [], "kpi": [], "value": []}).astype(
                {"sample": "int32", "replication": "int32", "value": float}
            )
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(["sample", "replication", "kpi"]).reset_index(drop=True)

    def kpi_names(self) -> list[str]:
        """The KPI names the folder's parts hold, in first-seen order."""
        names: dict[str, None] = {}
        for path in self.part_files("kpis"):
            column = pq.read_table(path, columns=["kpi"]).column("kpi")
            for name in pc.unique(column.cast(pa.string())).to_pylist():
                names[str(name)] = None
        return list(names)

    def imports(self) -> Iterator[pd.DataFrame]:
        """The import rows, one committed part at a time (memory stays bounded)."""
        for path in self.part_files("imports"):
            frame = pq.read_table(path).to_pandas()
            for column in ("importer", "origin", "product", "month"):
                frame[column] = frame[column].astype(str)
            yield frame

    def samples(self) -> list[dict[str, Any]]:
        """The design, as written: each sample's parameter values."""
        path = self.folder / "samples.parquet"
        problem = regular_file_problem(path)
        try:
            if problem is not None:
                raise ValueError(problem)
            table = pq.read_table(path, columns=["params"])
            return [json.loads(text) for text in table.column("params").to_pylist()]
        except Exception as exc:  # any damage: truncated, not Parquet, not JSON
            message = (
                f"samples.parquet is damaged ({type(exc).__name__}: {exc}); "
                "`sim sweep SPEC --out DIR --resume` writes it again"
            )
            raise InputError([Problem(message, str(self.folder))]) from None


_RUN_DTYPES = {
    "sample": "int32",
    "replication": "int32",
    "status": "object",
    "error": "object",
    "seconds": "float64",
    "simpy_events": "int64",
    "params": "object",
    "kpi_errors": "object",
}


def _with_run_columns(frame: pd.DataFrame) -> pd.DataFrame:
    """A runs file's rows with every column (``kpi_errors`` came later: none recorded)."""
    if "kpi_errors" not in frame.columns:
        frame["kpi_errors"] = "{}"
    return frame


@dataclass(frozen=True)
class Damage:
    """A part found damaged and quarantined: which, why, and how many runs it held (None:
    unknown, its runs file was unreadable)."""

    part: Path
    reason: str
    runs: int | None

    def __str__(self) -> str:
        held = "its runs" if self.runs is None else f"its {self.runs} run(s)"
        return (
            f"{self.part}: {self.reason}; moved to {self.part.parent.parent / QUARANTINE}/, "
            f"{held} will be run again by --resume"
        )


def part_problem(runs_path: Path) -> tuple[str | None, list[tuple[int, int]] | None]:
    """What is wrong with a committed part (None: nothing), and the runs it holds (None when
    its runs file cannot be read)."""
    paths = {
        kind: runs_path.with_name(runs_path.name.replace(".runs.", f".{kind}.")) for kind in KINDS
    }
    for kind, path in paths.items():
        problem = regular_file_problem(path)
        if problem is not None:
            return f"{kind} file: {problem}", None
    try:
        table = pq.read_table(paths["runs"])
        runs = list(
            zip(
                table.column("sample").to_pylist(),
                table.column("replication").to_pylist(),
                strict=True,
            )
        )
    except Exception as exc:  # any damage: truncated, not Parquet, wrong columns
        return f"runs file unreadable ({type(exc).__name__}: {exc})", None
    sums = table.schema.metadata or {}
    for kind in ("imports", "kpis"):
        reason = _file_problem(paths[kind], sums.get(SUMS[kind]))
        if reason is not None:
            return f"{kind} file {reason}", runs
    return None, runs


def _file_problem(path: Path, expected: bytes | None) -> str | None:
    """Whether a part's file matches its recorded sha256 (older parts: whether it reads)."""
    try:
        if expected is None:
            pq.read_table(path)
            return None
        digest = hashlib.sha256()
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    except Exception as exc:
        return f"unreadable ({type(exc).__name__}: {exc})"
    if digest.hexdigest().encode() != expected:
        return "does not match its checksum (damaged after it was written)"
    return None


def kpi_failures(runs: pd.DataFrame) -> dict[str, tuple[int, str]]:
    """Per KPI that failed (came out infinite or not a number) in some runs: how many runs,
    and the first reason given."""
    found: dict[str, tuple[int, str]] = {}
    for text in runs["kpi_errors"]:
        if not text or text == "{}":
            continue
        for name, reason in json.loads(text).items():
            count, first = found.get(name, (0, str(reason)))
            found[name] = (count + 1, first)
    return found


def empty_sweep_folder(folder: Path) -> None:
    """Delete an earlier sweep's results for ``--force`` (the folder was checked to be a sweep
    folder and is claimed by this process: its lock is kept)."""
    for entry in folder.iterdir():
        if entry.name == LOCK:
            continue
        if entry.is_dir() and not entry.is_symlink():
            shutil.rmtree(entry)
        else:
            entry.unlink()


def is_sweep_folder(folder: Path) -> bool:
    """Whether a folder holds a sweep's results (a readable sweep.json)."""
    return Store.fingerprint_of(folder) is not None


# --- tables ------------------------------------------------------------------------------------


def samples_table(design: list[dict[str, Any]]) -> pa.Table:
    """The design as a table: one column per parameter (numbers as floats, else text)."""
    columns: dict[str, Any] = {"sample": pa.array(range(len(design)), pa.int32())}
    names = list(design[0]) if design else []
    for name in names:
        values = [row[name] for row in design]
        if all(isinstance(v, int | float) and not isinstance(v, bool) for v in values):
            columns[name] = pa.array([float(v) for v in values], pa.float64())
        else:
            columns[name] = pa.array(
                [v if isinstance(v, str) else json.dumps(v) for v in values], pa.string()
            )
    columns["params"] = pa.array([json.dumps(row) for row in design], pa.string())
    return pa.table(columns)


def runs_table(results: list[dict[str, Any]]) -> pa.Table:
    """Finished runs as an Arrow table of the parts' runs file."""
    return pa.table(
        {
            "sample": pa.array([r["sample"] for r in results], pa.int32()),
            "replication": pa.array([r["replication"] for r in results], pa.int32()),
            "status": pa.array([r["status"] for r in results], pa.string()),
            "error": pa.array([r["error"] for r in results], pa.string()),
            "seconds": pa.array([r["seconds"] for r in results], pa.float64()),
            "simpy_events": pa.array([r["simpy_events"] for r in results], pa.int64()),
            "params": pa.array([json.dumps(r["params"]) for r in results], pa.string()),
            "kpi_errors": pa.array(
                [json.dumps(r.get("kpi_errors") or {}) for r in results], pa.string()
            ),
        }
    )


def kpis_table(results: list[dict[str, Any]]) -> pa.Table:
    """Finished runs' KPIs as an Arrow table, one row per run and KPI."""
    names = [name for r in results for name in r["kpis"]]
    return pa.table(
        {
            "sample": pa.array(
                np.repeat([r["sample"] for r in results], [len(r["kpis"]) for r in results]),
                pa.int32(),
            ),
            "replication": pa.array(
                np.repeat([r["replication"] for r in results], [len(r["kpis"]) for r in results]),
                pa.int32(),
            ),
            "kpi": pa.array(names, pa.string()).dictionary_encode(),
            "value": pa.array([v for r in results for v in r["kpis"].values()], pa.float64()),
        }
    )


def imports_table(results: list[dict[str, Any]]) -> pa.Table:
    """Long monthly import rows from each run's (importer, origin, product, month) cube."""
    parts: dict[str, list[np.ndarray]] = {k: [] for k in _IMPORT_COLUMNS}
    for r in results:
        cube: np.ndarray = r["imports"]
        axes = r["axes"]
        index = np.indices(cube.shape).reshape(4, -1)
        parts["sample"].append(np.full(cube.size, r["sample"], dtype=np.int32))
        parts["replication"].append(np.full(cube.size, r["replication"], dtype=np.int32))
        for k, column in enumerate(("importer", "origin", "product", "month")):
            parts[column].append(np.asarray(axes[k], dtype=object)[index[k]])
        parts["tonnes"].append(cube.ravel().astype(float))
    columns: dict[str, pa.Array] = {}
    for name, kind in _IMPORT_COLUMNS.items():
        joined = np.concatenate(parts[name]) if parts[name] else np.array([], dtype=object)
        if kind == "dict":
            columns[name] = pa.array(joined, pa.string()).dictionary_encode()
        else:
            columns[name] = pa.array(joined, kind)
    return pa.table(columns)


_IMPORT_COLUMNS: dict[str, Any] = {
    "sample": pa.int32(),
    "replication": pa.int32(),
    "importer": "dict",
    "origin": "dict",
    "product": "dict",
    "month": "dict",
    "tonnes": pa.float64(),
}
