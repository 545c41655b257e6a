"""The Python API: every command is a function of plain arguments returning objects.

``sim.run``, ``sim.validate``, ``sim.schema``, ``sim.compare``, ``sim.sweep`` and
``sim.analyze`` take files or ``Scenario`` objects and return results with DataFrames and paths;
the application packages can be called; ``import sim`` imports nothing heavy.
"""

from __future__ import annotations

import inspect
import subprocess
import sys
import types
from pathlib import Path

import pandas as pd
import pytest

import sim
from sim.callable_package import CallablePackage, make_callable
from sim.compare import Comparison, compare
from sim.sweep import SweepResult, analyze, sweep

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
BASELINE = SCENARIOS / "baseline.yaml"
SHORT = {"end": "2026-12-31"}

SPEC = f"""\
name: api_sweep
base: {SCENARIOS / "kia_offensive.yaml"}
set:
  end: 2026-06-30
baseline:
  scenario: {BASELINE}
parameters:
  events.china_ultimatum.fraction: [0.2, 1.0]
method: grid
replications: 1
seed: 3
expectations:
  - name: never_negative
    expect: imports.china.myanmar.all.2026 >= 0
    over: runs
"""


def test_run_takes_a_file_and_overrides_and_writes_where_it_says(tmp_path: Path) -> None:
    out = tmp_path / "base"
    first = sim.run(BASELINE, overrides=SHORT, replications=2, seed=4, out=out, plot=False)
    again = sim.run(BASELINE, overrides=SHORT, replications=2, seed=4, out=out, plot=False)
    assert first.folder == out
    assert again.folder == tmp_path / "base-2"
    assert (out / "imports.csv").read_bytes() == (again.folder / "imports.csv").read_bytes()
    assert not (out / "imports.png").exists()
    assert first.replications == 2
    assert str(first.scenario.end) == "2026-12-31"
    assert set(first.imports.columns) >= {"month", "importer", "origin", "product", "tonnes"}


def test_run_without_out_writes_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    result = sim.run(sim.load_scenario(BASELINE, overrides=SHORT), replications=1)
    assert result.folder is None
    assert list(tmp_path.iterdir()) == []


def test_run_on_workers_gives_the_serial_result() -> None:
    serial = sim.run(BASELINE, overrides=SHORT, replications=3)
    parallel = sim.run(BASELINE, overrides=SHORT, replications=3, workers=2)
    pd.testing.assert_frame_equal(serial.imports, parallel.imports)


def test_bad_arguments_raise_input_error_listing_every_problem() -> None:
    with pytest.raises(sim.InputError) as caught:
        sim.run(BASELINE, seed=-1, replications=0, workers=0)
    assert len(caught.value.problems) == 3
    with pytest.raises(sim.SimError):
        sim.run(BASELINE, overrides={"sites.nowhere.group": "kia"})


def test_validate_returns_what_each_file_holds_and_reports_all_files_at_once(
    tmp_path: Path,
) -> None:
    checked = sim.validate([BASELINE, SCENARIOS / "kia_offensive.yaml"])
    assert [c.value.name for c in checked] == ["baseline", "kia_offensive"]
    assert checked[0].kind == "scenario"
    assert "baseline, 2026-01-01" in checked[0].summary
    bad = [tmp_path / "a.yaml", tmp_path / "b.yaml"]
    for file in bad:
        file.write_text("name: x\nstart: not a date\n")
    with pytest.raises(sim.InputError) as caught:
        sim.validate(bad)
    assert {p.file for p in caught.value.problems} == {str(f) for f in bad}


def test_schema_is_a_dict() -> None:
    assert "sites" in sim.schema()["properties"]


def test_compare_takes_files_and_scenarios_and_writes_its_folder(tmp_path: Path) -> None:
    kia = sim.load_scenario(SCENARIOS / "kia_offensive.yaml", overrides=SHORT)
    out = tmp_path / "cmp"
    comparison = sim.compare(
        [sim.load_scenario(BASELINE, overrides=SHORT), kia], replications=2, seed=1, out=out
    )
    assert isinstance(comparison, Comparison)
    assert comparison.folder == out
    assert comparison.names == ["baseline", "kia_offensive"]
    assert comparison.files == ["<baseline>", "<kia_offensive>"]
    assert set(comparison.kpis["scenario"]) == {"baseline", "kia_offensive"}
    assert (out / "report.html").exists()
    assert (out / "compare_kpis.csv").exists()
    same = compare([sim.load_scenario(BASELINE, overrides=SHORT), kia], replications=2, seed=1)
    assert same.folder is None
    pd.testing.assert_frame_equal(same.kpis, comparison.kpis)


def test_compare_refuses_a_lone_file_name() -> None:
    with pytest.raises(sim.InputError, match="list of scenarios"):
        sim.compare(str(BASELINE))


