"""A sweep's results survive what disks and users do to them, and bad values do not hide.

- parts are flushed to disk (files and their folder) before they count;
- a damaged part (truncated, garbled, missing, replaced by a pipe) is found by ``--resume`` and
  ``sim analyze``, moved to quarantine with a note, and its runs are run again: the sweep ends
  with exactly the results of an undamaged one;
- a KPI that comes out infinite or not a number is a failure of that KPI, with its reason,
  never a crash of the analysis nor a silent "no finished run";
- expectation names are unique, and ``seed``/``replications`` cannot be swept;
- the verdict line reads FAIL whenever a run failed.
"""

from __future__ import annotations

import copy
import json
import math
import os
import shutil
from pathlib import Path
from typing import Any

import pyarrow.parquet as pq
import pytest
import yaml

from sim.cli import main
from sim.model.engine import simulate as real_simulate
from sim.sweep import execute as execute_module
from sim.sweep import worker as worker_module
from sim.sweep.analysis import analyze
from sim.sweep.loading import load_sweep
from sim.sweep.store import QUARANTINE, Store
from sim.sweep.worker import run_one
from tests.sweep_files import SPECS, assert_same_results, hang_guard

pytestmark = pytest.mark.usefixtures("no_rendering")


@pytest.fixture
def no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    import matplotlib.pyplot as plt

    def save(fig: Any, path: str) -> None:
        Path(path).write_bytes(b"")
        plt.close(fig)

    monkeypatch.setattr("sim.io.plots.save", save)


@pytest.fixture
def one_run_per_part(monkeypatch: pytest.MonkeyPatch) -> None:
    """Every finished task is written as its own part (so a sweep has several)."""
    monkeypatch.setattr(execute_module, "FLUSH_RUNS", 1)


def spec_file(folder: Path, **changes: Any) -> Path:
    """The CI smoke sweep made tiny (3 samples x 2 replications and the baseline's 2)."""
    data = copy.deepcopy(SPECS["ci_smoke"])
    data.update(samples=3, replications=2)
    data.update(changes)
    file = folder / "sweep.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    return file


def sweep(*argv: str) -> int:
    return main(["sweep", *argv])


