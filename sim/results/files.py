"""A run's files, written in chunks as its replications arrive: memory flat in their number.

    imports.csv    month, replication, importer, origin, product, tonnes
    imports_by_scope.csv  the same split by customs scope (when the scenario declares them)
    flows.csv      month, replication, importer, origin, product, site, group, route,
                   crossing, tonnes
    timeline.csv   month, replication, measure, entity, tonnes
    events.csv     date, replication, kind, subject, detail
    kpis.json      each KPI's mean, 5th and 95th percentile over replications
    manifest.json  what was run: scenario digest, seeds, versions, SimPy events

Flows, timeline and events go replication by replication: they are appended every
``FLUSH_REPLICATIONS`` replications and never held whole. Imports go month by month (months x
replications): they are written at the end from the run's import cube (kept in memory for
the combinations that carried, ``sim.results.sparse``), a block at a time so that no more
than ``BLOCK_ROWS`` rows are built at once. The same writer saves a Result held in memory, so
both give the same bytes.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Protocol

import numpy as np
import pandas as pd

from sim import __version__
from sim.model.clock import Clock
from sim.results import tables
from sim.results.csv_text import write_csv
from sim.results.kpis import Axes
from sim.results.sparse import SparseCube
from sim.results.tally import RunArrays, Tally, timeline_rows
from sim.scenario import schema as spec

CSV_FLOAT = "%.6f"
FLUSH_REPLICATIONS = 16
"""Replications buffered before their flows, timeline and events rows are appended (~1,500
timeline rows a replication of kia_offensive; 32 cost ~10 MiB on the way to text)."""
BLOCK_ROWS = 20_000
"""Most import rows built and formatted at once (each costs ~100-200 bytes on the way to
text, far more than its 8 bytes of tonnes, and twice that split by customs scope: 50,000
rows raised a run's peak by ~20 MiB)."""


class Run(Protocol):
    """What the writer reads of a ``sim.results.result.Result`` (which imports this module)."""

    scenario: spec.Scenario
    seed: int
    simpy_events: list[int]
    arrays: RunArrays
    folder: Path | None
    wall_seconds: float

    @property
    def replications(self) -> int:
        """How many replications the run has."""

    def kpi_stats(self) -> pd.DataFrame:
        """Mean and 5-95% band of each KPI."""


class RunWriter:
    """Writes a run's CSV files into ``folder`` as tallies arrive in replication order."""

    def __init__(self, folder: Path, scenario: spec.Scenario, count: int) -> None:
        self.folder, self.count, self.scenario = folder, count, scenario
        self.clock = Clock(scenario.start, scenario.end)
        self.axes = Axes.of(scenario, self.clock)
        self.months = tables.periods(self.axes)
        self.pending: list[Tally] = []
        self.next = 0
        self.started: set[str] = set()

    def add(self, t: Tally) -> None:
        """Take the next replication (they must come in order: 0, 1, 2...)."""
        if t.replication != self.next:
            raise ValueError(f"replication {t.replication} arrived, {self.next} expected")
        self.next += 1
        self.pending.append(t)
        if len(self.pending) >= FLUSH_REPLICATIONS:
            self.flush()

    def flush(self) -> None:
        """Append the buffered replications' flows, timeline and events rows."""
        batch, self.pending = self.pending, []
        if not batch and self.started:
            return
        reps = [t.replication for t in batch]
        keys, flows = [t.flow_keys for t in batch], [t.flows for t in batch]
        self._append("flows.csv", tables.flows_block(reps, keys, flows, self.months, self.axes))
        stacked = np.stack([t.timeline for t in batch]) if batch else np.zeros((0, 0, 0))
        rows = timeline_rows(self.axes)
        timeline = tables.timeline_block(stacked, np.array(reps), rows, self.months)
        self._append("timeline.csv", timeline)
        events = tables.events_block(reps, [t.events for t in batch], self.clock)
        self._append("events.csv", events, float_format=None)

    def _append(self, name: str, frame: pd.DataFrame, float_format: str | None = CSV_FLOAT) -> None:
        first = name not in self.started
        with (self.folder / name).open("w" if first else "a", newline="", encoding="utf-8") as f:
            write_csv(tables.csv_ready(frame), f, header=first, float_format=float_format)
        self.started.add(name)

    def finish(self, imports: SparseCube) -> None:
        """Flush, then write imports.csv month-major from the run's (replication, importer,
        origin, product, month) cube, at most ``BLOCK_ROWS`` rows at a time: several months of
        every replication, or one month a range of replications at a time."""
        if self.next != self.count:
            raise ValueError(f"{self.next} of {self.count} replications arrived")
        self.flush()
        n_m = len(self.months)
        per_rep = max(1, imports.combinations)  # rows of a month of one replication
        per_month = max(1, self.count * imports.combinations)  # of every replication
        months = max(1, min(n_m, BLOCK_ROWS // per_month))
        reps = max(1, BLOCK_ROWS // per_rep) if months == 1 else self.count
        for m0 in range(0, n_m, months):
            for r0 in range(0, self.count, reps):
                block = imports.block(slice(r0, r0 + reps), slice(m0, m0 + months))
                index = np.arange(r0, r0 + len(block))
                self._imports(block, index, self.months[m0 : m0 + months])

    def _imports(self, block: np.ndarray, reps: np.ndarray, months: pd.PeriodIndex) -> None:
        frame = tables.imports_block(block, reps, months, self.axes)
        self._append("imports.csv", frame)
        if self.scenario.customs_scopes:
            scoped = tables.scoped_block(self.scenario, frame, self.clock, self.axes)
            self._append("imports_by_scope.csv", scoped)


def tallies_of(result: Run) -> Iterator[Tally]:
    """A Result held in memory, replication by replication, as the writer takes it."""
    data = result.arrays
    assert data.flow_keys is not None
    assert data.flows is not None
    assert data.timeline is not None
    assert data.events is not None
    for r in range(result.replications):
        yield Tally(
            replication=r,
            simpy_events=result.simpy_events[r],
            imports=data.imports.block(slice(r, r + 1))[0],
            quad=data.quad.block(slice(r, r + 1))[0],
            flow_keys=data.flow_keys[r],
            flows=data.flows[r],
            timeline=data.timeline[r],
            events=data.events[r],
            kpis={},
            outcomes=[],
        )


def write_run(result: Run, folder: Path) -> None:
    """Every file of a run into an existing folder (byte-identical for the same scenario and
    seed, however it was run)."""
    if result.arrays.events is None:
        if result.folder is None:
            raise LookupError("this run kept no flows, timeline or events to save")
        for name in ("imports.csv", "imports_by_scope.csv", "flows.csv", "timeline.csv"):
            if (result.folder / name).exists():
                shutil.copyfile(result.folder / name, folder / name)
        shutil.copyfile(result.folder / "events.csv", folder / "events.csv")
    else:
        writer = RunWriter(folder, result.scenario, result.replications)
        for t in tallies_of(result):
            writer.add(t)
        writer.finish(result.arrays.imports)
    write_summary(result, folder)


def write_summary(result: Run, folder: Path) -> None:
    """kpis.json and manifest.json."""
    (folder / "kpis.json").write_text(json.dumps(kpi_document(result), indent=2) + "\n")
    (folder / "manifest.json").write_text(json.dumps(manifest(result), indent=2) + "\n")


def save(result: Run, target: Path) -> Path:
    """Write a run's files to a temporary sibling of ``target`` and rename it into place.

    The temporary name follows ``sim.io.outputs`` (``.NAME.PID.tmp``), so a later ``sim run``
    into the same place removes what a killed writer left."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(
        tempfile.mkdtemp(prefix=f".{target.name}.{os.getpid()}.", suffix=".tmp", dir=target.parent)
    )
    try:
        write_run(result, tmp)
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        if target.exists():
            os.replace(target, old)
        os.replace(tmp, target)
        shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def scenario_digest(result: Run) -> str:
    """sha256 of the resolved scenario (canonical JSON), so a manifest pins what was run."""
    text = result.scenario.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest(result: Run) -> dict[str, Any]:
    """What ``manifest.json`` says of a run: command, scenario and digest, seed, counts, times."""
    return {
        "command": "run",
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


def kpi_document(result: Run) -> dict[str, Any]:
    """kpis.json: each KPI's mean, 5th and 95th percentile over replications."""
    stats = result.kpi_stats()
    return {
        "scenario": result.scenario.name,
        "replications": result.replications,
        "kpis": {
            str(name): {k: round(float(v), 6) for k, v in row.items()}
            for name, row in stats.iterrows()
        },
    }
