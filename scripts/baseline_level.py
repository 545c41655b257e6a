"""The forward baseline's level, and what sets it (docs/scenario_library.md, "The baseline's
level"): China's imports from Myanmar per year 2026-2030 (median and 5-95% over replications),
the months around the reopening of 2025-10-24 (imports, the belt's mining, stock on sites),
the history's years set against the reported figures they are read with, and the level when
one thing that sets it changes.

    python scripts/baseline_level.py [replications]     # Markdown, about a minute (20: default)

Every number is what the tool measured on scenarios/baseline.yaml (reported from 2025-07 for
the months, from 2026 for the years) and scenarios/history.yaml; the reported figures are the
rows of ../shared/data/reported_2018_2024.csv named beside them.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd
import yaml

import sim

SCENARIOS = Path(__file__).resolve().parent.parent / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"


def belt(name: str) -> float:
    """The belt's capacity_tpm (both products, t/month) a calibration file sets."""
    fitted = yaml.safe_load((SCENARIOS / name).read_text())["set"]
    return sum(fitted[f"sites.chipwe_pangwa.capacity_tpm.{p}"] for p in ("mhree", "lree"))


VARIANTS = {
    "as bundled (35,000 CNY/t from 2025-03-27)": {},
    "the 20% resource tax instead (E 2024-12-01)": {
        "events.kia_stockpile_tax_2025.levy_cny_per_t": 0,
        "events.kia_stockpile_tax_2025.levy_share": 0.2,
    },
    "no rise: the BGF's 1,000 USD/t (world file)": {
        "events.kia_stockpile_tax_2025.levy_cny_per_t": 7200,
    },
    "full margin 9,000 USD/t": {"supply_response.full_margin_usd_per_t": 9000},
    "full margin 15,000 USD/t": {"supply_response.full_margin_usd_per_t": 15000},
    "elasticity 0.5": {"supply_response.elasticity": 0.5},
    "elasticity 1.5": {"supply_response.elasticity": 1.5},
    "belt of world/calibrated.yaml (4,240 t/month from June 2024)": {
        "sites.chipwe_pangwa.capacity_path.6.factor": round(
            belt("world/calibrated.yaml") / belt("history/fitted.yaml"), 4
        ),
    },
}
"""The level when one thing changes: the KIA's tax as the record's two rows read it, the
unsourced margin model at the ends of its swept range, the other calibration's belt."""


def china_from_myanmar(result: sim.Result) -> pd.DataFrame:
    """Tonnes China imports from Myanmar: months x replications."""
    imports = result.imports
    rows = imports[(imports.importer == "china") & (imports.origin == "myanmar")]
    return rows.groupby(["month", "replication"])["tonnes"].sum().unstack()


def annual(table: pd.DataFrame) -> pd.DataFrame:
    """Per year: median and 5-95% over replications of the yearly totals."""
    years = table.groupby(pd.PeriodIndex(table.index, freq="M").year).sum()
    return pd.DataFrame(
        {
            "median": years.median(axis=1),
            "p5": years.quantile(0.05, axis=1),
            "p95": years.quantile(0.95, axis=1),
        }
    )


def annual_table(replications: int) -> str:
    """The baseline's years, 2026-2030."""
    result = sim.run(BASELINE, replications=replications, plot=False)
    rows = ["| year | median (t) | 5-95% (t) |", "|---|---:|---:|"]
    for year, row in annual(china_from_myanmar(result)).iterrows():
        rows.append(f"| {year} | {row['median']:,.0f} | {row.p5:,.0f} to {row.p95:,.0f} |")
    return "\n".join(rows)


def monthly_table(replications: int) -> str:
    """Mean over replications, month by month, 2025-07 to 2027-12."""
    result = sim.run(
        BASELINE, overrides={"start": "2025-07-01"}, replications=replications, plot=False
    )
    imports = china_from_myanmar(result).mean(axis=1)
    t = result.timeline
    by = t.groupby(["measure", "entity", "month"])["tonnes"].sum() / replications
    mined = by["mined"]["chipwe_pangwa"]
    stock = t[t.measure == "stockpile"].groupby("month")["tonnes"].sum() / replications
    rows = [
        "| month | China from Myanmar (t) | belt mined (t) | largest stock on sites (t) |",
        "|---|---:|---:|---:|",
    ]
    for month in imports.loc["2025-07":"2027-12"].index:
        rows.append(
            f"| {month} | {imports[month]:,.0f} | {mined.get(month, 0.0):,.0f} "
            f"| {stock.get(month, 0.0):,.0f} |"
        )
    return "\n".join(rows)


def history_table() -> str:
    """The history's 2023 and 2024 (one replication: its events are certain)."""
    overrides = {"start": "2023-01-01", "run_from": "2018-01-01"}
    result = sim.run(SCENARIOS / "history.yaml", overrides=overrides, plot=False)
    month = china_from_myanmar(result)[0]
    spans = {
        "2023": ("2023-01", "2023-12", "~72,000 (R26 41,700 t oxides + 69% of R28, ~30,300 t)"),
        "2024 January-September": ("2024-01", "2024-09", "39,537 (R37 31,000 + R38 8,537)"),
        "2024": ("2024-01", "2024-12", "44,000 (seed 003)"),
    }
    rows = ["| period | model (t) | reported (t) |", "|---|---:|---|"]
    for name, (a, b, reported) in spans.items():
        rows.append(f"| {name} | {month.loc[a:b].sum():,.0f} | {reported} |")
    return "\n".join(rows)


def variants_table(replications: int) -> str:
    """The baseline's mean year 2026-2030 under each variant, and its change."""
    rows = ["| the baseline with | China from Myanmar a year, 2026-2030 (t) | change |"]
    rows.append("|---|---:|---:|")
    first = None
    for name, overrides in VARIANTS.items():
        result = sim.run(BASELINE, overrides=overrides, replications=replications, plot=False)
        level = float(china_from_myanmar(result).sum().mean() / 5)
        first = level if first is None else first
        rows.append(f"| {name} | {level:,.0f} | {100 * (level / first - 1):+.1f}% |")
    return "\n".join(rows)


def main(replications: int) -> str:
    return "\n\n".join(
        [
            annual_table(replications),
            monthly_table(replications),
            history_table(),
            variants_table(max(2, replications // 4)),
        ]
    )


if __name__ == "__main__":
    print(main(int(sys.argv[1]) if len(sys.argv) > 1 else 20))
