"""The long tables of a run, built vectorised from tallies' arrays, whole or a chunk at a time.

Every table is built by one function of a block of arrays, so that a ``Result`` in memory
builds it once from all replications, and the streaming writer builds the same rows (and so
the same CSV bytes) a block at a time without holding the run. Imports come month by month
(months x replications x importer x origin x product), the other tables replication by
replication.

``month`` is a pandas ``Period`` (monthly) in every DataFrame; ``csv_ready`` turns it back into
``YYYY-MM`` text for files.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from sim.model.clock import Clock
from sim.results.kpis import PRODUCTS, SCOPES, Axes, scope_shares
from sim.scenario import schema as spec

IMPORT_COLUMNS = ["month", "replication", "importer", "origin", "product", "tonnes"]
FLOW_COLUMNS = [
    "month",
    "replication",
    "importer",
    "origin",
    "product",
    "site",
    "group",
    "route",
    "crossing",
    "tonnes",
]
TIMELINE_COLUMNS = ["month", "replication", "measure", "entity", "tonnes"]
EVENT_COLUMNS = ["date", "replication", "kind", "subject", "detail"]
KPI_AXES = ["kpi", "importer", "origin", "product", "year"]
QUANTILES = {"p5": 0.05, "p95": 0.95}
"""The band shown around means: 5th and 95th percentiles over replications."""


def periods(axes: Axes) -> pd.PeriodIndex:
    """The run's months as a monthly PeriodIndex."""
    return pd.PeriodIndex(axes.months, freq="M")


def _months(ordinals: np.ndarray) -> pd.arrays.PeriodArray:
    """A column of monthly periods from their ordinals (built in numpy, not Period objects)."""
    return pd.arrays.PeriodArray(ordinals.astype(np.int64), dtype=pd.PeriodDtype("M"))


def _names(values: Sequence[str]) -> np.ndarray:
    return np.array(list(values), dtype=object)


def imports_block(
    cube: np.ndarray, replications: np.ndarray, months: pd.PeriodIndex, axes: Axes
) -> pd.DataFrame:
    """Import rows for a block of months: ``cube`` is (replication, importer, origin, product,
    month) over those months; rows go by month, replication, then importer, origin and
    product in alphabetical order."""
    importers, origins, products = (
        np.argsort(np.array(names), kind="stable")
        for names in (axes.importers, axes.origins, PRODUCTS)
    )
    cube = cube[:, importers][:, :, origins][:, :, :, products]
    n_r, n_i, n_o, n_p, n_m = cube.shape
    inner = n_i * n_o * n_p
    return pd.DataFrame(
        {
            "month": _months(np.repeat(months.asi8, n_r * inner)),
            "replication": np.tile(np.repeat(replications, inner), n_m),
            "importer": np.tile(np.repeat(_names(axes.importers)[importers], n_o * n_p), n_m * n_r),
            "origin": np.tile(np.repeat(_names(axes.origins)[origins], n_p), n_m * n_r * n_i),
            "product": np.tile(_names(PRODUCTS)[products], n_m * n_r * n_i * n_o),
            "tonnes": np.moveaxis(cube, 4, 0).ravel(),
        }
    )


def scoped_block(s: spec.Scenario, imports: pd.DataFrame, clock: Clock, axes: Axes) -> pd.DataFrame:
    """Import rows (whole, or a block of months) split by customs scope with the scenario's
    ``customs_scopes`` (each month's share by origin and product; summing over scopes gives
    the imports back): month, replication, importer, origin, product, scope, tonnes."""
    shares = scope_shares(s, clock, axes)  # origin, product, scope, month
    n_o, n_p, n_s, n_m = shares.shape
    table = pd.DataFrame(
        {
            "origin": np.repeat(_names(axes.origins), n_p * n_s * n_m),
            "product": np.tile(np.repeat(_names(PRODUCTS), n_s * n_m), n_o),
            "scope": np.tile(np.repeat(_names(SCOPES), n_m), n_o * n_p),
            "month": _months(np.tile(periods(axes).asi8, n_o * n_p * n_s)),
            "share": shares.ravel(),
        }
    )
    table = table[table["share"] > 0]
    frame = imports.merge(table, on=["origin", "product", "month"], how="inner")
    frame["tonnes"] = frame["tonnes"] * frame.pop("share")
    keys = ["month", "replication", "importer", "origin", "product", "scope"]
    order = {name: i for i, name in enumerate(SCOPES)}
    frame = frame.sort_values(keys, key=lambda c: c.map(order) if c.name == "scope" else c)
    return frame[[*keys, "tonnes"]].reset_index(drop=True)


