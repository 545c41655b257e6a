"""Killed runs leave the previous complete results or the new complete ones, nothing else."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

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
