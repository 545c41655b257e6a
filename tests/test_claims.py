"""Output folders: claimed at the start, replaced only when they hold the same command's results,
written with the umask's permissions, and an OS error while writing reported in one line.

The concurrent cases with real processes (two runs with one ``--out``, a folder made while a
run works) are in tests/test_interrupts.py; here the rules are checked in-process.
"""

from __future__ import annotations

import errno
import json
import os
import resource
import signal
import stat
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml

from sim.cli import CLOSED_PIPE, main
from sim.errors import InputError
from sim.io.claim import LOCK, Where, claim_existing, claim_new, claim_output, holds_manifest
from tests.processes import finish, running

ROOT = Path(__file__).resolve().parent.parent
SCENARIOS = ROOT / "scenarios"
RUN_FILES = {"events.csv", "flows.csv", "imports.csv", "kpis.json", "manifest.json", "timeline.csv"}
"""Files every run folder holds (among others)."""


@pytest.fixture
def scenario(tmp_path: Path) -> Path:
    """A one-year variant of the status quo (runs in a fraction of a second)."""
    file = tmp_path / "short.yaml"
    data = {"extends": str(SCENARIOS / "baseline.yaml"), "name": "short", "end": "2026-12-31"}
    file.write_text(yaml.safe_dump(data))
    return file


