"""A run that fails names the run: scenario, seed and replication, in one line, exit code 1, so
the one failing run can be run again on its own. The Python API checks its plain arguments as
the command line does."""

from __future__ import annotations

import gc
import pickle
from pathlib import Path
from typing import Any

import pytest
import yaml

import sim
from sim.cli import main
from sim.errors import InputError, RunError
from sim.model import engine
from tests.builders import build, one_site


def failing_after(monkeypatch: pytest.MonkeyPatch, good: int, error: Exception) -> None:
    """Make every replication after the first ``good`` ones fail as the books are closed."""
    finish = engine._finish
    done = {"count": 0}

    def finish_or_fail(world: Any) -> None:
        finish(world)
        done["count"] += 1
        if done["count"] > good:
            raise error

    monkeypatch.setattr(engine, "_finish", finish_or_fail)


def scenario_file(tmp_path: Path) -> Path:
    file = tmp_path / "one_site.yaml"
    file.write_text(yaml.safe_dump(one_site()), encoding="utf-8")
    return file


def test_a_broken_invariant_names_scenario_seed_and_replication(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_after(monkeypatch, 2, RunError("tonnes not conserved at site 'mine'"))
    args = ["run", str(scenario_file(tmp_path)), "--seed", "11", "--replications", "3"]
    code = main([*args, "--out", str(tmp_path / "out"), "--no-plot"])
    err = capsys.readouterr().err.strip().splitlines()
    assert code == 1
    assert err == [
        "error: run failed: scenario 'one_site', seed 11, replication 2: "
        "tonnes not conserved at site 'mine'"
    ]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


def test_a_bug_in_the_model_is_named_too_with_its_traceback_under_debug(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    failing_after(monkeypatch, 0, ZeroDivisionError("division by zero"))
    file = str(scenario_file(tmp_path))
    assert main(["run", file, "--no-plot", "--out", str(tmp_path / "a")]) == 1
    err = capsys.readouterr().err
    assert err.strip() == (
        "error: run failed: scenario 'one_site', seed 7, replication 0: "
        "ZeroDivisionError: division by zero"
    )
    assert main(["--debug", "run", file, "--no-plot", "--out", str(tmp_path / "b")]) == 1
    err = capsys.readouterr().err
    assert "Traceback" in err
    assert "ZeroDivisionError" in err
    assert err.strip().splitlines()[-1].startswith("error: run failed: scenario 'one_site'")


def test_python_callers_get_the_same_error_with_its_parts(monkeypatch: pytest.MonkeyPatch) -> None:
    failing_after(monkeypatch, 1, RunError("negative feedstock queue at processor 'plant'"))
    with pytest.raises(RunError) as caught:
        sim.run(build(one_site()), seed=3, replications=2)
    assert caught.value.where == "scenario 'one_site', seed 3, replication 1"
    assert caught.value.message == "negative feedstock queue at processor 'plant'"
    assert isinstance(caught.value, sim.SimError)


def test_a_run_error_crosses_a_process_boundary_whole() -> None:
    error = RunError("tonnes not conserved", "scenario 'x', seed 1, replication 4")
    again = pickle.loads(pickle.dumps(error))
    assert (again.message, again.where, str(again)) == (error.message, error.where, str(error))


# --- the Python API checks its arguments as the command line does ------------------------------


@pytest.mark.parametrize(
    ("arguments", "expected"),
    [
        ({"seed": "3"}, "--seed: expected a whole number, got '3'"),
        ({"seed": 2.5}, "--seed: expected a whole number, got 2.5"),
        ({"seed": True}, "--seed: expected a whole number, got True"),
        ({"seed": -1}, "--seed: must not be negative"),
        ({"replications": 2.0}, "--replications: expected a whole number, got 2.0"),
        ({"replications": 0}, "--replications: must be at least 1"),
        ({"workers": "2"}, "--workers: expected a whole number, got '2'"),
        ({"out": 3}, "--out: expected a folder path, got 3"),
        ({"out": ""}, "--out: is empty; give a folder name"),
    ],
)
def test_sim_run_refuses_what_the_command_line_refuses(
    arguments: dict[str, Any], expected: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    with pytest.raises(InputError) as caught:
        sim.run(build(one_site()), **arguments)
    assert [str(p) for p in caught.value.problems] == [f"<command line>: {expected}"]
    assert list(tmp_path.iterdir()) == []


def test_compare_and_sweep_check_their_arguments_too(tmp_path: Path) -> None:
    scenario = scenario_file(tmp_path)
    with pytest.raises(InputError, match="--seed: expected a whole number"):
        sim.compare([scenario, scenario], seed="1", out=tmp_path / "c")
    with pytest.raises(InputError, match="--workers: expected a whole number"):
        sim.sweep(tmp_path / "missing.yaml", workers=1.5, out=tmp_path / "s")
    with pytest.raises(InputError, match="--scheduler: expected a Dask scheduler address"):
        sim.sweep(tmp_path / "missing.yaml", scheduler=8786, out=tmp_path / "s")


def test_a_replication_pauses_garbage_collection_and_resumes_it_even_when_it_fails(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    seen: list[bool] = []
    finish = engine._finish

    def finish_and_fail(world: Any) -> None:
        seen.append(gc.isenabled())
        finish(world)
        raise RuntimeError("the books do not close")

    monkeypatch.setattr(engine, "_finish", finish_and_fail)
    assert gc.isenabled()
    with pytest.raises(RunError, match="the books do not close"):
        engine.simulate(build(one_site()), 1, 0)
    assert seen == [False]
    assert gc.isenabled()


def test_a_replication_leaves_a_collector_it_found_paused_paused() -> None:
    gc.disable()
    try:
        engine.simulate(build(one_site()), 1, 0)
        assert not gc.isenabled()
    finally:
        gc.enable()