def test_sweep_and_analyze_return_the_folder_with_its_tables(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC)
    result = sim.sweep(spec, out=tmp_path / "out", progress=False)
    assert isinstance(result, SweepResult)
    assert result.folder == tmp_path / "out"
    assert result.name == "api_sweep"
    assert result.passed
    assert result.ran == 3
    assert result.planned == 3
    assert result.failed == 0
    assert list(result.samples.columns) == ["events.china_ultimatum.fraction"]
    assert set(result.kpis["sample"]) == {-1, 0, 1}
    assert [v.expectation.name for v in result.verdicts] == ["never_negative"]
    assert result.summary.is_file()
    again = analyze(result.folder)
    assert again.name == "api_sweep"
    assert again.ran == 0
    assert again.passed
    pd.testing.assert_frame_equal(again.kpis, result.kpis)
    with pytest.raises(sim.InputError, match="not a sweep folder"):
        sim.analyze(tmp_path)


def test_application_packages_are_callable_and_export_their_function() -> None:
    assert isinstance(sim.compare, CallablePackage)
    assert callable(sim.compare)
    assert isinstance(sim.sweep, CallablePackage)
    assert isinstance(sim.calibrate, CallablePackage)
    assert sim.compare.compare is compare
    assert sim.sweep.sweep is sweep
    assert sim.analyze is analyze


def test_make_callable_calls_the_named_function_resolved_at_call_time() -> None:
    module = types.ModuleType("sim_test_callable")
    sys.modules[module.__name__] = module
    try:
        module.main = lambda x, y=1: x + y  # type: ignore[attr-defined]
        make_callable(module.__name__, "main")
        assert module(1, y=2) == 3  # type: ignore[operator]
        module.main = lambda x, y=1: x * y  # type: ignore[attr-defined]
        assert module(3, y=2) == 6  # type: ignore[operator]
    finally:
        del sys.modules[module.__name__]


def test_no_application_function_takes_an_argparse_namespace() -> None:
    functions = [sim.run, sim.validate, sim.schema, compare, sweep, analyze]
    for function in functions:
        for parameter in inspect.signature(function).parameters.values():
            assert "Namespace" not in str(parameter.annotation), function.__qualname__
    modules = [ROOT / "sim" / "api.py", *(ROOT / "sim").glob("[cs][ow]*/*.py")]
    assert {p.parent.name for p in modules} == {"sim", "compare", "sweep"}
    for path in modules:
        assert "argparse" not in path.read_text(), path


def test_import_sim_stays_cheap() -> None:
    code = (
        "import sys, sim, sim.sweep, sim.calibrate\n"
        "heavy = ('pandas', 'matplotlib', 'scipy', 'pyarrow', 'simpy', 'pydantic')\n"
        "print([m for m in heavy if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    assert out.stdout.strip() == "[]"


def test_validate_tells_sweep_and_targets_files_by_their_keys() -> None:
    sweep_file = SCENARIOS / "sweeps" / "ci_smoke.yaml"
    targets_file = SCENARIOS / "targets" / "reported_2024.yaml"
    checked = sim.validate([sweep_file, targets_file, BASELINE])
    assert [c.kind for c in checked] == ["sweep", "targets", "scenario"]
    assert checked[0].summary.startswith("sweep ci_smoke: 12 sample(s) x 3 replication(s)")
    assert checked[1].summary.endswith("target(s)")
    with pytest.raises(sim.InputError, match="unknown kind"):
        sim.validate(BASELINE, kind="world")


def test_validate_reports_a_bad_sweep_file_at_its_key(tmp_path: Path) -> None:
    spec = tmp_path / "spec.yaml"
    spec.write_text(SPEC.replace("method: grid", "method: gird"))
    with pytest.raises(sim.InputError) as caught:
        sim.validate(spec)
    (problem,) = caught.value.problems
    assert problem.file == str(spec)
    assert problem.path == "method"
    assert problem.line == 9


@pytest.mark.parametrize("kind", ["scenario", "sweep", "targets"])
def test_schema_of_every_kind_of_file(kind: str) -> None:
    document = sim.schema(kind)
    assert document["$schema"].endswith("2020-12/schema")
    expected = {"scenario": "sites", "sweep": "parameters", "targets": "targets"}[kind]
    assert expected in document["properties"]


def test_show_lists_what_a_scenario_defines_after_extends() -> None:
    listing = sim.show(SCENARIOS / "kia_offensive.yaml")
    assert list(listing) == [
        "groups",
        "sites",
        "crossings",
        "routes",
        "processors",
        "importers",
        "events",
    ]
    assert listing["groups"]["kia"] == "Kachin Independence Army"  # from the world it extends
    assert listing["events"]["kia_bhamo_offensive"] == "offensive from 2026-04-01 to 2026-06-30"


def test_show_and_schema_commands(capsys: pytest.CaptureFixture[str]) -> None:
    from sim.cli import main

    assert main(["show", str(SCENARIOS / "kia_offensive.yaml")]) == 0
    out = capsys.readouterr().out
    assert "groups: 4" in out
    assert "  kia       Kachin Independence Army" in out
    assert main(["schema", "--kind", "sweep"]) == 0
    assert "parameters" in capsys.readouterr().out
    assert main(["validate", str(SCENARIOS / "targets" / "reported_2024.yaml")]) == 0
    assert "(6 target(s))" in capsys.readouterr().out
