"""A run's outcome for people and notebooks: tables, KPIs, annual figures, files.

Replications are tallied as they finish (``sim.results.tally``) and written into preallocated
arrays by a ``Collector``; a ``Result`` builds its pandas tables from those arrays once, when
first asked, vectorised (``sim.results.tables``). A run streamed to files
(``run(..., out=folder)``) keeps in memory only its KPIs, imports and Quad series (a few kB a
replication), and reads its flows, timeline and events back from the folder if asked.
"""

from __future__ import annotations

import html
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from sim.model.clock import Clock
from sim.results import tables
from sim.results.kpis import PRODUCTS, Axes, Reduced, import_cube, kpis, reduce
from sim.results.outcomes import OutcomeTable
from sim.results.sparse import SparseCube
from sim.results.tables import QUANTILES, band_arrays, band_frame
from sim.results.tally import RunArrays, Tally, timeline_rows
from sim.scenario import schema as spec

__all__ = [
    "PRODUCTS",
    "Axes",
    "Collector",
    "Reduced",
    "Result",
    "RunArrays",
    "import_cube",
    "kpis",
    "reduce",
]


@dataclass(eq=False)
class Result:
    """All replications of one scenario: tables built on first use, KPIs, files.

    ``imports``, ``flows``, ``timeline``, ``events``: long DataFrames (``month`` a monthly
    ``Period``); ``kpis``: tidy, one row per replication and KPI; ``kpi_summary()``: mean and
    5-95% band per KPI; ``annual()``: imports by calendar year; ``save(dir)``: the files
    ``sim run`` writes.
    """

    scenario: spec.Scenario
    seed: int
    simpy_events: list[int]
    kpi_values: dict[str, np.ndarray]
    """Dotted KPI name -> value per replication (NaN where a replication has none)."""
    arrays: RunArrays = field(repr=False)
    """The tables' arrays (flows, timeline and events None when not kept)."""
    event_outcomes: OutcomeTable = field(default_factory=lambda: OutcomeTable(0), repr=False)
    """Per replication: (event id, aspect, yes or no), see ``outcomes``."""
    wall_seconds: float = 0.0
    folder: Path | None = None
    """Where the run's files were written, if they were."""
    meta: dict[str, Any] = field(default_factory=dict)

    @property
    def replications(self) -> int:
        """How many replications were run."""
        return len(self.simpy_events)

    @cached_property
    def clock(self) -> Clock:
        """The run's calendar: days from the scenario's start, month bounds."""
        return Clock(self.scenario.start, self.scenario.end)

    @cached_property
    def axes(self) -> Axes:
        """The labels of the result's arrays (importers, origins, products, months)."""
        return Axes.of(self.scenario, self.clock)

    @property
    def months(self) -> pd.PeriodIndex:
        """The months of the horizon, as monthly periods."""
        return tables.periods(self.axes)

    # --- the long tables ---------------------------------------------------------------------

    @cached_property
    def imports(self) -> pd.DataFrame:
        """month, replication, importer, origin, product, tonnes: every combination, zeros too."""
        reps = np.arange(self.replications)
        return tables.imports_block(self.arrays.imports.dense(), reps, self.months, self.axes)

    def imports_by_scope(self) -> pd.DataFrame:
        """Imports in the customs scopes of trade statistics (oxide, carbonate, other_compound,
        ore; ``unscoped`` for origins the scenario's ``customs_scopes`` do not cover): month,
        replication, importer, origin, product, scope, tonnes."""
        return tables.scoped_block(self.scenario, self.imports, self.clock, self.axes)

    @cached_property
    def flows(self) -> pd.DataFrame:
        """Imports by month, site, group, route and crossing (observed combinations only)."""
        data = self.arrays
        if data.flow_keys is None or data.flows is None:
            return self._read("flows")
        reps = list(range(self.replications))
        return tables.flows_block(reps, data.flow_keys, data.flows, self.months, self.axes)

    @cached_property
    def timeline(self) -> pd.DataFrame:
        """month, replication, measure (mined/delivered/lost/processed/stockpile/supplied),
        entity, tonnes: what was mined, delivered, processed and lost where, each site's
        largest stockpile in the month, and what each supplier elsewhere delivered."""
        if self.arrays.timeline is None:
            return self._read("timeline")
        reps = np.arange(self.replications)
        rows = timeline_rows(self.axes)
        return tables.timeline_block(self.arrays.timeline, reps, rows, self.months)

    @cached_property
    def events(self) -> pd.DataFrame:
        """date, replication, kind, subject, detail: what happened when, in each replication."""
        if self.arrays.events is None:
            return self._read("events", keep_default_na=False)
        return tables.events_block(range(self.replications), self.arrays.events, self.clock)

    def _read(self, table: str, **options: Any) -> pd.DataFrame:
        """A table this run wrote to files instead of keeping, read back."""
        if self.folder is None:
            raise LookupError(f"this run kept no {table} table (run it with tables kept)")
        frame = pd.read_csv(self.folder / f"{table}.csv", **options)
        if "month" in frame:
            frame["month"] = pd.PeriodIndex(frame["month"], freq="M")
        return frame

    @cached_property
    def outcomes(self) -> pd.DataFrame:
        """replication, event, aspect, outcome (bool): each random event's discrete outcomes
        (whether it happened within the horizon, whether an offensive took each site)."""
        return self.event_outcomes.frame()

    # --- KPIs --------------------------------------------------------------------------------

    @cached_property
    def kpis(self) -> pd.DataFrame:
        """Tidy KPIs, one row per replication and KPI: name (dotted, as sweeps and kpis.json
        key them), kpi, importer, origin, product, year (missing where a KPI has no such
        axis), replication, value."""
        names = list(self.kpi_values)
        values = np.array([self.kpi_values[n] for n in names]).reshape(
            len(names), self.replications
        )
        rep, k = np.nonzero(~np.isnan(values.T))
        frame = tables.kpi_axes(names).iloc[k].reset_index(drop=True)
        frame.insert(0, "name", np.array(names, dtype=object)[k])
        frame["replication"] = rep
        frame["value"] = values.T[rep, k]
        return frame

    def wide_kpis(self) -> pd.DataFrame:
        """KPIs as replications x dotted names (NaN where a replication has none)."""
        frame = pd.DataFrame(self.kpi_values, index=pd.RangeIndex(self.replications))
        frame.index.name = "replication"
        frame.columns.name = "name"
        return frame

    def kpi_summary(self) -> pd.DataFrame:
        """Tidy: per KPI (name, kpi, importer, origin, product, year) and statistic (mean, p5,
        p95 over the replications that have it), its value."""
        stats = self.kpi_stats()
        names = np.repeat(stats.index.to_numpy(dtype=object), stats.shape[1])
        frame = tables.kpi_axes(list(names))
        frame.insert(0, "name", names)
        frame["statistic"] = np.tile(stats.columns.to_numpy(dtype=object), len(stats))
        frame["value"] = stats.to_numpy().ravel()
        return frame

    def kpi_stats(self) -> pd.DataFrame:
        """Per dotted KPI name (sorted): mean, p5 and p95 over replications, as columns.

        One KPI at a time (each row of a names x replications array gives the same figures),
        so that no copy of every KPI of every replication is made: ~50 MiB at 10,000."""
        names = sorted(self.kpi_values)
        columns: dict[str, list[Any]] = {"mean": [], **{label: [] for label in QUANTILES}}
        with np.errstate(all="ignore"):
            for name in names:
                values = np.asarray(self.kpi_values[name], dtype=np.float64)
                columns["mean"].append(np.nanmean(values))
                for label, q in QUANTILES.items():
                    columns[label].append(np.nanquantile(values, q))
        arrays = {label: np.array(column, dtype=np.float64) for label, column in columns.items()}
        return pd.DataFrame(arrays, index=pd.Index(names, name="name"))

    # --- views for people --------------------------------------------------------------------

    def annual(self) -> pd.DataFrame:
        """Imports by calendar year: year, replication, importer, origin, product, tonnes."""
        imports = self.imports
        frame = imports.assign(year=imports["month"].dt.year)
        keys = ["year", "replication", "importer", "origin", "product"]
        return frame.groupby(keys, sort=False, observed=True)["tonnes"].sum().reset_index()

    def import_band(self) -> pd.DataFrame:
        """Per importer, origin and month: mean, p5 and p95 over replications of tonnes
        imported (both products)."""
        return band_frame(band_arrays(self.arrays.imports.dense()), self.months, self.axes)

    def monthly(
        self, importer: str, origin: str | None = None, product: str = "all"
    ) -> pd.DataFrame:
        """Tonnes an importer counts each month (from ``origin``; None: every origin; product
        "all": both): replications x months, ``YYYY-MM`` columns."""
        cube = self.arrays.imports.part(self.axes.importers.index(importer))
        if origin is not None:
            cube = (
                cube[:, [self.axes.origins.index(origin)]]
                if origin in self.axes.origins
                else (np.zeros_like(cube[:, :1]))
            )
        if product != "all":
            cube = cube[:, :, [PRODUCTS.index(product)]]
        return self._by_month(cube.sum(axis=(1, 2)))

    def quad_monthly(
        self, origin: str | None = None, destination: str | None = None
    ) -> pd.DataFrame:
        """Tonnes entering the Quad each month, each tonne once at its first Quad border (from
        ``origin``, bound for ``destination``; None: all): replications x months."""
        quad = self.arrays.quad.dense()
        if destination is not None:
            d = self.axes.destinations
            quad = quad[:, [d.index(destination)]] if destination in d else quad[:, :0]
        if origin is not None:
            o = self.axes.origins
            quad = quad[:, :, [o.index(origin)]] if origin in o else quad[:, :, :0]
        return self._by_month(quad.sum(axis=(1, 2)))

    def _by_month(self, values: np.ndarray) -> pd.DataFrame:
        index = pd.RangeIndex(self.replications, name="replication")
        columns = pd.Index(self.axes.months, name="month")
        return pd.DataFrame(values.reshape(self.replications, -1), index=index, columns=columns)

    def __repr__(self) -> str:
        s = self.scenario
        months = self.axes.months
        where = f", files in {self.folder}" if self.folder is not None else ""
        return (
            f"<Result {s.name}: {self.replications} replication(s), seed {self.seed}, "
            f"{months[0]} to {months[-1]}, {self.wall_seconds:.2f} s{where}>"
        )

    def _repr_html_(self) -> str:
        """A notebook's view: what was run, then mean annual imports by importer and origin."""
        stats = self.kpi_stats()["mean"]
        years = sorted({int(k.rsplit(".", 1)[1]) for k in stats.index if k.startswith("imports.")})
        rows = []
        for importer in self.axes.importers:
            for origin in [*self.axes.origins, "all"]:
                values = [stats.get(f"imports.{importer}.{origin}.all.{y}", np.nan) for y in years]
                if any(v > 0 for v in values):
                    cells = "".join(f"<td>{v:,.0f}</td>" for v in values)
                    rows.append(f"<tr><th>{html.escape(importer)} from {origin}</th>{cells}</tr>")
        head = "".join(f"<th>{y}</th>" for y in years)
        title = html.escape(repr(self))
        return (
            f"<div><p><b>{title}</b></p><table><caption>Imports, t a year (mean over "
            f"replications)</caption><tr><th></th>{head}</tr>{''.join(rows)}</table></div>"
        )

    def save(self, folder: str | Path) -> Path:
        """Write the files ``sim run`` writes (CSV tables, kpis.json, manifest.json; no plot)
        into ``folder``, replacing it whole: a crash leaves the previous folder or the new one."""
        from sim.results.files import save

        return save(self, Path(folder))


