"""A run's results as files: the CSV tables, kpis.json and the manifest.

They are written into a claimed folder (``sim.io.claim``) through a temporary one moved into
place in one rename (``sim.io.durable``), so a run killed at any moment leaves either the
previous complete folder or the new complete one, never a half-written one.
"""

from __future__ import annotations

import hashlib
import json
import platform
from pathlib import Path
from typing import Any

from sim import __version__
from sim.io.durable import atomic_file as atomic_file
from sim.io.durable import atomic_folder as atomic_folder
from sim.io.durable import remove_orphans as remove_orphans
from sim.results.result import Result

CSV_FLOAT = "%.6f"


def scenario_digest(result: Result) -> str:
    """sha256 of the resolved scenario (canonical JSON), so a manifest pins what was run."""
    text = result.scenario.model_dump_json()
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def manifest(result: Result) -> dict[str, Any]:
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
