"""The example notebook (docs/examples/quickstart.ipynb) runs from top to bottom on the current
code: load, override, run, compare, sweep and plot, each one call from Python."""

from __future__ import annotations

import importlib.util
import os
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import nbformat
import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "docs" / "examples"


def builder() -> ModuleType:
    spec = importlib.util.spec_from_file_location(
        "make_quickstart", EXAMPLES / "make_quickstart.py"
    )
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def sources(notebook: nbformat.NotebookNode) -> list[tuple[str, str]]:
    return [(cell.cell_type, cell.source) for cell in notebook.cells]


def test_the_committed_notebook_is_the_one_the_builder_writes() -> None:
    committed = nbformat.read(EXAMPLES / "quickstart.ipynb", as_version=4)
    assert sources(committed) == sources(builder().build()), (
        "run `python docs/examples/make_quickstart.py --execute` and commit the notebook"
    )
    assert all(
        cell.execution_count is not None for cell in committed.cells if cell.cell_type == "code"
    ), "the committed notebook is shown executed: run the builder with --execute"


def test_the_notebook_runs_top_to_bottom(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # jupyter_core's own migration warning
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    make = builder()
    notebook = make.execute(make.build(), timeout=600)
    outputs = [o for cell in notebook.cells if cell.cell_type == "code" for o in cell.outputs]
    assert not [o for o in outputs if o.output_type == "error"]
    html = [o for o in outputs if "text/html" in o.get("data", {})]
    images = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(images) == 2  # the imports of both scenarios, the sweep's KPI by parameter
    assert any("kia_offensive" in o["data"]["text/html"] for o in html)  # the Result's own HTML


def test_making_figures_leaves_pyplot_alone(tmp_path: Path) -> None:
    """Figures of sim belong to no pyplot backend: a notebook's backend is kept, and no figure
    is left open in pyplot after a run writes its figure."""
    code = (
        "import matplotlib.pyplot as plt, sim\n"
        "r = sim.run('scenarios/baseline.yaml', overrides={'end': '2026-03-31'}, "
        f"out={str(tmp_path / 'run')!r})\n"
        "import sim.compare.plots, sim.sweep.analysis, sim.calibrate.figures\n"
        "import matplotlib\n"
        "print(matplotlib.get_backend(), len(plt.get_fignums()))\n"
    )
    root = EXAMPLES.parents[1]
    env = {**os.environ, "MPLBACKEND": "svg"}
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == ["svg", "0"]
    assert (tmp_path / "run" / "imports.png").stat().st_size > 10_000