class Collector:
    """Preallocated arrays that a run's tallies are written into as they finish (any order).

    Imports, the Quad series and the KPIs are always kept; flows, timeline and events only with
    ``keep_tables`` (a run streamed to files writes them there instead).
    """

    def __init__(self, scenario: spec.Scenario, seed: int, count: int, keep_tables: bool = True):
        self.scenario, self.seed, self.count = scenario, seed, count
        clock = Clock(scenario.start, scenario.end)
        axes = Axes.of(scenario, clock)
        n_m, n_o = len(axes.months), len(axes.origins)
        self.simpy_events = np.zeros(count, dtype=np.int64)
        self.kpis: dict[str, np.ndarray] = {}
        self.outcomes = OutcomeTable(count)
        self.arrays = RunArrays(
            imports=SparseCube(count, (len(axes.importers), n_o, len(PRODUCTS), n_m)),
            quad=SparseCube(count, (len(axes.destinations), n_o, n_m)),
        )
        if keep_tables:
            self.arrays.timeline = np.zeros((count, len(timeline_rows(axes)), n_m))
            self.arrays.flow_keys = [np.zeros((0, 4), dtype=np.int32)] * count
            self.arrays.flows = [np.zeros((0, 2, n_m))] * count
            self.arrays.events = [[] for _ in range(count)]

    def add(self, t: Tally) -> None:
        """Take one replication's tally into the preallocated arrays."""
        i = t.replication
        self.simpy_events[i] = t.simpy_events
        for name, value in t.kpis.items():
            column = self.kpis.get(name)
            if column is None:
                column = self.kpis[name] = np.full(self.count, np.nan)
            column[i] = value
        self.outcomes.put(i, t.outcomes)
        data = self.arrays
        data.imports.put(i, t.imports)
        data.quad.put(i, t.quad)
        if data.timeline is not None:
            data.timeline[i] = t.timeline
        if data.flow_keys is not None and data.flows is not None and data.events is not None:
            data.flow_keys[i] = t.flow_keys
            data.flows[i] = t.flows
            data.events[i] = t.events

    def result(self, wall_seconds: float = 0.0, folder: Path | None = None) -> Result:
        """The ``Result`` of the replications collected."""
        return Result(
            scenario=self.scenario,
            seed=self.seed,
            simpy_events=[int(n) for n in self.simpy_events],
            kpi_values=self.kpis,
            event_outcomes=self.outcomes,
            arrays=self.arrays,
            wall_seconds=wall_seconds,
            folder=folder,
        )
