"""``--scheduler ADDRESS``: connecting to an existing Dask distributed cluster, for every
command that takes the option (run, compare, calibrate, sweep).

Dask is optional (the ``dask`` extra): without it, or without a scheduler answering at the
address, the option is bad input (exit code 2, one line), never a traceback.
"""

from __future__ import annotations

from typing import Any

from sim.errors import InputError, Problem, describe

CONNECT_SECONDS = 20.0
"""How long to wait for the scheduler to answer (seconds): long enough for one just starting."""


def connect(address: str) -> Any:
    """A ``distributed.Client`` of the scheduler at ``address`` (tcp://host:port)."""
    try:
        from distributed import Client
    except ImportError:
        message = "needs Dask: pip install 'rare-earth-sim[dask]'"
        raise InputError([Problem(message, "<command line>", None, "--scheduler")]) from None
    try:
        return Client(address, timeout=f"{CONNECT_SECONDS}s")
    except (OSError, TimeoutError, ValueError, TypeError) as exc:
        message = f"cannot reach the Dask scheduler at {address}: {describe(exc)}"
        raise InputError([Problem(message, "<command line>", None, "--scheduler")]) from None
