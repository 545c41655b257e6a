"""Killed work leaves the previous complete results or the new complete ones, nothing else.

Real processes are killed part way: ``sim run``, ``sim compare``, ``sim calibrate`` and ``sim
sweep`` (the parent, or one of its worker processes), with SIGKILL (no chance to clean up),
SIGTERM and SIGINT. The moments that matter most, between writing a file and renaming it into
place, are hit exactly by a writer that kills itself there.
"""

from __future__ import annotations

import contextlib
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest
import yaml

from sim.calibrate.params import write_params
from sim.cli import main
from sim.io.outputs import choose_folder
from sim.sweep.store import Store
from tests.test_sweep import assert_same_results, run_api, write_spec

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = str(ROOT / "scenarios" / "kia_offensive.yaml")


def start_run(out: Path, replications: int, *extra: str) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            "-m",
            "sim",
            "run",
            SCENARIO,
            "--replications",
            str(replications),
            "--out",
            str(out),
            "--no-plot",
            *extra,
        ],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(proc: subprocess.Popen[bytes]) -> int:
    proc.communicate(timeout=120)
    return proc.returncode


def kill_mid_run(proc: subprocess.Popen[bytes], sig: int, after: float) -> int:
    time.sleep(after)
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    return proc.returncode


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_killed_run_keeps_the_previous_complete_results(tmp_path: Path, sig: int) -> None:
    out = tmp_path / "kia"
    first = start_run(out, 1)
    assert finish(first) == 0
    code = kill_mid_run(start_run(out, 2000, "--force"), sig, after=4.0)
    assert code != 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 1, "the earlier complete folder is untouched"
    if sig != signal.SIGKILL:
        assert leftovers(tmp_path) == ["kia"], "a clean interrupt removes its partial folder"


def test_orphans_of_a_killed_run_are_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "kia"
    kill_mid_run(start_run(out, 2000), signal.SIGKILL, after=4.0)
    assert not out.exists()
    assert finish(start_run(out, 1)) == 0
    assert leftovers(tmp_path) == ["kia"]
    assert (out / "imports.csv").exists()


def test_interrupted_run_exits_130_with_one_line(tmp_path: Path) -> None:
    proc = start_run(tmp_path / "kia", 2000)
    time.sleep(4.0)
    proc.send_signal(signal.SIGINT)
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.decode().strip().splitlines()[-1].startswith("interrupted")
    assert os.listdir(tmp_path) == []


# --- helpers for the other commands ------------------------------------------------------------


def _env() -> dict[str, str]:
    path = os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)
    return {**os.environ, "PYTHONPATH": path}


def start(*args: str, cwd: Path = ROOT) -> subprocess.Popen[bytes]:
    """``python -m sim ARGS`` in its own session (so a group signal reaches only it)."""
    return subprocess.Popen(
        [sys.executable, "-m", "sim", *args],
        cwd=cwd,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
    )


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (hidden ones included) with its content."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --- compare -----------------------------------------------------------------------------------


def test_a_killed_compare_keeps_the_previous_complete_folder(tmp_path: Path) -> None:
    files = [str(ROOT / "scenarios" / f"{n}.yaml") for n in ("baseline", "kia_offensive")]
    out = tmp_path / "cmp"
    assert finish(start("compare", *files, "--replications", "1", "--out", str(out))) == 0
    before = snapshot(tmp_path)
    for sig in (signal.SIGKILL, signal.SIGINT):
        long = start("compare", *files, "--replications", "2000", "--out", str(out), "--force")
        code = kill_mid_run(long, sig, after=4.0)
        assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL)
        assert snapshot(tmp_path) == before, f"after {sig!r}: the earlier folder, untouched"


# --- calibrate ---------------------------------------------------------------------------------


@pytest.fixture
def project(tmp_path: Path) -> Path:
    """A copy of the bundled historical scenario, its world files and its targets."""
    folder = tmp_path / "project"
    shutil.copytree(ROOT / "scenarios" / "world", folder / "world")
    shutil.copy(ROOT / "scenarios" / "historical.yaml", folder)
    shutil.copy(ROOT / "scenarios" / "targets" / "reported_2024.yaml", folder)
    return folder


def calibrate_args(project: Path, *extra: str) -> list[str]:
    return [
        "calibrate",
        str(project / "historical.yaml"),
        "--targets",
        str(project / "reported_2024.yaml"),
        "--params",
        str(project / "world" / "calibrated.yaml"),
        "--out",
        str(project / "report"),
        *extra,
    ]


def test_a_killed_calibration_keeps_the_old_params_and_report(project: Path) -> None:
    assert finish(start(*calibrate_args(project, "--check", "--seeds", "1"))) == 0
    before = snapshot(project)
    for sig in (signal.SIGKILL, signal.SIGINT):
        code = kill_mid_run(start(*calibrate_args(project, "--seeds", "200")), sig, after=4.0)
        assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL)
        assert snapshot(project) == before, f"after {sig!r}: old params, old report, no litter"


DIE_AT_RENAME = """
import os, signal, sys

real_replace = os.replace

def replace(src, dst, *args, **kwargs):
    '''SIGKILL this process just before or just after the rename onto sys.argv[1].'''
    if os.path.basename(str(dst)) == sys.argv[1]:
        if sys.argv[2] == "after":
            real_replace(src, dst, *args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)
    return real_replace(src, dst, *args, **kwargs)

os.replace = replace
from sim.calibrate.params import write_params
write_params(__import__("pathlib").Path(sys.argv[3]), {sys.argv[4]: float(sys.argv[5])})
"""


