"""A run's results as files: the CSV tables, kpis.json and the manifest.

They are written into a claimed folder (``sim.io.claim``) through a temporary one moved into
place in one rename (``sim.io.durable``), so a run killed at any moment leaves either the
previous complete folder or the new complete one, never a half-written one. The tables
themselves are written in chunks by ``sim.results.files`` (a run streamed there with
``run(..., out=)`` has them already).
"""

from __future__ import annotations

from pathlib import Path

from sim.io.durable import atomic_file as atomic_file
from sim.io.durable import atomic_folder as atomic_folder
from sim.io.durable import remove_orphans as remove_orphans
from sim.results.files import CSV_FLOAT, kpi_document, manifest, scenario_digest, write_run
from sim.results.result import Result

__all__ = [
    "CSV_FLOAT",
    "atomic_file",
    "atomic_folder",
    "kpi_document",
    "manifest",
    "remove_orphans",
    "scenario_digest",
    "write_tables",
]


def write_tables(result: Result, folder: Path) -> None:
    """The CSV and JSON outputs of a run (byte-identical for the same scenario and seed)."""
    write_run(result, folder)
