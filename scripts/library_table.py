"""Print the scenario library's KPI table (docs/scenario_library.md, "Results") as Markdown.

    sim compare scenarios/baseline.yaml scenarios/kia_offensive.yaml \
      scenarios/china_ultimatum.yaml scenarios/shan_uwsa_expansion.yaml \
      scenarios/us_india_corridor.yaml scenarios/junta_peace_deal.yaml \
      scenarios/resource_tax_shock.yaml --replications 20 --out results/library
    python scripts/library_table.py results/library/compare_kpis.csv

Reads only the comparison's compare_kpis.csv: the table is what the tool measured, nothing else.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pandas as pd


def _one(kpis: pd.DataFrame, name: str, kpi: str, **where: str) -> pd.Series:
    rows = kpis[(kpis.scenario == name) & (kpis.kpi == kpi)]
    for column, value in where.items():
        rows = rows[rows[column].astype(str) == value]
    return rows.iloc[0] if len(rows) else pd.Series({"mean": float("nan"), "p5": 0, "p95": 0})


def table(kpis: pd.DataFrame) -> str:
    """One row per scenario: China's imports from Myanmar and the shortfall over the horizon,
    recovery, the Quad's plants (delivered and separated), China's heavy-RE dependence in the
    last year, peak stockpile and losses (means over replications, 5-95% where it matters)."""
    years = sorted(y for y in kpis.year.astype(str).unique() if y.isdigit())
    last = years[-1]
    heads = [
        "scenario",
        f"China from Myanmar {years[0]}-{last} (t)",
        "shortfall (5-95%)",
        "back to 90%",
        "Quad delivered (t)",
        "Quad separated (t)",
        f"heavy-RE dependence {last}",
        "peak stockpile (t)",
        "lost (t)",
    ]
    lines = ["| " + " | ".join(heads) + " |", "|" + "---|" + "---:|" * (len(heads) - 1)]
    for name in dict.fromkeys(kpis.scenario):
        imports = kpis[
            (kpis.scenario == name)
            & (kpis.kpi == "imports")
            & (kpis.importer == "china")
            & (kpis.origin == "myanmar")
            & (kpis["product"] == "all")
        ]["mean"].sum()
        short = _one(kpis, name, "shortfall_pct", year="all", product="all")
        recover = _one(kpis, name, "months_to_recover_90")
        back = "never" if recover.get("note") == "never" else f"{recover['mean']:.0f} months"
        cells = [
            name,
            f"{imports:,.0f}",
            f"{short['mean']:.0f}% ({short['p5']:.0f} to {short['p95']:.0f}%)",
            back,
            f"{_one(kpis, name, 'quad_delivered_t')['mean']:,.0f}",
            f"{_one(kpis, name, 'quad_processed_t')['mean']:,.0f}",
            f"{_one(kpis, name, 'heavy_dependence', year=last)['mean']:.2f}",
            f"{_one(kpis, name, 'peak_stockpile_t')['mean']:,.0f}",
            f"{_one(kpis, name, 'lost_t')['mean']:,.0f}",
        ]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


if __name__ == "__main__":
    print(table(pd.read_csv(Path(sys.argv[1]), keep_default_na=False, na_values=[""])))