@pytest.mark.parametrize("moment", ["before", "after"])
def test_params_killed_at_the_rename_are_old_or_new_never_half_written(
    project: Path, moment: str
) -> None:
    params = project / "world" / "calibrated.yaml"
    old = params.read_text()
    key = "sites.chipwe_pangwa.capacity_tpm.mhree"
    proc = subprocess.Popen(
        [sys.executable, "-c", DIE_AT_RENAME, params.name, moment, str(params), key, "4321"],
        cwd=ROOT,
        env=_env(),
    )
    assert proc.wait(timeout=60) == -signal.SIGKILL
    now = params.read_text()
    if moment == "before":
        assert now == old
        litter = [p.name for p in params.parent.iterdir() if p.name.startswith(".")]
        assert len(litter) == 1, "the killed writer's temporary file is left..."
        write_params(params, {key: 1234.0})
        assert not [p for p in params.parent.iterdir() if p.name.startswith(".")], (
            "...and removed by the next writer"
        )
    else:
        assert yaml.safe_load(now)["set"][key] == 4321
        assert now.replace("4321", "").count("\n") == old.count("\n"), "only the value changed"


def test_a_folder_writer_killed_between_its_renames_gets_the_previous_folder_back(
    tmp_path: Path,
) -> None:
    target = tmp_path / "kia"
    target.mkdir()
    (target / "imports.csv").write_text("previous complete results")
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from sim.io.outputs import atomic_folder\n"
        "real = os.replace\n"
        "def replace(src, dst):\n"
        "    real(src, dst)\n"
        "    if '.old-' in str(dst):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.replace = replace\n"
        "with atomic_folder(Path(sys.argv[1])) as tmp:\n"
        "    (tmp / 'imports.csv').write_text('new results')\n"
    )
    proc = subprocess.Popen([sys.executable, "-c", script, str(target)], cwd=ROOT, env=_env())
    assert proc.wait(timeout=60) == -signal.SIGKILL
    assert not target.exists(), "killed with the previous folder moved aside"
    assert choose_folder(str(target), "kia", force=False) == tmp_path / "kia-2"
    assert (target / "imports.csv").read_text() == "previous complete results"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["kia"], "the new half is removed"


# --- sweep: the parent or a worker killed ------------------------------------------------------


@pytest.fixture(scope="module")
def sweep_reference(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A sweep of 126 runs (20 samples x 6 replications and the baseline's 6), run serially
    without interruption: (spec, folder)."""
    folder = tmp_path_factory.mktemp("sweep_reference")
    spec = write_spec(folder, samples=20, **{"replications: 3": "replications: 6"})
    run_api(spec, folder / "reference")
    return spec, folder / "reference"


def wait_for_a_part(proc: subprocess.Popen[bytes], out: Path) -> None:
    """Until the sweep has committed finished runs (so it is killed part way)."""
    deadline = time.monotonic() + 120
    while not list((out / "parts").glob("part-*.runs.parquet")):
        assert proc.poll() is None, "the sweep ended before it could be killed"
        assert time.monotonic() < deadline, "no part was written"
        time.sleep(0.02)


def sweep_workers(proc: subprocess.Popen[bytes]) -> list[psutil.Process]:
    """The worker processes of ``sim sweep --workers N``: the parent's descendants that run
    tasks (not the resource tracker, not a fork server, which has the workers as children)."""
    found = []
    for child in psutil.Process(proc.pid).children(recursive=True):
        with contextlib.suppress(psutil.NoSuchProcess):
            if "resource_tracker" not in " ".join(child.cmdline()) and not child.children():
                found.append(child)
    return found


def test_a_killed_sweep_worker_is_recorded_and_resume_completes_the_sweep(
    sweep_reference: tuple[Path, Path], tmp_path: Path
) -> None:
    spec, reference = sweep_reference
    out = tmp_path / "out"
    proc = start("sweep", str(spec), "--out", str(out), "--workers", "2")
    try:
        wait_for_a_part(proc, out)
        workers = sweep_workers(proc)
        assert len(workers) == 2, workers
        workers[0].kill()
        _, err = proc.communicate(timeout=120)  # no hang: the pool is replaced, the rest runs
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    runs = Store(out).runs()
    assert len(runs) == 126, "every run is recorded, the killed worker's as failed"
    failed = runs[runs.status != "ok"]
    assert proc.returncode == (1 if len(failed) else 0), err.decode()
    assert failed.error.str.contains("terminated abruptly").all()
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 0
    assert_same_results(reference, out)


@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_an_interrupted_parallel_sweep_keeps_its_runs_and_resumes_to_the_same_results(
    sweep_reference: tuple[Path, Path], tmp_path: Path, sig: int
) -> None:
    """SIGTERM to the parent (a scheduler ending the job); SIGINT to the whole process group
    (Ctrl-C in a terminal: the workers get it too, and leave it to the parent)."""
    spec, reference = sweep_reference
    out = tmp_path / "out"
    proc = start("sweep", str(spec), "--out", str(out), "--workers", "2")
    try:
        wait_for_a_part(proc, out)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == 130, err.decode()
    assert "run the same command with --resume" in err.decode()
    assert 0 < len(Store(out).done()) < 126
    assert not list(out.rglob("*.tmp")), "nothing half-written is left"
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 0
    assert_same_results(reference, out)


def test_a_sweep_parent_killed_alone_leaves_no_worker_processes_behind(
    sweep_reference: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGKILL of the parent only (the OOM killer, ``kill -9 PID``): nothing may linger."""
    spec, _ = sweep_reference
    out = tmp_path / "out"
    proc = start("sweep", str(spec), "--out", str(out), "--workers", "2")
    try:
        wait_for_a_part(proc, out)
        descendants = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(descendants, timeout=5)
        assert not alive, f"{len(alive)} process(es) outlived the sweep"
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)  # the session's leftovers, whatever happened
        for stream in (proc.stdout, proc.stderr):
            if stream is not None:
                stream.close()