def flows_block(
    replications: Sequence[int],
    keys: Sequence[np.ndarray],
    values: Sequence[np.ndarray],
    months: pd.PeriodIndex,
    axes: Axes,
) -> pd.DataFrame:
    """Flow rows of some replications: per replication, product, combination, month."""
    n_m = len(months)
    counts = np.array([len(k) for k in keys], dtype=int)
    if counts.sum() == 0:
        return pd.DataFrame({c: [] for c in FLOW_COLUMNS}).astype(
            {"month": pd.PeriodDtype("M"), "replication": int, "tonnes": float}
        )
    # one row per (replication, product, combination, month): combinations repeat per product
    combos = np.concatenate([np.tile(k, (2, 1)) for k in keys])
    product = np.concatenate([np.repeat(np.arange(2), len(k)) for k in keys])
    rep = np.repeat(np.asarray(replications), 2 * counts)
    tonnes = np.concatenate([np.moveaxis(v, 1, 0).reshape(-1, n_m) for v in values]).ravel()
    c, r, site, g = (combos[:, k] for k in range(4))
    return pd.DataFrame(
        {
            "month": _months(np.tile(months.asi8, len(combos))),
            "replication": np.repeat(rep, n_m),
            "importer": np.repeat(_names(axes.importers)[axes.crossing_importer[c]], n_m),
            "origin": np.repeat(_names(axes.origins)[axes.site_origin[site]], n_m),
            "product": np.repeat(_names(PRODUCTS)[product], n_m),
            "site": np.repeat(_names(axes.sites)[site], n_m),
            "group": np.repeat(_names(axes.groups)[g], n_m),
            "route": np.repeat(_names(axes.routes)[r], n_m),
            "crossing": np.repeat(_names(axes.crossings)[c], n_m),
            "tonnes": tonnes,
        }
    )


def timeline_block(
    stacked: np.ndarray,
    replications: np.ndarray,
    rows: list[tuple[str, str]],
    months: pd.PeriodIndex,
) -> pd.DataFrame:
    """Timeline rows of some replications: ``stacked`` is (replication, row, month)."""
    n_r, n_k, n_m = stacked.shape
    measure, entity = _names([m for m, _ in rows]), _names([e for _, e in rows])
    return pd.DataFrame(
        {
            "month": _months(np.tile(months.asi8, n_r * n_k)),
            "replication": np.repeat(replications, n_k * n_m),
            "measure": np.tile(np.repeat(measure, n_m), n_r),
            "entity": np.tile(np.repeat(entity, n_m), n_r),
            "tonnes": stacked.ravel(),
        }
    )


def events_block(
    replications: Sequence[int], events: Sequence[list[tuple[float, str, str, str]]], clock: Clock
) -> pd.DataFrame:
    """Event rows of some replications, each replication's in date order."""
    rows = [
        (clock.date(t).isoformat(), rep, kind, subject, detail)
        for rep, happened in zip(replications, events, strict=True)
        for t, kind, subject, detail in happened
    ]
    frame = pd.DataFrame(rows, columns=EVENT_COLUMNS)
    return frame.sort_values(["replication", "date"], kind="stable").reset_index(drop=True)


def kpi_axes(names: Sequence[str]) -> pd.DataFrame:
    """The dotted KPI names split into tidy columns: kpi, importer, origin, product, year.

    ``imports.<importer>.<origin>.<product>.<year>`` and ``months_below_half.<importer>.
    <origin>`` carry their axes; other KPIs (totals over the horizon) have none (missing).
    """
    rows: list[tuple[str, str | None, str | None, str | None, int | None]] = []
    for name in names:
        parts = name.split(".")
        if parts[0] == "imports" and len(parts) == 5 and parts[4].isdigit():
            rows.append(("imports", parts[1], parts[2], parts[3], int(parts[4])))
        elif parts[0] == "months_below_half" and len(parts) == 3:
            rows.append(("months_below_half", parts[1], parts[2], None, None))
        else:
            rows.append((name, None, None, None, None))
    frame = pd.DataFrame(rows, columns=KPI_AXES)
    frame["year"] = frame["year"].astype("Int64")
    return frame


def csv_ready(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame as files show it: months as ``YYYY-MM`` text."""
    if "month" in frame and isinstance(frame["month"].dtype, pd.PeriodDtype):
        ordinals = frame["month"].array.asi8
        distinct, inverse = np.unique(ordinals, return_inverse=True)
        labels = pd.PeriodIndex.from_ordinals(distinct, freq="M").strftime("%Y-%m")
        frame = frame.assign(month=np.asarray(labels, dtype=object)[inverse])
    return frame


def band_arrays(cube: np.ndarray) -> dict[str, np.ndarray]:
    """Mean and percentiles over replications of a (replication, importer, origin, product,
    month) cube's tonnes (both products): each (importer, origin, month). A block of months
    gives the same numbers as the whole, so streamed runs compute it block by block."""
    both = cube.sum(axis=3)
    stats = {"mean": both.mean(axis=0)}
    for label, q in QUANTILES.items():
        stats[label] = np.quantile(both, q, axis=0)
    return stats


def band_frame(stats: dict[str, np.ndarray], months: pd.PeriodIndex, axes: Axes) -> pd.DataFrame:
    """``band_arrays`` as a table: importer, origin, month, mean, p5, p95."""
    n_i, n_o, n_m = stats["mean"].shape
    columns: dict[str, Any] = {
        "importer": np.repeat(np.array(axes.importers, dtype=object), n_o * n_m),
        "origin": np.tile(np.repeat(np.array(axes.origins, dtype=object), n_m), n_i),
        "month": months[np.tile(np.arange(n_m), n_i * n_o)],
    }
    columns.update({label: value.ravel() for label, value in stats.items()})
    return pd.DataFrame(columns)
