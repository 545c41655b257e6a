"""Write docs/examples/quickstart.ipynb from the cells below, unexecuted.

The tests execute it (tests/test_notebook.py); to refresh its outputs for readers run
``python docs/examples/make_quickstart.py --execute``.
"""

from __future__ import annotations

import sys
from pathlib import Path

import nbformat
from nbformat.v4 import new_code_cell, new_markdown_cell, new_notebook

HERE = Path(__file__).resolve().parent
NOTEBOOK = HERE / "quickstart.ipynb"

CELLS = [
    (
        "md",
        """# sim from Python: load, override, run, compare, sweep, plot

Every command of `sim` is a Python function of plain arguments that returns objects with
DataFrames and paths. This notebook runs a few replications of short horizons, so it finishes
in about a minute; raise `replications` (and drop the `end` override) for real work.""",
    ),
    (
        "code",
        """import tempfile
from pathlib import Path

import matplotlib.pyplot as plt

import sim

# the project's folder: the notebook lives in docs/examples/
ROOT = next(p for p in [Path.cwd(), *Path.cwd().parents] if (p / "scenarios").is_dir())
SCENARIOS = ROOT / "scenarios"
OUT = Path(tempfile.mkdtemp(prefix="sim-notebook-"))  # where this notebook writes""",
    ),
    (
        "md",
        """## Load a scenario

A scenario file is read, its `extends:` resolved and validated into a frozen `Scenario`;
`sim.show` lists what it defines.""",
    ),
    (
        "code",
        """baseline = sim.load_scenario(SCENARIOS / "baseline.yaml")
print(baseline.title or baseline.name, baseline.start, "..", baseline.end)
sim.show(SCENARIOS / "kia_offensive.yaml")["events"]""",
    ),
    (
        "md",
        """## Override any parameter by its dotted path

The same paths work in files (`set:`), on the command line (`--set`), in sweeps and here.
Every override is validated like a file.""",
    ),
    (
        "code",
        """short = {"end": "2026-12-31"}
status_quo = sim.load_scenario(SCENARIOS / "baseline.yaml", overrides=short)
offensive = sim.load_scenario(
    SCENARIOS / "kia_offensive.yaml",
    overrides={**short, "events.kia_bhamo_offensive.capture_probability": 0.9},
)
offensive.events["kia_bhamo_offensive"].capture_probability""",
    ),
    (
        "md",
        """## Run

`sim.run` returns a `Result`: long tables (`month` is a monthly period), tidy KPIs, annual
figures. Nothing is written unless `out=` is given.""",
    ),
    (
        "code",
        """result = sim.run(offensive, replications=3, seed=1)
result""",
    ),
    ("code", """result.annual().head()"""),
    (
        "code",
        """stats = result.kpi_summary()
summary = stats.pivot_table(index="name", columns="statistic", values="value")
summary.loc[["mined_t", "lost_t", "peak_stockpile_t", "quad_delivered_t"]].round()  # tonnes""",
    ),
    (
        "md",
        """## Compare against a baseline

Scenarios run paired: the same seed and replication indices, so differences are the
scenarios', not the noise's. With `out=` the figures, tables and an HTML report are written.""",
    ),
    (
        "code",
        """scenarios = [status_quo, offensive]  # files work too; the first is the reference
comparison = sim.compare(scenarios, replications=3, seed=1, out=OUT / "compare")
print(comparison.folder)
comparison.kpis.head()""",
    ),
    (
        "md",
        """## Plot

China's monthly imports from Myanmar in both scenarios, the mean over replications.""",
    ),
    (
        "code",
        """fig, ax = plt.subplots(figsize=(8, 3.5))
for run in comparison.results:
    imports = run.imports.query("importer == 'china' and origin == 'myanmar'")
    monthly = imports.groupby(["month", "replication"])["tonnes"].sum().groupby("month").mean()
    monthly.plot(ax=ax, label=run.scenario.title or run.scenario.name)
ax.set_ylim(bottom=0)
ax.set_ylabel("tonnes per month")
ax.set_title("China's imports from Myanmar (mean of 3 replications)")
ax.legend();""",
    ),
    (
        "md",
        """## Sweep a parameter

A sweep file names the base scenario, the parameters (dotted paths) and a design; the runs,
their KPIs and an analysis are written to a folder.""",
    ),
    (
        "code",
        """spec = OUT / "capture.yaml"
spec.write_text(f\"\"\"
name: capture_chance
base: {SCENARIOS / "kia_offensive.yaml"}
set:
  end: 2026-12-31
parameters:
  events.kia_bhamo_offensive.capture_probability: [0.2, 0.6, 1.0]
method: grid
replications: 2
seed: 1
\"\"\")
sweep = sim.sweep(spec, out=OUT / "sweep", progress=False)
print(sweep.ran, "runs;", sweep.failed, "failed")
sweep.samples""",
    ),
    (
        "code",
        """mined = sweep.kpis.query("kpi == 'mined_t'").groupby("sample")["value"].mean()
ax = sweep.samples.join(mined).plot.scatter(
    x="events.kia_bhamo_offensive.capture_probability", y="value", figsize=(5, 3)
)
ax.set_xlabel("chance the KIA captures the sites")
ax.set_ylabel("tonnes mined, 2025-2026")
ax.set_title("Mining by the chance of capture (mean of 2 replications)");""",
    ),
    (
        "md",
        """Calibration is one call too (not run here: it fits parameters for minutes):

```python
report = sim.calibrate(
    "scenarios/historical.yaml", "scenarios/targets/reported_2024.yaml", check=True, out=None
)
report.passed
```""",
    ),
]


def build() -> nbformat.NotebookNode:
    """The notebook, unexecuted."""
    cells = [
        new_markdown_cell(text) if kind == "md" else new_code_cell(text) for kind, text in CELLS
    ]
    notebook = new_notebook(cells=cells)
    notebook.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    return notebook


def execute(notebook: nbformat.NotebookNode, timeout: int = 600) -> nbformat.NotebookNode:
    """Run every cell in a fresh kernel, from this folder."""
    from nbclient import NotebookClient

    NotebookClient(notebook, timeout=timeout, resources={"metadata": {"path": str(HERE)}}).execute()
    return notebook


if __name__ == "__main__":
    nb = build()
    if "--execute" in sys.argv:
        execute(nb)
    nbformat.write(nb, NOTEBOOK)
    print(f"wrote {NOTEBOOK}")
