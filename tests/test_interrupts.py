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
import time
from pathlib import Path

import psutil
import pytest
import yaml

from sim.calibrate.params import write_params
from sim.cli import main
from sim.io.claim import LOCK, claim_output
from sim.sweep.store import Store
from tests.processes import finish as _finish
from tests.processes import running, wait_for
from tests.sweep_files import assert_same_results, run_api, write_spec

pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parent.parent
SCENARIO = str(ROOT / "scenarios" / "kia_offensive.yaml")


def run_args(out: Path, replications: int, *extra: str) -> list[str]:
    return [
        "run",
        SCENARIO,
        "--replications",
        str(replications),
        "--out",
        str(out),
        "--no-plot",
        *extra,
    ]


def finish(proc: subprocess.Popen[bytes]) -> int:
    return _finish(proc)[0]


def kill_mid_run(proc: subprocess.Popen[bytes], sig: int, after: float) -> int:
    """Send ``sig`` once the command has worked ``after`` seconds of CPU: past start-up and
    into its work however loaded the machine is (a fixed sleep can land during interpreter
    start-up on a busy machine, before Python handles Ctrl-C)."""
    process = psutil.Process(proc.pid)
    wait_for(lambda: sum(process.cpu_times()[:2]) >= after, proc, f"{after} s of work")
    assert proc.poll() is None, "the run finished before it could be interrupted"
    proc.send_signal(sig)
    code, _, err = _finish(proc, timeout=60)
    proc.stderr_text = err  # type: ignore[attr-defined]
    return code


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


@pytest.mark.parametrize("sig", [signal.SIGKILL, signal.SIGTERM, signal.SIGINT])
def test_a_killed_run_keeps_the_previous_complete_results(tmp_path: Path, sig: int) -> None:
    out = tmp_path / "kia"
    with running(*run_args(out, 1)) as first:
        assert finish(first) == 0
    with running(*run_args(out, 2000, "--force")) as second:
        code = kill_mid_run(second, sig, after=4.0)
    assert code != 0
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["replications"] == 1, "the earlier complete folder is untouched"
    if sig != signal.SIGKILL:
        assert leftovers(tmp_path) == ["kia"], "a clean interrupt removes its partial folder"
        assert LOCK not in leftovers(out), "and its claim"


def test_orphans_of_a_killed_run_are_removed_by_the_next(tmp_path: Path) -> None:
    out = tmp_path / "kia"
    with running(*run_args(out, 2000)) as proc:
        kill_mid_run(proc, signal.SIGKILL, after=4.0)
    assert leftovers(out) == [LOCK], "the killed run's claim: an empty folder and its lock"
    with running(*run_args(out, 1)) as proc:
        assert finish(proc) == 0
    assert leftovers(tmp_path) == ["kia"], "the next run takes the dead claim over"
    assert (out / "imports.csv").exists()
    assert LOCK not in leftovers(out)


def test_interrupted_run_exits_130_with_one_line(tmp_path: Path) -> None:
    with running(*run_args(tmp_path / "kia", 2000)) as proc:
        code = kill_mid_run(proc, signal.SIGINT, after=4.0)
        err = proc.stderr_text  # type: ignore[attr-defined]
    assert code == 130
    assert err.strip().splitlines()[-1].startswith("interrupted")
    assert os.listdir(tmp_path) == [], "the claimed folder is released: nothing is left"


def test_runs_started_together_with_one_out_get_distinct_complete_folders(
    tmp_path: Path,
) -> None:
    out = tmp_path / "kia"
    with contextlib.ExitStack() as stack:
        procs = [stack.enter_context(running(*run_args(out, 10))) for _ in range(3)]
        results = [_finish(p) for p in procs]
    assert [code for code, _, _ in results] == [0, 0, 0], results
    printed = sorted(
        line.split("-> ")[1]
        for _, text, _ in results
        for line in text.splitlines()
        if "-> " in line
    )
    assert printed == sorted(f"{tmp_path / n}/" for n in ("kia", "kia-2", "kia-3"))
    for name in ("kia", "kia-2", "kia-3"):
        manifest = json.loads((tmp_path / name / "manifest.json").read_text())
        assert manifest["replications"] == 10
        found = leftovers(tmp_path / name)
        assert {"imports.csv", "kpis.json", "manifest.json"} <= set(found), found
        assert not [n for n in found if n.startswith(".")], "no lock, no temporary left"


