"""A sweep folder read back for its analysis, and the parts the analysis is made of.

Shared by ``sim.sweep.analysis`` (which computes) and ``sim.sweep.report`` (which renders), so
that neither imports the other.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from sim.sweep import prim
from sim.sweep.expressions import parse
from sim.sweep.spec import BASELINE_SAMPLE, SweepSpec, analysed_kpis
from sim.sweep.store import Store


@dataclass(frozen=True)
class Data:
    """A sweep folder read back: spec, design, runs and the analysed KPIs (per run, long)."""

    spec: SweepSpec
    meta: dict[str, Any]
    design: list[dict[str, Any]]
    """Every sample's parameter values: the design's, then the tornado's swings."""
    runs: pd.DataFrame
    kpis: pd.DataFrame
    """Long KPI rows of the analysed KPIs and of those expectations and outcomes name."""
    analysed: list[str]
    n_design: int
    """Samples of the design proper (the rest are tornado swings)."""
    destinations: frozenset[str] = frozenset()
    """Countries Quad-bound product is headed for (from the ``quad_bound.*`` KPI names)."""

    @property
    def design_kpis(self) -> pd.DataFrame:
        """KPI rows of the design's runs and the baseline's (not the swings')."""
        return self.kpis[self.kpis["sample"] < self.n_design]


def load(folder: Path) -> Data:
    """What the analysis reads of a sweep folder: its spec, design and KPIs."""
    store = Store(folder)
    meta = store.meta()
    spec = SweepSpec.model_validate(meta["spec"])
    design = store.samples()
    names = store.kpi_names()
    analysed = analysed_kpis(spec, names)
    destinations = frozenset(n.split(".")[1] for n in names if n.startswith("quad_bound."))
    needed = set(analysed)
    for text in [e.expect for e in spec.expectations] + [d.outcome for d in spec.discover]:
        needed |= set(parse(text).kpis())
    runs = _planned(store.runs(), spec, len(design))
    kpis = store.kpis(needed)
    kpis = kpis.merge(runs.loc[runs.status == "ok", ["sample", "replication"]])
    n_design = spec.design_size if len(design) == spec.size else len(design)
    return Data(spec, meta, design, runs, kpis, analysed, n_design, destinations)


def _planned(runs: pd.DataFrame, spec: SweepSpec, samples: int) -> pd.DataFrame:
    """Only the runs of the current plan (replications may have shrunk since)."""
    keep = (runs["replication"] < spec.replications) & (runs["sample"] < samples)
    if spec.baseline is None:
        keep &= runs["sample"] != BASELINE_SAMPLE
    return runs[keep].reset_index(drop=True)


@dataclass
class Section:
    """One part of the analysis, as Markdown (summary.md) and as HTML (report.html)."""

    markdown: list[str] = field(default_factory=list)
    html: list[str] = field(default_factory=list)
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    """Tables for the workbook, by sheet name."""


def design_text(data: Data) -> str:
    """``Saltelli's design for Sobol' indices (N = 64): 640 samples x 3 replications, and 17
    tornado swing samples``."""
    spec = data.spec
    kind = {
        "grid": "full grid",
        "latin_hypercube": "Latin hypercube",
        "random": "random sample",
        "sobol": f"Saltelli's design for Sobol' indices (N = {spec.samples})",
        "morris": f"Morris trajectories (r = {spec.samples}, {spec.levels} levels)",
    }[spec.method]
    text = f"{kind}: {data.n_design} samples x {spec.replications} replications"
    swings = len(data.design) - data.n_design
    return text + (f", and {swings} tornado swing samples" if swings else "")


def slug(name: str) -> str:
    """A name made safe for a file name (``/`` and spaces become ``_``)."""
    return "".join(c if c.isalnum() or c in "._-" else "_" for c in name)


@dataclass(frozen=True)
class Discovered:
    """One outcome's box, rounded, with its rules in words."""

    name: str
    outcome: str
    description: str
    share: float
    runs: int
    box: prim.Box | None
    rules: list[str]