@pytest.fixture(scope="module")
def undamaged(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(spec, folder) of the tiny sweep, run once, one part per task, without damage."""
    folder = tmp_path_factory.mktemp("undamaged")
    spec = spec_file(folder)
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(execute_module, "FLUSH_RUNS", 1)
        patch.setattr("sim.io.plots.save", lambda fig, path: Path(path).write_bytes(b""))
        assert sweep(str(spec), "--out", str(folder / "reference")) == 0
    return spec, folder / "reference"


@pytest.fixture
def reference(undamaged: tuple[Path, Path], tmp_path: Path) -> tuple[Path, Path, Path]:
    """(spec, the undamaged folder, a copy of it to damage)."""
    spec, folder = undamaged
    shutil.copytree(folder, tmp_path / "out")
    return spec, folder, tmp_path / "out"


# --- flushed to disk ---------------------------------------------------------------------------


def test_parts_are_flushed_to_disk_before_they_count(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, one_run_per_part: None
) -> None:
    from sim.io import durable

    flushed: list[str] = []
    real = durable.fsync_path

    def record(path: Path) -> None:
        flushed.append(Path(path).name)
        real(path)

    monkeypatch.setattr(durable, "fsync_path", record)
    assert sweep(str(spec_file(tmp_path)), "--out", str(tmp_path / "out")) == 0
    parts = sorted(p.name for p in (tmp_path / "out" / "parts").iterdir())
    assert len(parts) >= 2 * 3, "several parts (one per finished task), 3 files each"
    for name in parts:
        temporary = [f for f in flushed if f.startswith(f".{name}.") and f.endswith(".tmp")]
        assert temporary, f"{name} was flushed before its rename"
    assert flushed.count("parts") >= len(parts), "and the folder after each rename"


# --- damaged parts -----------------------------------------------------------------------------


def truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[: path.stat().st_size // 2])


def garble(path: Path) -> None:
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle : middle + 8] = bytes(b ^ 0xFF for b in data[middle : middle + 8])
    path.write_bytes(bytes(data))


def replace_by_pipe(path: Path) -> None:
    path.unlink()
    os.mkfifo(path)


DAMAGE = {
    "truncated imports": ("imports", truncate, "imports file does not match its checksum"),
    "garbled kpis": ("kpis", garble, "kpis file does not match its checksum"),
    "truncated runs": ("runs", truncate, "runs file unreadable"),
    "empty runs": ("runs", lambda p: p.write_bytes(b""), "runs file unreadable"),
    "missing kpis": ("kpis", lambda p: p.unlink(), "kpis file: file not found"),
    "imports a pipe": ("imports", replace_by_pipe, "imports file: is a named pipe"),
}


@pytest.mark.parametrize("damage", sorted(DAMAGE))
def test_a_damaged_part_is_quarantined_and_resume_runs_its_runs_again(
    damage: str,
    reference: tuple[Path, Path, Path],
    capsys: pytest.CaptureFixture[str],
) -> None:
    spec, ref, out = reference
    kind, spoil, reason = DAMAGE[damage]
    spoil(out / "parts" / f"part-000002.{kind}.parquet")
    capsys.readouterr()
    with hang_guard(60):
        assert main(["analyze", str(out)]) == 0
    err = capsys.readouterr().err
    assert f"warning: {out / 'parts' / 'part-000002'}: {reason}" in err, err
    assert "will be run again by --resume" in err
    assert "planned run(s) have no result" in err
    quarantined = sorted(p.name for p in (out / QUARANTINE).iterdir())
    assert "part-000002.txt" in quarantined
    note = (out / QUARANTINE / "part-000002.txt").read_text()
    assert reason in note
    assert "--resume` runs them again" in note
    assert len(Store(out).runs()) < 8
    with hang_guard(60):
        assert sweep(str(spec), "--out", str(out), "--resume") == 0
    assert_same_results(ref, out)


def test_a_damaged_design_is_refused_in_one_line_and_resume_writes_it_again(
    reference: tuple[Path, Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    spec, ref, out = reference
    truncate(out / "samples.parquet")
    capsys.readouterr()
    assert main(["analyze", str(out)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {out}: samples.parquet is damaged (")
    assert err.count("\n") == 1
    assert sweep(str(spec), "--out", str(out), "--resume") == 0
    assert_same_results(ref, out)


def test_an_older_part_without_checksums_is_checked_by_reading_it(
    reference: tuple[Path, Path, Path],
) -> None:
    _, _, ref = reference
    runs = ref / "parts" / "part-000001.runs.parquet"
    table = pq.read_table(runs)
    pq.write_table(table.replace_schema_metadata(None), runs)
    assert Store(ref).verify() == [], "an undamaged part without checksums is kept"
    truncate(ref / "parts" / "part-000001.kpis.parquet")
    (damage,) = Store(ref).verify()
    assert "kpis file unreadable" in damage.reason
    assert damage.runs == 1


def test_a_new_part_never_reuses_a_quarantined_number(
    reference: tuple[Path, Path, Path],
) -> None:
    spec, _, ref = reference
    last = max(int(p.name[5:11]) for p in (ref / "parts").iterdir())
    truncate(ref / "parts" / f"part-{last:06d}.runs.parquet")
    assert sweep(str(spec), "--out", str(ref), "--resume") == 0
    numbers = {int(p.name[5:11]) for p in (ref / "parts").iterdir()}
    assert last not in numbers
    assert max(numbers) == last + 1


# --- non-finite KPIs ---------------------------------------------------------------------------


def test_a_kpi_that_is_not_finite_is_a_failure_of_that_kpi_with_its_reason(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    spec = spec_file(
        tmp_path,
        kpis={"nothing_over_nothing": "lost_t / lost_t", "blowup": "mined_t / lost_t"},
        analyze=["nothing_over_nothing", "blowup", "mined_t"],
        discover=[],
        expectations=[
            {"name": "bounded", "expect": "blowup < 1e12", "over": "runs"},
            {"name": "mined", "expect": "mined_t > 0"},
        ],
    )
    out = tmp_path / "out"
    assert sweep(str(spec), "--out", str(out)) == 0
    captured = capsys.readouterr()
    assert "warning: KPI 'blowup' has no value in 8 run(s): blowup = mined_t / lost_t is inf" in (
        captured.err
    )
    assert "nothing_over_nothing = lost_t / lost_t is not a number" in captured.err
    assert "FAIL bounded: held for 0 of 6 runs" in captured.out
    assert "no value: blowup = mined_t / lost_t is inf (a division by zero?)" in captured.out
    assert "no finished run" not in captured.out
    assert "PASS mined" in captured.out
    runs = Store(out).runs()
    assert (runs.status == "ok").all()
    errors = [json.loads(text) for text in runs.kpi_errors]
    assert all(set(e) == {"nothing_over_nothing", "blowup"} for e in errors)
    kpis = Store(out).kpis()
    assert not set(kpis.kpi) & {"nothing_over_nothing", "blowup"}
    summary = (out / "analysis" / "summary.md").read_text()
    assert "KPIs without a value in some runs" in summary
    assert "`blowup`: 8 run(s)" in summary


def test_infinite_values_written_by_an_older_version_never_crash_the_analysis(
    tmp_path: Path,
) -> None:
    spec = spec_file(
        tmp_path,
        kpis={"ratio": "mined_t / 1"},
        analyze=["ratio", "mined_t"],
        expectations=[],
        discover=[],
    )
    sweep_ = load_sweep(spec)
    out = tmp_path / "out"
    store = Store.create(out, sweep_, spec.read_text())
    results = []
    for sample in range(3):
        record = run_one(sweep_.base, sweep_.spec.seed, 0, sample, sweep_.design[sample])
        record["kpis"]["ratio"] = [math.inf, -math.inf, math.nan][sample]  # as once written
        results.append(record)
    store.write(results)
    report = analyze(out)
    assert report.runs == 3
    assert report.failed == 0
    assert set(Store(out).kpis().kpi) >= {"mined_t"}
    assert "ratio" not in set(Store(out).kpis().kpi)


# --- the sweep file ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected"),
    [
        (
            {"parameters": {"seed": [1, 2]}},
            "parameters.seed: seed is not a parameter: every run uses the sweep's master seed",
        ),
        (
            {"parameters": {"replications": [1, 2]}},
            "parameters.replications: replications is not a parameter",
        ),
        ({"set": {"seed": 5}}, "set.seed: seed cannot be set here"),
        (
            {
                "expectations": [
                    {"name": "same", "expect": "lost_t >= 0"},
                    {"name": "same", "expect": "lost_t < 1"},
                ]
            },
            "expectations: two items named 'same' (items 0 and 1); names must be unique",
        ),
        (
            {
                "discover": [
                    {"name": "cut", "outcome": "lost_t > 0"},
                    {"name": "cut", "outcome": "lost_t > 1"},
                ]
            },
            "discover: two items named 'cut' (items 0 and 1)",
        ),
    ],
)
def test_sweep_files_refuse_what_would_be_silently_wrong(
    changes: dict[str, Any],
    expected: str,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    data = copy.deepcopy(SPECS["ci_smoke"])
    for key, value in changes.items():
        if key == "set":
            data["set"].update(value)
        else:
            data[key] = value
    if "parameters" in changes:
        data["method"] = "grid"
        data.pop("samples", None)
    file = tmp_path / "sweep.yaml"
    file.write_text(yaml.safe_dump(data, sort_keys=False))
    assert sweep(str(file), "--out", str(tmp_path / "out")) == 2
    err = capsys.readouterr().err
    assert expected in err, err
    assert not (tmp_path / "out").exists()


# --- the verdict -------------------------------------------------------------------------------


def test_the_verdict_reads_fail_when_a_run_failed_even_if_expectations_held(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    def flaky(scenario: Any, seed: int, replication: int) -> Any:
        if replication == 1 and scenario.events["china_ultimatum"].probability > 0:
            raise RuntimeError("boom")
        return real_simulate(scenario, seed, replication)

    expectations = [{"name": "mined", "expect": "mined_t > 0"}]
    spec = spec_file(tmp_path, expectations=expectations)
    assert sweep(str(spec), "--out", str(tmp_path / "clean")) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == (
        "verdict: PASS (8 run(s) finished; 1 expectation(s) held)"
    )
    monkeypatch.setattr(worker_module, "simulate", flaky)
    assert sweep(str(spec), "--out", str(tmp_path / "flaky")) == 1
    out = capsys.readouterr().out.strip().splitlines()
    assert "PASS mined: held for 3 of 3 samples (100%; every one)" in out
    assert out[-1] == "verdict: FAIL (3 run(s) failed)"
    assert main(["analyze", str(tmp_path / "flaky")]) == 0
    assert capsys.readouterr().out.strip().splitlines()[-1] == "verdict: FAIL (3 run(s) failed)"
