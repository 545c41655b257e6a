"""Shared test settings and fixtures.

Property tests run with a fixed seed (``derandomize``) and no example database, so a test run is
repeatable: the same commit passes or fails the same way on every machine and in CI. Exploring new
random examples is a separate, deliberate act: ``HYPOTHESIS_PROFILE=explore pytest tests/...``.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from hypothesis import settings

from tests import processes

settings.register_profile("repeatable", derandomize=True, database=None)
settings.register_profile("explore", derandomize=False)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "repeatable"))


@pytest.fixture(scope="session")
def dask_cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    """A real Dask scheduler and two single-threaded workers on 127.0.0.1, as separate
    processes (started once for the session); yields the scheduler's address."""
    folder = tmp_path_factory.mktemp("dask")
    scheduler_file = folder / "scheduler.json"
    log = (folder / "dask.log").open("wb")
    started: list[subprocess.Popen[Any]] = []
    env = processes.env()

    def start(*args: str) -> None:
        command = [sys.executable, "-m", *args]
        started.append(
            subprocess.Popen(
                command, env=env, cwd=folder, stdout=log, stderr=log, start_new_session=True
            )
        )

    try:
        start(
            "distributed.cli.dask_scheduler",
            *("--host", "127.0.0.1", "--port", "0", "--no-dashboard"),
            *("--scheduler-file", str(scheduler_file)),
        )
        address = _wait_for_address(scheduler_file, started[0])
        for _ in range(2):
            start(
                "distributed.cli.dask_worker",
                address,
                *("--nthreads", "1", "--no-nanny", "--no-dashboard"),
                *("--host", "127.0.0.1", "--memory-limit", "0"),
            )
        _wait_for_workers(address, 2)
        yield address
    finally:
        for process in reversed(started):
            _stop(process)
        log.close()


def _wait_for_address(scheduler_file: Path, scheduler: subprocess.Popen[Any]) -> str:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        assert scheduler.poll() is None, "the Dask scheduler exited"
        with contextlib.suppress(OSError, ValueError, KeyError):
            return str(json.loads(scheduler_file.read_text())["address"])
        time.sleep(0.1)
    raise AssertionError("the Dask scheduler did not start")


def _wait_for_workers(address: str, count: int) -> None:
    from distributed import Client

    with Client(address, timeout="30s") as client:
        client.wait_for_workers(count, timeout=60)


def _stop(process: subprocess.Popen[Any]) -> None:
    """SIGTERM the process group, then SIGKILL after 10 s."""
    if process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