def test_a_folder_made_at_out_while_a_run_works_is_never_touched(tmp_path: Path) -> None:
    """The run claims --out at its start; whatever appears beside it later is someone else's."""
    out = tmp_path / "kia"
    with running(*run_args(out, 30)) as proc:
        wait_for(lambda: (out / LOCK).exists(), proc, "the claim")
        with pytest.raises(FileExistsError):
            out.mkdir()  # taken: another program cannot make the folder ...
        other = tmp_path / "kia-2"
        other.mkdir()  # ... and what it makes instead is left alone
        (other / "notes.txt").write_text("mine")
        assert finish(proc) == 0
    assert (out / "manifest.json").is_file()
    assert (other / "notes.txt").read_text() == "mine"
    assert leftovers(other) == ["notes.txt"]


def test_force_on_a_folder_another_command_holds_is_refused(tmp_path: Path) -> None:
    """A folder claimed by a live process (this one) is not replaced, even with --force."""
    out = tmp_path / "kia"
    with running(*run_args(out, 1)) as first:
        assert finish(first) == 0
    before = snapshot(out)
    with claim_output(str(out), Path("unused"), "run", force=True) as held:
        assert held.path == out
        assert (out / LOCK).exists()
        with running(*run_args(out, 1, "--force")) as second:
            code, _, err = _finish(second)
        assert code == 2, err
        assert f"is in use by sim run (process {os.getpid()}" in err
    assert snapshot(out) == before, "released: the lock is gone, the results untouched"


def snapshot(folder: Path) -> dict[str, bytes]:
    """Every file under a folder (hidden ones included) with its content."""
    return {
        str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()
    }


# --- compare -----------------------------------------------------------------------------------


def test_a_killed_compare_keeps_the_previous_complete_folder(tmp_path: Path) -> None:
    files = [str(ROOT / "scenarios" / f"{n}.yaml") for n in ("baseline", "kia_offensive")]
    out = tmp_path / "cmp"
    with running("compare", *files, "--replications", "1", "--out", str(out)) as first:
        assert finish(first) == 0
    before = snapshot(tmp_path)
    for sig in (signal.SIGKILL, signal.SIGINT):
        args = ("compare", *files, "--replications", "2000", "--out", str(out), "--force")
        with running(*args) as long:
            code = kill_mid_run(long, sig, after=4.0)
        assert code == (130 if sig == signal.SIGINT else -signal.SIGKILL)
        if sig == signal.SIGKILL:  # the killed command's claim (its lock) is taken over next
            (out / LOCK).unlink(missing_ok=True)  # (none if killed before it claimed)
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
    with running(*calibrate_args(project, "--check", "--seeds", "1")) as first:
        assert finish(first) == 0
    before = snapshot(project)
    for sig in (signal.SIGKILL, signal.SIGINT):
        with running(*calibrate_args(project, "--seeds", "200")) as long:
            code = kill_mid_run(long, sig, after=4.0)
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
    args = (params.name, moment, str(params), key, "4321")
    with running(*args, python=("-c", DIE_AT_RENAME)) as proc:
        assert finish(proc) == -signal.SIGKILL
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
    (target / "manifest.json").write_text('{"command": "run"}')
    script = (
        "import os, signal, sys\n"
        "from pathlib import Path\n"
        "from sim.io.claim import claim_output\n"
        "real = os.replace\n"
        "def replace(src, dst):\n"
        "    real(src, dst)\n"
        "    if '.old-' in str(dst):\n"
        "        os.kill(os.getpid(), signal.SIGKILL)\n"
        "os.replace = replace\n"
        "claim = claim_output(sys.argv[1], Path('unused'), 'run', force=True)\n"
        "with claim.writing() as tmp:\n"
        "    (tmp / 'imports.csv').write_text('new results')\n"
    )
    with running(str(target), python=("-c", script)) as proc:
        assert finish(proc) == -signal.SIGKILL
    assert not target.exists(), "killed with the previous folder moved aside"
    with claim_output(str(target), Path("unused"), "run", force=False) as claim:
        assert claim.path == tmp_path / "kia-2", "the previous folder is back: a new one beside"
    assert (target / "imports.csv").read_text() == "previous complete results"
    assert leftovers(target) == ["imports.csv", "manifest.json"], "the dead lock is dropped"
    assert leftovers(tmp_path) == ["kia"], "the new half is removed, the unused claim released"


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
    wait_for(lambda: list((out / "parts").glob("part-*.runs.parquet")), proc, "a part")


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
    with running("sweep", str(spec), "--out", str(out), "--workers", "2") as proc:
        wait_for_a_part(proc, out)
        workers = sweep_workers(proc)
        assert len(workers) == 2, workers
        workers[0].kill()
        code, _, err = _finish(proc)  # no hang: the pool is replaced, the rest runs
    runs = Store(out).runs()
    assert len(runs) == 126, "every run is recorded, the killed worker's as failed"
    failed = runs[runs.status != "ok"]
    assert code == (1 if len(failed) else 0), err
    assert failed.error.str.contains("terminated abruptly").all()
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 0
    assert_same_results(reference, out)


