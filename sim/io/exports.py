"""Exports for spreadsheet users: workbooks (``--xlsx``) and wide annual tables.

A workbook has one sheet per table, a bold frozen header row, columns wide enough to read,
thousands separators on tonnes and a first "about" sheet saying what each sheet holds. Sheet
names are cut to Excel's 31 characters. Written with openpyxl into a command's temporary
output folder, which every command writes atomically, so a reader never sees half a workbook.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd

from sim.results.kpis import quad_destinations
from sim.results.result import Result

MAX_WIDTH = 60
"""Widest column, in characters."""


def write_workbook(
    path: Path, sheets: dict[str, pd.DataFrame], about: dict[str, str], title: str
) -> None:
    """One sheet per table, after an "about" sheet (``about``: sheet name -> what it holds)."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font

    book = Workbook()
    first = book.active
    assert first is not None
    first.title = "about"
    first.append([title])
    first["A1"].font = Font(bold=True, size=13)
    first.append([])
    first.append(["sheet", "what it holds"])
    for cell in first[3]:
        cell.font = Font(bold=True)
    for name in sheets:
        first.append([_sheet_name(name), about.get(name, "")])
    first.column_dimensions["A"].width = 24
    first.column_dimensions["B"].width = 110
    for row in first.iter_rows(min_row=4):
        row[1].alignment = Alignment(wrap_text=True, vertical="top")
    for name, frame in sheets.items():
        _sheet(book, _sheet_name(name), frame)
    book.save(path)


def _sheet_name(name: str) -> str:
    cleaned = "".join("_" if c in "[]:*?/\\" else c for c in name)
    return cleaned[:31]


def _sheet(book: object, name: str, frame: pd.DataFrame) -> None:
    from openpyxl.styles import Font
    from openpyxl.utils import get_column_letter

    sheet = book.create_sheet(name)  # type: ignore[attr-defined]
    columns = [str(c) for c in frame.columns]
    sheet.append(columns)
    for cell in sheet[1]:
        cell.font = Font(bold=True)
    for row in frame.itertuples(index=False):
        sheet.append([_plain(v) for v in row])
    sheet.freeze_panes = "B2" if len(columns) > 1 else "A2"
    for k, column in enumerate(columns, start=1):
        values = frame.iloc[:, k - 1]
        numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
        width = max([len(column), *(len(_shown(v)) for v in values.head(200))]) + 2
        sheet.column_dimensions[get_column_letter(k)].width = min(MAX_WIDTH, width)
        if numeric:
            fmt = "#,##0" if _whole_scale(values) else "#,##0.000"
            for cell in sheet.iter_rows(min_row=2, min_col=k, max_col=k):
                cell[0].number_format = fmt


def _plain(value: object) -> object:
    """A value openpyxl writes: numpy scalars as Python ones, NaN as an empty cell."""
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    if value is None or isinstance(value, int | float | str | bool):
        return value
    return str(value)


def _shown(value: object) -> str:
    if isinstance(value, float):
        return f"{value:,.0f}" if abs(value) >= 100 else f"{value:.3f}"
    return str(value)


def _whole_scale(values: pd.Series) -> bool:
    """Tonnes and counts read best without decimals; shares and indices need them."""
    finite = values[np.isfinite(values.astype(float))]
    return bool(len(finite)) and float(finite.abs().median()) >= 100


# --- wide annual tables ------------------------------------------------------------------------


def annual_wide(result: Result) -> pd.DataFrame:
    """A run's annual imports with years as columns: one row per series and statistic (mean,
    p5, p95 over replications), for a spreadsheet. Series: every importer from every origin
    and all origins by product, the Quad counted once and where its tonnes are bound."""
    summary = result.kpi_stats()
    rows = []
    names = {iid: i.name for iid, i in result.scenario.importers.items()}
    names["quad"] = "Quad"
    for key in summary.index:
        parts = str(key).split(".")
        if parts[0] == "imports" and len(parts) == 5:
            _, importer, origin, product, year = parts
            label = f"{names.get(importer, importer)} {_from(origin)}"
            if importer == "quad":
                label += " (each tonne once)"
            rows.append(("imports", importer, origin, product, label, year, summary.loc[key]))
        elif parts[0] == "quad_bound" and len(parts) == 4:
            _, destination, origin, year = parts
            label = f"Quad {_from(origin)}, bound for {names.get(destination, destination)}"
            rows.append(("quad_bound", destination, origin, "all", label, year, summary.loc[key]))
    if not rows:
        return pd.DataFrame(columns=["series", "importer", "origin", "product", "statistic"])
    long = pd.DataFrame(
        [
            (kpi, imp, org, prod, label, year, stat, float(values[stat]))
            for kpi, imp, org, prod, label, year, values in rows
            for stat in ("mean", "p5", "p95")
        ],
        columns=["kpi", "importer", "origin", "product", "series", "year", "statistic", "t"],
    )
    wide = long.pivot_table(
        index=["kpi", "series", "importer", "origin", "product", "statistic"],
        columns="year",
        values="t",
        sort=False,
    ).reset_index()
    wide.columns.name = None
    wide = wide.drop(columns="kpi")
    wide.insert(len(wide.columns) - len(_years(wide)), "unit", "t")
    return wide


def _from(origin: str) -> str:
    return "from all origins" if origin == "all" else f"from {origin.replace('_', ' ').title()}"


def _years(frame: pd.DataFrame) -> list[str]:
    return [c for c in frame.columns if str(c).isdigit()]


def run_sheets(result: Result) -> tuple[dict[str, pd.DataFrame], dict[str, str]]:
    """The tables of ``sim run --xlsx``: annual (wide), KPIs, monthly imports (wide, mean over
    replications), events and outcomes."""
    monthly = (
        result.imports.groupby(["importer", "origin", "product", "month"], sort=False)["tonnes"]
        .mean()
        .unstack("month")
        .reset_index()
    )
    monthly.columns.name = None
    kpis = result.kpi_stats().reset_index().rename(columns={"name": "kpi"})
    sheets = {
        "annual": annual_wide(result),
        "kpis": kpis,
        "monthly imports": monthly,
        "events": result.events,
        "outcomes": result.outcomes,
    }
    dests = ", ".join(quad_destinations(result.scenario)) or "none"
    about = {
        "annual": "Annual imports (t) by importer, origin and product, years as columns; mean, "
        "5th and 95th percentile over replications (statistic). The Quad counts each tonne "
        f"once, at its first Quad border; quad_bound rows say where it is bound ({dests}).",
        "kpis": "Every KPI of kpis.json: mean, 5th and 95th percentile over replications.",
        "monthly imports": "Tonnes per month (mean over replications) by importer, origin and "
        "product; months as columns.",
        "events": "Every dated event of every replication.",
        "outcomes": "Each random event's discrete outcome per replication (happens; captured).",
    }
    return sheets, about


def write_run_extras(result: Result, folder: Path, xlsx: bool = False) -> None:
    """Beside a run's tables: ``annual.csv`` (years as columns), ``outcomes.csv`` (each random
    event's discrete outcome per replication) and, with ``xlsx``, ``results.xlsx``."""
    annual_wide(result).to_csv(folder / "annual.csv", index=False, float_format="%.3f")
    result.outcomes.to_csv(folder / "outcomes.csv", index=False)
    if xlsx:
        sheets, about = run_sheets(result)
        title = (
            f"sim run: {result.scenario.name}, seed {result.seed}, "
            f"{result.replications} replication(s)"
        )
        write_workbook(folder / "results.xlsx", sheets, about, title)
