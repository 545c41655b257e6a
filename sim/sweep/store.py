"""A sweep's folder: results streamed to Parquet part-files as runs finish.

    DIR/sweep.json              what was swept (the resolved spec), its fingerprint, the version
    DIR/spec.yaml               the sweep file as written
    DIR/samples.parquet         the design: sample, one column per parameter, params (JSON)
    DIR/parts/part-NNNNNN.*     one triple per flush of finished runs:
        .imports.parquet        sample, replication, importer, origin, product, month, tonnes
        .kpis.parquet           sample, replication, kpi, value
        .runs.parquet           sample, replication, status (ok|failed), error, seconds,
                                simpy_events, params (JSON)
    DIR/analysis/               figures, tables and summary.md (rebuilt by ``sim analyze``)

Each file is written under a hidden temporary name and renamed into place; the runs file is
written last and is the commit mark: a part counts only once its runs file exists, so a sweep
killed at any moment leaves complete parts and nothing half-written that is read. Runs are
keyed by (sample, replication); sample -1 is the paired baseline. A run recorded twice (failed,
then retried by ``--resume``) is taken from the later part. Nothing here holds more than one
flush of results in memory.
"""

from __future__ import annotations

import json
import os
import re
import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from sim import __version__
from sim.errors import InputError, Problem
from sim.io.outputs import atomic_file
from sim.sweep.spec import Sweep

PARTS = "parts"
_PART = re.compile(r"^part-(\d{6,})\.runs\.parquet$")
KINDS = ("imports", "kpis", "runs")
RUN_COLUMNS = ["sample", "replication", "status", "error", "seconds", "simpy_events", "params"]


def _write_parquet(table: pa.Table, path: Path) -> None:
    atomic_file(path, lambda tmp: pq.write_table(table, tmp, compression="zstd"))


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
            return str(json.loads((folder / "sweep.json").read_text())["fingerprint"])
        except (OSError, ValueError, KeyError):
            return None

    def meta(self) -> dict[str, Any]:
        try:
            meta: dict[str, Any] = json.loads((self.folder / "sweep.json").read_text())
        except (OSError, ValueError) as exc:
            raise InputError(
                [Problem(f"not a sweep folder (no readable sweep.json: {exc})", str(self.folder))]
            ) from None
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
        """One part: the finished runs' imports and KPIs, then the runs file that commits it."""
        if not results:
            return
        stem = self.parts / f"part-{self._next:06d}"
        self._next += 1
        ok = [r for r in results if r["status"] == "ok"]
        _write_parquet(imports_table(ok), Path(f"{stem}.imports.parquet"))
        _write_parquet(kpis_table(ok), Path(f"{stem}.kpis.parquet"))
        _write_parquet(runs_table(results), Path(f"{stem}.runs.parquet"))

    # --- reading -----------------------------------------------------------------------------

    def _last_part(self) -> int:
        numbers = [n for n, _ in self._committed()]
        for path in self.parts.glob("part-*.parquet") if self.parts.is_dir() else []:
            numbers.append(int(path.name.split(".")[0].split("-")[1]))
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
        frames = [pq.read_table(p).to_pandas() for p in self.part_files("runs")]
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
        """Long KPI rows (sample, replication, kpi, value) of ok runs, optionally some KPIs."""
        frames = []
        for path in self.part_files("kpis"):
            table = pq.read_table(path)
            frame = table.to_pandas()
            frame["kpi"] = frame["kpi"].astype(str)
            if names is not None:
                frame = frame[frame["kpi"].isin(names)]
            frames.append(frame)
        if not frames:
            return pd.DataFrame({"sample": [], "replication": [], "kpi": [], "value": []}).astype(
                {"sample": "int32", "replication": "int32", "value": float}
            )
        out = pd.concat(frames, ignore_index=True)
        return out.sort_values(["sample", "replication", "kpi"]).reset_index(drop=True)

    def kpi_names(self) -> list[str]:
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
        table = pq.read_table(self.folder / "samples.parquet", columns=["params"])
        return [json.loads(text) for text in table.column("params").to_pylist()]


_RUN_DTYPES = {
    "sample": "int32",
    "replication": "int32",
    "status": "object",
    "error": "object",
    "seconds": "float64",
    "simpy_events": "int64",
    "params": "object",
}


def replace_sweep_folder(folder: Path) -> None:
    """Empty a folder for ``--force``, refusing anything that is not an earlier sweep's."""
    if not folder.exists():
        return
    if not folder.is_dir() or (any(folder.iterdir()) and Store.fingerprint_of(folder) is None):
        raise InputError(
            [Problem("exists and is not a sweep folder; refusing to replace it", str(folder))]
        )
    shutil.rmtree(folder)


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
    return pa.table(
        {
            "sample": pa.array([r["sample"] for r in results], pa.int32()),
            "replication": pa.array([r["replication"] for r in results], pa.int32()),
            "status": pa.array([r["status"] for r in results], pa.string()),
            "error": pa.array([r["error"] for r in results], pa.string()),
            "seconds": pa.array([r["seconds"] for r in results], pa.float64()),
            "simpy_events": pa.array([r["simpy_events"] for r in results], pa.int64()),
            "params": pa.array([json.dumps(r["params"]) for r in results], pa.string()),
        }
    )


def kpis_table(results: list[dict[str, Any]]) -> pa.Table:
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
