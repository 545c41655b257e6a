"""Running a scenario: its replications, serially or on an executor, streamed into a Result.

Replication i always uses the stream ``(seed, i)``, so the outcome does not depend on which
worker ran it or in what order. Each replication is tallied where it ran (only its monthly
totals travel back, never its ledger) and taken in replication order as it finishes, with a
bounded number in flight, so a run's memory does not grow with the tallies still to come; a
run with ``out`` also writes its files as it goes and keeps only its KPIs.
"""

from __future__ import annotations

import contextlib
import time
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from pathlib import Path

from sim.errors import InputError, Problem
from sim.results.cluster import connect
from sim.results.files import RunWriter, write_summary
from sim.results.result import Collector, Result
from sim.results.tally import Tally, run_replications
from sim.scenario import schema as spec

MAX_BATCH = 4
"""Replications per task at most: enough to amortise sending the scenario, few enough to
balance the load."""
IN_FLIGHT = 16
"""Tasks submitted ahead of the one awaited: keeps a pool or cluster busy, bounds memory."""


def run(
    scenario: spec.Scenario,
    seed: int | None = None,
    replications: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
    out: str | Path | None = None,
    keep_tables: bool = True,
) -> Result:
    """Run every replication of a scenario and tabulate them.

    seed and replications default to the scenario's own; ``executor`` (a process pool, or a
    Dask client's ``get_executor()``) runs replications in parallel, None runs them here.
    ``progress(done, total)`` is called as replications finish. With ``out`` (an existing,
    empty folder) the run's files are written there as replications finish, and its flows,
    timeline and events are not kept in memory (the Result reads them back from there if
    asked): memory stays flat in the replication count. ``keep_tables=False`` drops them
    without writing them (imports, the Quad series and KPIs are always kept).
    """
    seed = scenario.seed if seed is None else seed
    count = scenario.replications if replications is None else replications
    started = time.perf_counter()
    folder = None if out is None else Path(out)
    collector = Collector(scenario, seed, count, keep_tables=keep_tables and folder is None)
    writer = None if folder is None else RunWriter(folder, scenario, count)
    for t in stream(scenario, seed, count, executor, progress):
        collector.add(t)
        if writer is not None:
            writer.add(t)
    if writer is not None:
        writer.finish(collector.arrays.imports)
    result = collector.result(time.perf_counter() - started, folder=folder)
    if folder is not None:
        write_summary(result, folder)
    return result


def batch_size(count: int) -> int:
    """Replications a worker runs per task: enough to amortise the task, few enough to share."""
    return max(1, min(MAX_BATCH, count // (4 * IN_FLIGHT)))


def stream(
    scenario: spec.Scenario,
    seed: int,
    count: int,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Iterator[Tally]:
    """Tallies of replications 0..count-1, in order, as they finish."""
    for done, tally in enumerate(_ordered(scenario, seed, count, executor), start=1):
        if progress is not None:
            progress(done, count)
        yield tally


def _ordered(
    scenario: spec.Scenario, seed: int, count: int, executor: Executor | None
) -> Iterator[Tally]:
    if executor is None:
        for i in range(count):
            yield from run_replications(scenario, seed, [i])
        return
    size = batch_size(count)
    batches = (list(range(a, min(a + size, count))) for a in range(0, count, size))
    pending: deque[Future[list[Tally]]] = deque()
    try:
        for batch in batches:
            pending.append(executor.submit(run_replications, scenario, seed, batch))
            if len(pending) >= IN_FLIGHT:
                yield from pending.popleft().result()
        while pending:
            yield from pending.popleft().result()
    finally:
        for future in pending:
            future.cancel()


@contextlib.contextmanager
def executor_for(
    workers: int = 1, executor: Executor | None = None, scheduler: str | None = None
) -> Iterator[Executor | None]:
    """Where replications run: the ``executor`` given (left open), else a Dask cluster
    (``scheduler``, an address such as tcp://host:port, whose workers have this package
    installed), else ``workers`` local processes (> 1), else here (None: easiest to debug).
    Pools and clients made here are closed on exit. Results are identical wherever they run:
    replication i always draws from the stream (seed, i)."""
    if scheduler and workers > 1:
        message = (
            "--workers and --scheduler: give one or the other (a cluster's size is its workers')"
        )
        raise InputError([Problem(message, file="<command line>")])
    if executor is not None:
        yield executor
    elif scheduler:
        with _dask(scheduler) as cluster:
            yield cluster
    elif workers > 1:
        with ProcessPoolExecutor(max_workers=workers) as pool:
            yield pool
    else:
        yield None


@contextlib.contextmanager
def _dask(address: str) -> Iterator[Executor]:
    """A Dask cluster's ``concurrent.futures`` executor; no Dask installed or an unreachable
    scheduler is bad input."""
    client = connect(address)
    try:
        yield client.get_executor(pure=False)
    finally:
        client.close()
