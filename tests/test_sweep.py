"""Sweeps end to end: spec errors, determinism across backends (serial, processes, a real Dask
cluster), common random numbers, failures, expectations and JUnit, kill-and-resume, analysis."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from sim.cli import main
from sim.model.engine import simulate as real_simulate
from sim.scenario.loader import load_scenario
from sim.sweep import worker as worker_module
from sim.sweep.store import Store
from sim.sweep.worker import run_one
from tests import processes
from tests.sweep_files import assert_same_results, run_api, write_spec

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"


@pytest.fixture(scope="module")
def serial(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The reference: the test sweep run serially in-process, as (spec, folder)."""
    folder = tmp_path_factory.mktemp("serial")
    spec = write_spec(folder)
    run_api(spec, folder / "out")
    return spec, folder / "out"


# --- bad input fails fast, located -------------------------------------------------------------


def test_a_bad_parameter_path_fails_before_any_run(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(
        tmp_path, **{"events.china_ultimatum.fraction:": "events.china_ultimatum.fractoin:"}
    )
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:10: events.china_ultimatum.fractoin: unknown key 'fractoin'" in err
    assert "did you mean 'fraction'" in err
    assert not (tmp_path / "out").exists()


def test_a_bad_sampled_value_names_the_sample_and_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(
        tmp_path, **{"low: 0.2, high: 1.0}\n  events.china": "low: 0.2, high: 1.5}\n  events.china"}
    )
    assert main(["sweep", str(spec), "--out", str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err
    assert f"{spec}:9: events.kia_bhamo_offensive.capture_probability: must be at most 1" in err
    assert "of 20 samples; sample " in err
    assert not (tmp_path / "out").exists()


def test_spec_errors_are_located(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    spec = write_spec(
        tmp_path,
        **{"replications: 3": "replications: 3\nreplicatoins: 2", "< 0\n": "< bogus.kpi\n"},
    )
    assert main(["sweep", str(spec)]) == 2
    err = capsys.readouterr().err
    assert (
        f"{spec}:16: replicatoins: unknown key 'replicatoins' (did you mean 'replications'?)" in err
    )
    spec = write_spec(tmp_path, **{"< 0\n": "< bogus.kpi\n"})
    assert main(["sweep", str(spec)]) == 2
    assert f"{spec}:24: expectations.1.expect: unknown KPI 'bogus.kpi'" in capsys.readouterr().err


# --- determinism and common random numbers -----------------------------------------------------


def test_two_local_workers_give_the_serial_results(
    serial: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, reference = serial
    run_api(spec, tmp_path / "out", workers=2)
    assert_same_results(reference, tmp_path / "out")


def test_replication_streams_do_not_depend_on_the_sample(serial: tuple[Path, Path]) -> None:
    scenario = load_scenario(SCENARIOS / "kia_offensive.yaml", {"end": "2026-06-30"})
    a = run_one(scenario, 5, 1, sample=0)
    b = run_one(scenario.model_dump_json(), 5, 1, sample=9)
    assert a["kpis"] == b["kpis"]
    assert (a["imports"] == b["imports"]).all()
    c = run_one(scenario, 5, 2, sample=0)
    assert a["kpis"] != c["kpis"]
    # in a sweep, every sample and the baseline used replication r's stream: the baseline's
    # draws for events it shares with the samples are the same, so pairs differ by parameters
    runs = Store(serial[1]).runs()
    assert set(runs.replication) == {0, 1, 2}
    assert (runs.status == "ok").all()
    assert len(runs) == 20 * 3 + 3


# --- failures, expectations, JUnit -------------------------------------------------------------


def test_a_failing_run_is_recorded_and_the_sweep_goes_on(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def flaky(scenario: Any, seed: int, replication: int) -> Any:
        offensive = scenario.events.get("kia_bhamo_offensive")
        if offensive is not None and offensive.capture_probability > 0.8:
            raise RuntimeError("boom: capture too likely")
        return real_simulate(scenario, seed, replication)

    monkeypatch.setattr(worker_module, "simulate", flaky)
    spec = write_spec(tmp_path, samples=6)
    junit = tmp_path / "junit.xml"
    code = main(["sweep", str(spec), "--out", str(tmp_path / "out"), "--junit", str(junit)])
    assert code == 1
    runs = Store(tmp_path / "out").runs()
    bad = runs[runs.status == "failed"]
    assert len(bad) > 0
    assert (runs.status == "ok").sum() > 0
    assert bad.error.str.contains("RuntimeError: boom: capture too likely").all()
    params = [json.loads(p) for p in bad.params]
    assert all(p["events.kia_bhamo_offensive.capture_probability"] > 0.8 for p in params)
    assert "run(s) failed" in capsys.readouterr().err
    failures = ET.parse(junit).getroot().findall(".//testcase[@name='runs_completed']/failure")
    assert failures
    assert "runs failed" in failures[0].attrib["message"]
    summary = (tmp_path / "out" / "analysis" / "summary.md").read_text()
    assert "Failed runs" in summary
    assert "boom" in summary


def test_check_gates_on_expectations_and_writes_junit(
    serial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec, reference = serial
    out = tmp_path / "out"
    run_api(spec, out)  # the runs; the command below resumes (nothing to run) and judges
    junit = tmp_path / "reports" / "junit.xml"
    args = ["sweep", str(spec), "--out", str(out), "--resume", "--junit", str(junit)]
    assert main(args) == 0  # without --check, a failed expectation is reported, not fatal
    assert "FAIL impossible" in capsys.readouterr().out
    assert main([*args, "--check"]) == 1
    captured = capsys.readouterr()
    assert "0 of 63 runs to do, 63 kept from before" in captured.err
    assert "PASS offensive_lowers_china: held for 20 of 20 samples" in captured.out
    assert "FAIL impossible: held for 0 of 60 runs" in captured.out
    root = ET.parse(junit).getroot()
    cases = {c.attrib["name"]: c for c in root.iter("testcase")}
    assert set(cases) == {"runs_completed", "offensive_lowers_china", "impossible"}
    assert cases["offensive_lowers_china"].find("failure") is None
    failure = cases["impossible"].find("failure")
    assert failure is not None
    assert "held for 0 of 60 runs" in failure.attrib["message"]
    assert root.attrib["failures"] == "1"
    analysis = out / "analysis"
    for name in [
        "summary.md",
        "report.html",
        "runs.csv",
        "fan_china.png",
        "kpi_distributions.png",
        "sensitivity.csv",
        "discovery.csv",
        "expectations.json",
    ]:
        assert (analysis / name).stat().st_size > 0, name
    assert not list(analysis.glob("tornado_*.png")), "no tornado without swing runs"
    summary = (analysis / "summary.md").read_text()
    assert "### `deep_cut`" in summary
    assert "coverage" in summary
    assert "density" in summary
    sensitivity = pd.read_csv(analysis / "sensitivity.csv")
    assert set(sensitivity.method) == {"S1 (given data)"}
    assert sensitivity["rank"].min() == 1
    runs = pd.read_csv(analysis / "runs.csv")
    assert len(runs) == 63
    assert set(runs.role) == {"design", "baseline"}
    assert {"events.china_ultimatum.fraction", "china_2026_27"} <= set(runs.columns)
    assert_same_results(reference, out)
    # sim analyze rebuilds the analysis from the folder alone
    (analysis / "summary.md").unlink()
    assert main(["analyze", str(out)]) == 0
    assert (analysis / "summary.md").read_text() == summary


def test_resume_refuses_a_folder_of_another_sweep(
    serial: tuple[Path, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = write_spec(tmp_path, **{"seed: 77": "seed: 78"})
    assert main(["sweep", str(spec), "--out", str(serial[1]), "--resume"]) == 2
    assert "was made by a different sweep" in capsys.readouterr().err


# --- interruption ------------------------------------------------------------------------------


def test_a_killed_sweep_keeps_its_finished_runs_and_resume_completes_it(tmp_path: Path) -> None:
    spec = write_spec(tmp_path, **{"replications: 3": "replications: 10"})  # 210 runs
    run_api(spec, tmp_path / "reference")
    out = tmp_path / "out"
    command = [sys.executable, "-m", "sim", "sweep", str(spec), "--out", str(out)]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=processes.env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        start_new_session=True,
    )
    try:
        deadline = time.monotonic() + 120
        while not list((out / "parts").glob("part-*.runs.parquet")):
            assert process.poll() is None, "the sweep ended before it could be killed"
            assert time.monotonic() < deadline, "no part was written"
            time.sleep(0.02)
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)
    finally:
        processes.stop(process)
    assert process.returncode == -signal.SIGKILL
    kept = Store(out).done()
    assert 0 < len(kept) < 210  # killed part way; the finished parts are intact
    (out / "parts" / "part-999999.kpis.parquet").write_bytes(b"half-written, never committed")
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 0
    assert not (out / "parts" / "part-999999.kpis.parquet").exists()
    assert_same_results(tmp_path / "reference", out)


# --- a real Dask cluster -----------------------------------------------------------------------


def test_a_dask_cluster_gives_the_serial_results(
    serial: tuple[Path, Path],
    dask_cluster: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec, reference = serial
    out = tmp_path / "out"
    assert main(["sweep", str(spec), "--scheduler", dask_cluster, "--out", str(out)]) == 0
    assert f"Dask cluster at {dask_cluster} (2 threads)" in capsys.readouterr().err
    assert_same_results(reference, out)
