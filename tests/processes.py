"""Running ``sim`` as a real process in tests: bounded waits, and nothing left open or alive.

Every process is started in its own session, so that a signal to its group reaches it (and its
workers) and nothing else; on the way out the whole group is killed if still there and both
pipes are closed, whatever the test did (a timeout, a failed assertion), so no test leaks a
process or trips a ResourceWarning.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
WAIT_SECONDS = 120
"""The longest any test waits for a process (generous: the machine is shared)."""


def env(**extra: str) -> dict[str, str]:
    path = os.pathsep.join(p for p in [str(ROOT), os.environ.get("PYTHONPATH", "")] if p)
    return {**os.environ, "PYTHONPATH": path, **extra}


@contextlib.contextmanager
def running(
    *args: str, cwd: Path = ROOT, python: tuple[str, ...] = ("-m", "sim"), **popen: Any
) -> Iterator[subprocess.Popen[bytes]]:
    """``python -m sim ARGS`` (or ``python PYTHON...``) in its own session, stdout and stderr
    piped; killed with its group and its pipes closed on the way out.

    Ctrl-C is reset to its default in the child: a test suite started in the background of a
    script (``pytest &``) ignores SIGINT, and its children would inherit that."""
    before_exec = popen.pop("preexec_fn", None)

    def prepare() -> None:
        signal.signal(signal.SIGINT, signal.SIG_DFL)
        if before_exec is not None:
            before_exec()

    proc = subprocess.Popen(
        [sys.executable, *python, *args],
        cwd=cwd,
        env=env(),
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        start_new_session=True,
        preexec_fn=prepare,
        **popen,
    )
    try:
        yield proc
    finally:
        stop(proc)


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Kill the process's group if it is still there, reap it, close its pipes."""
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(proc.pid, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=WAIT_SECONDS)
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        if stream is not None:
            stream.close()


def finish(proc: subprocess.Popen[bytes], timeout: float = WAIT_SECONDS) -> tuple[int, str, str]:
    """Wait for the process to end by itself: (exit code, stdout, stderr)."""
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out.decode(errors="replace"), err.decode(errors="replace")


def wait_for(condition: Callable[[], object], proc: subprocess.Popen[bytes], what: str) -> None:
    """Poll ``condition()`` until true; fail if the process ends first or it takes too long."""
    deadline = time.monotonic() + WAIT_SECONDS
    while not condition():
        assert proc.poll() is None, f"the process ended before {what}"
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.02)
