"""Outputs go where the user chose and nowhere else (docs/errors.md, "Paths").

A scenario's or a sweep's name becomes a folder name under ``results/``, so a name that would
leave that folder (``../x``, ``a/b``, an absolute path) is refused before anything is written.
``--out`` is the user's own choice, so ``--out ../x`` writes exactly ``../x``: nothing beside it,
nothing in the working folder. An existing results folder is kept: the new one goes beside it.
"""

from __future__ import annotations

import shutil
from pathlib import Path
from typing import Any

import matplotlib.pyplot as plt
import pytest
import yaml

from sim.cli import main
from tests.sweep_files import tiny

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BAD_NAMES = ["../evil", "a/b", "/tmp/evil", "..", ".hidden", "a\\..\\b"]


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working folder inside tmp_path, the current folder during the test."""
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def everything(root: Path) -> set[Path]:
    return {p.relative_to(root) for p in root.rglob("*")}


def written(root: Path, before: set[Path]) -> set[Path]:
    """The top-level entries of what appeared under root since ``before``."""
    return {Path(p.parts[0]) for p in everything(root) - before}


def scenario(folder: Path, name: str) -> Path:
    """A one-year variant of the status quo called ``name``, in ``folder``."""
    file = folder / f"scenario_{len(list(folder.glob('scenario_*.yaml')))}.yaml"
    text = {"extends": str(SCENARIOS / "baseline.yaml"), "name": name, "end": "2026-12-31"}
    file.write_text(yaml.safe_dump(text))
    return file


def sweep_file(folder: Path, **changes: Any) -> Path:
    data = {**tiny("ci_smoke"), **changes}
    file = folder / "sweep.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    return file


@pytest.fixture
def no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Sweep figures built but not rasterised: where files go is the question here."""

    def save(fig: Any, path: str) -> None:
        Path(path).write_bytes(b"")
        plt.close(fig)

    monkeypatch.setattr("sim.io.plots.save", save)


# --- run ---------------------------------------------------------------------------------------


def test_run_writes_exactly_the_out_folder_even_outside_the_working_folder(
    work: Path, tmp_path: Path
) -> None:
    file = scenario(tmp_path, "short")
    before = everything(tmp_path)
    args = ["run", str(file), "--replications", "1", "--no-plot"]
    assert main([*args, "--out", "../chosen"]) == 0
    assert written(tmp_path, before) == {Path("chosen")}
    assert (tmp_path / "chosen" / "manifest.json").is_file()
    assert main([*args, "--out", "../chosen"]) == 0  # kept: the next goes beside it
    assert written(tmp_path, before) == {Path("chosen"), Path("chosen-2")}


@pytest.mark.parametrize("name", BAD_NAMES)
def test_run_and_compare_refuse_names_that_would_leave_the_results_folder(
    name: str, work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = scenario(tmp_path, name)
    before = everything(tmp_path)
    assert main(["run", str(file), "--replications", "1", "--no-plot"]) == 2
    assert ": name: " in capsys.readouterr().err
    other = scenario(tmp_path, "fine")
    assert main(["compare", str(other), str(file), "--replications", "1"]) == 2
    assert ": name: " in capsys.readouterr().err
    assert written(tmp_path, before) == {Path(other.name)}, "nothing but the input was written"


# --- compare -----------------------------------------------------------------------------------


def test_compare_writes_beside_an_existing_folder_outside_the_working_folder(
    work: Path, tmp_path: Path
) -> None:
    files = [str(scenario(tmp_path, n)) for n in ("first", "second")]
    (tmp_path / "cmp").mkdir()
    (tmp_path / "cmp" / "mine.txt").write_text("earlier results")
    before = everything(tmp_path)
    assert main(["compare", *files, "--replications", "1", "--out", "../cmp"]) == 0
    assert written(tmp_path, before) == {Path("cmp-2")}
    assert (tmp_path / "cmp-2" / "report.html").is_file()
    assert (tmp_path / "cmp" / "mine.txt").read_text() == "earlier results"


# --- sweep -------------------------------------------------------------------------------------


@pytest.mark.parametrize("name", BAD_NAMES)
def test_sweep_refuses_names_that_would_leave_the_results_folder(
    name: str, work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    file = sweep_file(tmp_path, name=name)
    before = everything(tmp_path)
    assert main(["sweep", str(file)]) == 2
    err = capsys.readouterr().err
    assert f"{file}:1: name: " in err
    assert len(err.strip().splitlines()) == 1
    assert written(tmp_path, before) == set()


def test_sweep_writes_under_results_sweeps_or_exactly_the_out_folder(
    work: Path, tmp_path: Path, no_rendering: None
) -> None:
    file = sweep_file(tmp_path)
    before = everything(tmp_path)
    assert main(["sweep", str(file)]) == 0
    assert main(["sweep", str(file)]) == 0
    assert {p.name for p in (work / "results" / "sweeps").iterdir()} == {"ci_smoke", "ci_smoke-2"}
    assert main(["sweep", str(file), "--out", "../elsewhere"]) == 0
    assert written(tmp_path, before) == {Path("work"), Path("elsewhere")}
    assert (tmp_path / "elsewhere" / "sweep.json").is_file()


def test_sweep_force_replaces_only_a_sweep_folder(
    work: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "precious").mkdir()
    (tmp_path / "precious" / "thesis.tex").write_text("years of work")
    file = sweep_file(tmp_path)
    assert main(["sweep", str(file), "--out", "../precious", "--force"]) == 2
    assert "is not a folder of sim sweep results; refusing to replace it" in capsys.readouterr().err
    assert (tmp_path / "precious" / "thesis.tex").read_text() == "years of work"


# --- calibrate ---------------------------------------------------------------------------------


@pytest.fixture
def calibration(tmp_path: Path) -> Path:
    """A copy of the bundled historical scenario, its world files and targets."""
    project = tmp_path / "project"
    shutil.copytree(SCENARIOS / "world", project / "world")
    shutil.copy(SCENARIOS / "historical.yaml", project)
    shutil.copy(SCENARIOS / "targets" / "reported_2024.yaml", project)
    return project


def calibrate(project: Path, *extra: str) -> int:
    return main(
        [
            "calibrate",
            str(project / "historical.yaml"),
            "--targets",
            str(project / "reported_2024.yaml"),
            "--params",
            str(project / "world" / "calibrated.yaml"),
            *extra,
        ]
    )


def test_calibrate_writes_its_report_exactly_where_asked(
    work: Path, tmp_path: Path, calibration: Path
) -> None:
    before = everything(tmp_path)
    assert calibrate(calibration, "--check", "--seeds", "1", "--out", "../report") == 0
    assert written(tmp_path, before) == {Path("report")}
    assert {p.name for p in (tmp_path / "report").iterdir()} == {
        "report.md",
        "report.csv",
        "backtest.png",
    }


def test_calibrate_refuses_to_replace_a_folder_that_is_not_a_report(
    work: Path, tmp_path: Path, calibration: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = everything(tmp_path)
    assert calibrate(calibration, "--check", "--seeds", "1", "--out", str(calibration)) == 2
    err = capsys.readouterr().err
    assert "<command line>: --out: " in err
    assert "is not a calibration report folder" in err
    assert everything(tmp_path) == before