@pytest.mark.parametrize("workers", ["2", "1"], ids=["parallel", "serial"])
@pytest.mark.parametrize("sig", [signal.SIGTERM, signal.SIGINT], ids=lambda s: s.name)
def test_an_interrupted_sweep_keeps_its_runs_and_resumes_to_the_same_results(
    sweep_reference: tuple[Path, Path], tmp_path: Path, sig: int, workers: str
) -> None:
    """SIGTERM to the parent (a scheduler ending the job); SIGINT to the whole process group
    (Ctrl-C in a terminal: the workers get it too, and leave it to the parent). Either way
    the sweep stops within seconds, says how to resume, and leaves nothing half-written."""
    spec, reference = sweep_reference
    out = tmp_path / "out"
    with running("sweep", str(spec), "--out", str(out), "--workers", workers) as proc:
        wait_for_a_part(proc, out)
        if sig == signal.SIGINT:
            os.killpg(proc.pid, sig)
        else:
            proc.send_signal(sig)
        code, _, err = _finish(proc, timeout=60)
    assert code == 130, err
    assert "run the same command with --resume" in err.strip().splitlines()[-1], err
    assert 0 < len(Store(out).done()) < 126
    assert not list(out.rglob("*.tmp")), "nothing half-written is left"
    assert not (out / LOCK).exists(), "the claim is released"
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 0
    assert_same_results(reference, out)


def test_a_sweep_parent_killed_alone_leaves_no_worker_processes_behind(
    sweep_reference: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGKILL of the parent only (the OOM killer, ``kill -9 PID``): nothing may linger."""
    spec, _ = sweep_reference
    out = tmp_path / "out"
    with running("sweep", str(spec), "--out", str(out), "--workers", "2") as proc:
        wait_for_a_part(proc, out)
        descendants = psutil.Process(proc.pid).children(recursive=True)
        proc.kill()
        proc.wait(timeout=30)
        _, alive = psutil.wait_procs(descendants, timeout=5)
        assert not alive, f"{len(alive)} process(es) outlived the sweep"


def test_a_killed_sweep_is_resumed_although_its_claim_is_left(
    sweep_reference: tuple[Path, Path], tmp_path: Path
) -> None:
    """SIGKILL leaves the sweep's lock; --resume sees its process is gone and takes it over,
    while a second sweep resuming a folder that is still being written is refused."""
    spec, reference = sweep_reference
    out = tmp_path / "out"
    with running("sweep", str(spec), "--out", str(out)) as proc:
        wait_for_a_part(proc, out)
        assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 2
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    assert (out / LOCK).exists()
    assert main(["sweep", str(spec), "--out", str(out), "--resume"]) == 0
    assert not (out / LOCK).exists()
    assert_same_results(reference, out)


def test_a_sweep_leaves_an_ignored_ctrl_c_ignored_and_restores_its_handlers() -> None:
    """Started in the background of a script (``sim sweep ... &``), a command ignores SIGINT,
    as every command does; otherwise the sweep's handlers are installed and put back."""
    from sim.sweep.execute import Interrupts

    previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    try:
        with Interrupts():
            assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
            assert signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL
        signal.signal(signal.SIGINT, signal.default_int_handler)
        with Interrupts() as interrupts:
            os.kill(os.getpid(), signal.SIGINT)
            time.sleep(0.1)  # the handler runs between bytecodes
            assert interrupts.requested
        assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    finally:
        signal.signal(signal.SIGINT, previous)