@pytest.fixture
def work(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "work"
    folder.mkdir()
    monkeypatch.chdir(folder)
    return folder


def names(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def is_run_folder(folder: Path) -> bool:
    """A complete run folder: its files, and nothing hidden (no lock, no temporary)."""
    found = names(folder)
    return set(found) >= RUN_FILES and not [n for n in found if n.startswith(".")]


def contents(folder: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in folder.iterdir()}


def dead_pid() -> int:
    """The id of a process that has just ended."""
    done = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"], capture_output=True, check=True
    )
    return int(done.stdout)


def run(scenario: Path, *extra: str) -> int:
    return main(["run", str(scenario), "--replications", "1", "--no-plot", *extra])


# --- claiming ----------------------------------------------------------------------------------


def test_a_claim_is_a_new_folder_with_a_lock_and_release_undoes_only_it(tmp_path: Path) -> None:
    target = tmp_path / "a" / "b" / "out"
    with claim_new(target, "run", Where()) as first, claim_new(target, "run", Where()) as second:
        assert (first.path, second.path) == (target, target.with_name("out-2"))
        assert names(first.path) == [LOCK]
        assert first.fresh
        holder = (first.path / LOCK).read_text().split()
        assert holder[0] == str(os.getpid())
        assert holder[2] == "run"
        (second.path / "kept.txt").write_text("something was written")
    assert names(tmp_path / "a" / "b") == ["out-2"], "the empty claim is gone, the other kept"
    assert names(target.with_name("out-2")) == ["kept.txt"], "its lock removed"
    with claim_new(tmp_path / "x" / "y" / "z", "run", Where()):
        pass
    assert names(tmp_path) == ["a"], "the folders made for an unused claim are removed too"


def test_what_another_program_puts_in_a_claimed_folder_is_left_alone(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with claim_new(target, "run", Where()) as claim:
        (target / "theirs.txt").write_text("not sim's")
        with claim.writing() as folder:
            (folder / "imports.csv").write_text("results")
        assert claim.path == tmp_path / "out-2", "the results go beside it"
    assert names(target) == ["theirs.txt"]
    assert names(tmp_path / "out-2") == ["imports.csv"]


def test_a_claim_left_by_a_killed_command_is_taken_over(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / LOCK).write_text(f"{dead_pid()} {os.uname().nodename} run\n")
    with claim_new(target, "run", Where()) as claim:
        assert claim.path == target
        assert claim.fresh
        assert (target / LOCK).read_text().split()[0] == str(os.getpid())
    assert not target.exists()


def test_a_dead_lock_in_a_folder_of_results_is_dropped_and_the_results_kept(
    tmp_path: Path,
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "manifest.json").write_text('{"command": "run"}')
    (target / LOCK).write_text(f"{dead_pid()} {os.uname().nodename} run\n")
    with claim_new(target, "run", Where()) as claim:
        assert claim.path == tmp_path / "out-2"
    assert names(target) == ["manifest.json"]


def test_a_folder_held_by_a_live_process_is_not_taken(tmp_path: Path) -> None:
    target = tmp_path / "out"
    with running(python=("-c", "import time; time.sleep(60)")) as holder:
        target.mkdir()
        (target / "manifest.json").write_text('{"command": "run"}')
        (target / LOCK).write_text(f"{holder.pid} {os.uname().nodename} run\n")
        with pytest.raises(InputError) as caught:
            claim_output(str(target), Path("unused"), "run", force=True)
        assert f"is in use by sim run (process {holder.pid} on" in str(caught.value)
        with claim_output(str(target), Path("unused"), "run", force=False) as claim:
            assert claim.path == tmp_path / "out-2", "without --force: beside it"
    assert (target / LOCK).exists(), "another process's lock is never removed"


@pytest.mark.parametrize(
    ("manifest", "command", "replaceable"),
    [
        ({"command": "run"}, "run", True),
        ({"scenario_sha256": "ab", "seed": 1}, "run", True),  # written before manifests named it
        ({"command": "compare"}, "run", False),
        ({"command": "run"}, "compare", False),
        ({"command": "compare"}, "compare", True),
        (["not", "a", "manifest"], "run", False),
        (None, "run", False),
    ],
)
def test_force_replaces_only_the_results_of_the_same_command(
    tmp_path: Path, manifest: Any, command: str, replaceable: bool
) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "thesis.tex").write_text("years of work")
    if manifest is not None:
        (target / "manifest.json").write_text(json.dumps(manifest))
    assert holds_manifest(command)(target) is replaceable
    if replaceable:
        with claim_output(str(target), Path("unused"), command, force=True) as claim:
            assert claim.path == target
            assert not claim.fresh
    else:
        with pytest.raises(InputError) as caught:
            claim_output(str(target), Path("unused"), command, force=True)
        assert f"is not a folder of sim {command} results; refusing to replace it" in str(
            caught.value
        )
    assert "thesis.tex" in names(target)
    assert LOCK not in names(target)


def test_a_file_is_never_claimed_nor_replaced(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.write_text("a file")
    with pytest.raises(InputError, match="is not a folder; refusing to replace it"):
        claim_existing(target, "run", Where(), holds_manifest("run"))
    with claim_output(str(target), Path("unused"), "run", force=False) as claim:
        assert claim.path == tmp_path / "out-2"
    assert names(tmp_path) == ["out"]
    assert target.read_text() == "a file"


def test_run_force_replaces_an_earlier_run_but_not_another_folder(
    scenario: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(scenario, "--out", "out") == 0
    first = (work / "out" / "manifest.json").read_text()
    assert run(scenario, "--out", "out", "--force", "--seed", "9") == 0
    assert names(work) == ["out"]
    assert is_run_folder(work / "out")
    assert (work / "out" / "manifest.json").read_text() != first
    (work / "mine").mkdir()
    (work / "mine" / "thesis.tex").write_text("years of work")
    capsys.readouterr()
    assert run(scenario, "--out", "mine", "--force") == 2
    err = capsys.readouterr().err
    assert "--out: mine: exists and is not a folder of sim run results" in err
    assert names(work / "mine") == ["thesis.tex"]
    assert names(work) == ["mine", "out"]


def test_compare_force_replaces_only_a_compare_folder(
    scenario: Path, work: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(scenario, "--out", "a_run") == 0
    args = ["compare", str(scenario), "--replications", "1", "--out"]
    assert main([*args, "a_run", "--force"]) == 2
    assert "a_run: exists and is not a folder of sim compare results" in capsys.readouterr().err
    assert is_run_folder(work / "a_run")
    assert main([*args, "cmp"]) == 0
    manifest = json.loads((work / "cmp" / "manifest.json").read_text())
    assert manifest["command"] == "compare"
    assert manifest["scenarios"] == ["short"]
    assert main([*args, "cmp", "--force"]) == 0
    assert names(work) == ["a_run", "cmp"]


# --- permissions and errors while writing ------------------------------------------------------


@pytest.fixture
def umask() -> Iterator[None]:
    previous = os.umask(0o027)
    try:
        yield
    finally:
        os.umask(previous)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def no_rendering(monkeypatch: pytest.MonkeyPatch) -> None:
    """Figures built but not rasterised: where files go and how is the question here."""
    import matplotlib.pyplot as plt

    def save(fig: Any, path: str) -> None:
        Path(path).write_bytes(b"")
        plt.close(fig)

    monkeypatch.setattr("sim.io.plots.save", save)


def test_outputs_have_the_permissions_the_umask_allows(
    scenario: Path, work: Path, umask: None, no_rendering: None
) -> None:
    assert run(scenario, "--out", "out") == 0
    assert mode(work / "out") == 0o750
    assert {mode(p) for p in (work / "out").iterdir()} == {0o640}
    spec = SCENARIOS / "sweeps" / "ci_smoke.yaml"
    data = yaml.safe_load(spec.read_text())
    data.update(base=str(SCENARIOS / "historical.yaml"), samples=2, replications=1)
    data["set"]["end"] = "2026-12-31"
    (work / "sweep.yaml").write_text(yaml.safe_dump(data))
    assert main(["sweep", "sweep.yaml", "--out", "sweep"]) == 0
    files = [p for p in (work / "sweep").rglob("*")]
    assert files
    assert {mode(p) for p in files if p.is_dir()} == {0o750}
    assert {mode(p) for p in files if p.is_file()} == {0o640}


def test_a_full_disk_is_one_line_naming_the_folder_and_leaves_nothing(
    scenario: Path,
    work: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert run(scenario, "--out", "out") == 0
    before = contents(work / "out")

    def full(result: Any, folder: Path) -> None:
        (folder / "imports.csv").write_text("part of it")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr("sim.results.runner.write_summary", full)  # the run's last files
    capsys.readouterr()
    for extra in (["--out", "new"], ["--out", "out", "--force"]):
        assert run(scenario, *extra) == 1
        err = capsys.readouterr().err
        target = extra[1]
        assert err == f"error: cannot write {target}: No space left on device\n"
    assert names(work) == ["out"], "no new folder, no temporary one"
    assert contents(work / "out") == before


def limited_file_size(limit: int) -> None:
    """In the child: files may not grow past ``limit`` bytes (EFBIG, as a full disk would)."""
    signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
    resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))


@pytest.mark.slow
def test_a_real_write_error_mid_run_and_mid_sweep_keeps_what_was_complete(
    scenario: Path, work: Path
) -> None:
    with running(
        "run", str(scenario), "--out", "out", cwd=work, preexec_fn=lambda: limited_file_size(20_000)
    ) as proc:
        code, _, err = finish(proc)
    assert (code, err) == (1, "error: cannot write out: File too large\n")
    assert names(work) == []
    spec = SCENARIOS / "sweeps" / "ci_smoke.yaml"
    data = yaml.safe_load(spec.read_text())
    data.update(base=str(SCENARIOS / "historical.yaml"), samples=2, replications=1)
    data["set"]["end"] = "2026-12-31"
    (work / "sweep.yaml").write_text(yaml.safe_dump(data))
    with running(
        "sweep", "sweep.yaml", "--out", "s", cwd=work, preexec_fn=lambda: limited_file_size(20_000)
    ) as proc:
        code, _, err = finish(proc)
    assert code == 1, err
    assert err.strip().splitlines()[-1].startswith("error: cannot write s/"), err
    assert list((work / "s" / "parts").glob("part-*.runs.parquet")), "the runs were kept"
    assert main(["analyze", str(work / "s")]) == 0, "and read back"


def test_a_closed_stdout_ends_the_command_quietly(scenario: Path, work: Path) -> None:
    """``sim run ... | head``: no BrokenPipeError message, exit 141 like other tools, and the
    results (written before the table is printed) complete."""
    with running("run", str(scenario), "--out", "out", cwd=work) as proc:
        assert proc.stdout is not None
        proc.stdout.close()  # the reader goes away before anything is printed
        assert proc.wait(timeout=120) == CLOSED_PIPE
        assert proc.stderr is not None
        assert proc.stderr.read() == b""
    assert is_run_folder(work / "out")
    assert "imports.png" in names(work / "out")
