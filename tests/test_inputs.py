"""Every file a command reads must be a regular file: a pipe, a device or a socket is refused
before it is opened (``open()`` on a named pipe waits for a writer forever).

Each case runs under a guard that turns a hang into a failure, so a regression fails the test
instead of stopping the suite. ``sim calibrate --check`` reads and writes nothing it is not
asked to.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path

import pytest
import yaml

from sim.cli import main
from sim.sweep.store import QUARANTINE
from tests.sweep_files import SPECS, hang_guard

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
TARGETS = SCENARIOS / "targets" / "reported_2024.yaml"


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    path = tmp_path / "pipe.yaml"
    os.mkfifo(path)
    return path


def refused(argv: list[str], capsys: pytest.CaptureFixture[str]) -> str:
    with hang_guard(30):
        code = main(argv)
    err = capsys.readouterr().err
    assert code == 2, err
    assert len(err.strip().splitlines()) >= 1
    assert "Traceback" not in err
    return err


def test_a_pipe_is_refused_as_a_scenario_for_every_command(
    fifo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = f"error: {fifo}: is a named pipe, not a regular file; give a file\n"
    for argv in (
        ["validate", str(fifo)],
        ["run", str(fifo), "--out", str(tmp_path / "out")],
        ["compare", str(SCENARIOS / "baseline.yaml"), str(fifo), "--out", str(tmp_path / "c")],
        ["calibrate", str(fifo), "--targets", str(TARGETS), "--check"],
        ["sweep", str(fifo), "--out", str(tmp_path / "s")],
    ):
        assert refused(argv, capsys) == expected, argv
    assert sorted(p.name for p in tmp_path.iterdir()) == ["pipe.yaml"]


def test_devices_and_sockets_are_refused_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert "is a character device, not a regular file" in refused(["validate", "/dev/null"], capsys)
    path = tmp_path / "socket.yaml"
    with socket.socket(socket.AF_UNIX) as server:
        server.bind(str(path))
        assert "is a socket, not a regular file" in refused(["validate", str(path)], capsys)


def test_a_pipe_named_inside_a_file_is_refused_where_it_is_named(
    fifo: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    child = tmp_path / "child.yaml"
    child.write_text(f"extends: {fifo.name}\nname: child\n")
    err = refused(["validate", str(child)], capsys)
    assert f"{child}:1: extends: extends {fifo}: is a named pipe" in err
    data = dict(SPECS["ci_smoke"], base=str(fifo))
    spec = tmp_path / "sweep.yaml"
    spec.write_text(yaml.safe_dump(data))
    err = refused(["sweep", str(spec), "--out", str(tmp_path / "s")], capsys)
    assert "is a named pipe, not a regular file" in err
    args = ["calibrate", str(SCENARIOS / "historical.yaml"), "--targets", str(fifo), "--check"]
    assert (
        refused(args, capsys)
        == f"error: {fifo}: is a named pipe, not a regular file; give a file\n"
    )


def test_a_pipe_in_a_sweep_folder_is_never_opened(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sim.io.plots.save", lambda fig, path: Path(path).write_bytes(b""))
    spec = tmp_path / "sweep.yaml"
    spec.write_text(yaml.safe_dump(dict(SPECS["ci_smoke"])))
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--out", str(out)]) == 0
    runs = next((out / "parts").glob("part-*.runs.parquet"))
    runs.unlink()
    os.mkfifo(runs)
    capsys.readouterr()
    with hang_guard(30):
        assert main(["analyze", str(out)]) == 0
    assert "runs file: is a named pipe" in capsys.readouterr().err
    assert (out / QUARANTINE / runs.name).exists()
    (out / "sweep.json").unlink()
    os.mkfifo(out / "sweep.json")
    err = refused(["analyze", str(out)], capsys)
    assert "not a sweep folder (no readable sweep.json: is a named pipe" in err


def test_calibrate_check_writes_nothing_unless_asked(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    project = tmp_path / "project"
    shutil.copytree(SCENARIOS / "world", project / "world")
    shutil.copy(SCENARIOS / "historical.yaml", project)
    monkeypatch.chdir(tmp_path)
    before = sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*"))
    args = ["calibrate", str(project / "historical.yaml"), "--targets", str(TARGETS), "--check"]
    assert main([*args, "--seeds", "1"]) == 0
    assert "report:" not in capsys.readouterr().out
    assert sorted(p.relative_to(tmp_path) for p in tmp_path.rglob("*")) == before
    assert main([*args, "--seeds", "1", "--out", "cal"]) == 0
    assert "report: cal/report.md" in capsys.readouterr().out
    assert "report.md" in [p.name for p in (tmp_path / "cal").iterdir()]
