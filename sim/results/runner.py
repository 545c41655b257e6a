"""Running a scenario: its replications, serially or on an executor, into one Result.

Replication i always uses the stream ``(seed, i)``, so the outcome does not depend on which
worker ran it or in what order.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Executor, ProcessPoolExecutor

from sim.model.engine import Replication, simulate
from sim.results.result import Result, build_result
from sim.scenario import schema as spec


def run(
    scenario: spec.Scenario,
    seed: int | None = None,
    replications: int | None = None,
    executor: Executor | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Result:
    """Run every replication of a scenario and tabulate them.

    seed and replications default to the scenario's own; ``executor`` (a process pool, or a
    Dask client's ``get_executor()``) runs replications in parallel, None runs them here.
    ``progress(done, total)`` is called as replications finish.
    """
    seed = scenario.seed if seed is None else seed
    count = scenario.replications if replications is None else replications
    started = time.perf_counter()
    reps = sorted(
        _replications(scenario, seed, count, executor, progress), key=lambda r: r.replication
    )
    return build_result(scenario, seed, reps, time.perf_counter() - started)


def _replications(
    scenario: spec.Scenario,
    seed: int,
    count: int,
    executor: Executor | None,
    progress: Callable[[int, int], None] | None,
) -> Iterator[Replication]:
    if executor is None:
        results: Iterator[Replication] = (simulate(scenario, seed, i) for i in range(count))
    else:
        results = executor.map(simulate, [scenario] * count, [seed] * count, range(count))
    for done, rep in enumerate(results, start=1):
        if progress is not None:
            progress(done, count)
        yield rep


@contextlib.contextmanager
def executor_for(workers: int, executor: Executor | None = None) -> Iterator[Executor | None]:
    """The executor replications run on: the one given, else ``workers`` local processes
    (closed on exit), else None (serially, here: easiest to debug)."""
    if executor is not None or workers <= 1:
        yield executor
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield pool
