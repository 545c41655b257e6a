"""Beyond one machine: run, compare and calibrate on a real Dask cluster give the local results."""

from __future__ import annotations

from pathlib import Path

import pytest

from sim.cli import main
from sim.results import cluster
from tests.sweep_files import write_spec

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
RUN_FILES = [
    "imports.csv",
    "imports_by_scope.csv",
    "flows.csv",
    "timeline.csv",
    "events.csv",
    "kpis.json",
    "annual.csv",
]


def same_files(a: Path, b: Path, names: list[str]) -> None:
    for name in names:
        assert (a / name).read_bytes() == (b / name).read_bytes(), name


def test_run_on_a_cluster_writes_the_local_files(dask_cluster: str, tmp_path: Path) -> None:
    args = ["run", str(SCENARIOS / "kia_offensive.yaml"), "--replications", "9", "--seed", "3"]
    args += ["--no-plot"]
    assert main([*args, "--out", str(tmp_path / "here")]) == 0
    assert main([*args, "--out", str(tmp_path / "pool"), "--workers", "2"]) == 0
    assert main([*args, "--out", str(tmp_path / "dask"), "--scheduler", dask_cluster]) == 0
    same_files(tmp_path / "here", tmp_path / "pool", RUN_FILES)
    same_files(tmp_path / "here", tmp_path / "dask", RUN_FILES)


def test_compare_on_a_cluster_gives_the_local_tables(dask_cluster: str, tmp_path: Path) -> None:
    files = [str(SCENARIOS / f"{name}.yaml") for name in ("baseline", "kia_offensive")]
    args = ["compare", *files, "--replications", "4", "--seed", "2"]
    assert main([*args, "--out", str(tmp_path / "here")]) == 0
    assert main([*args, "--out", str(tmp_path / "dask"), "--scheduler", dask_cluster]) == 0
    same_files(tmp_path / "here", tmp_path / "dask", ["compare_kpis.csv"])


def test_calibrate_on_a_cluster_gives_the_local_report(dask_cluster: str, tmp_path: Path) -> None:
    args = ["calibrate", str(SCENARIOS / "historical.yaml"), "--check", "--seeds", "3"]
    args += ["--targets", str(SCENARIOS / "targets" / "reported_2024.yaml")]
    here = main([*args, "--out", str(tmp_path / "here")])
    there = main([*args, "--out", str(tmp_path / "dask"), "--scheduler", dask_cluster])
    assert here == there == 0
    same_files(tmp_path / "here", tmp_path / "dask", ["report.csv"])


@pytest.mark.parametrize("command", ["run", "compare", "sweep"])
def test_an_unreachable_scheduler_is_bad_input(
    command: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    # Nothing listens on port 9: the wait is the whole test, so it is shortened from 20 s.
    monkeypatch.setattr(cluster, "CONNECT_SECONDS", 2.0)
    if command == "sweep":
        args = [command, str(write_spec(tmp_path, samples=2))]
    else:
        args = [command, str(SCENARIOS / "baseline.yaml"), "--replications", "1"]
    args += ["--out", str(tmp_path / "out"), "--scheduler", "tcp://127.0.0.1:9"]
    assert main(args) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1
    assert "cannot reach the Dask scheduler at tcp://127.0.0.1:9" in err[0]
    assert not (tmp_path / "out").exists()


def test_workers_and_a_scheduler_are_one_or_the_other(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = ["run", str(SCENARIOS / "baseline.yaml"), "--workers", "2"]
    args += ["--scheduler", "tcp://127.0.0.1:9", "--out", str(tmp_path / "out")]
    assert main(args) == 2
    assert "give one or the other" in capsys.readouterr().err
