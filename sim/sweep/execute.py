"""Running a sweep's runs on an executor and streaming what finishes to the store.

A run is ``(sample, replication)``: the sample's scenario (the base with the sample's parameter
values) simulated with the stream ``(master seed, replication)``. The seed never depends on the
sample, the worker or the order, so every sample (and the baseline) sees the same random
numbers at the same replication index: paired differences are the parameters' doing.

Executors follow ``concurrent.futures``: in-process (``--workers 1``), a ``ProcessPoolExecutor``
(``--workers N``) or a Dask cluster's ``Client(address).get_executor()`` (``--scheduler``).
Runs travel in small batches; at most a few batches per worker are in flight and finished
results are flushed to a Parquet part about once a second, so memory stays flat and an
interruption loses at most the runs in flight.

Ctrl-C and SIGTERM are handled by ``Interrupts``: the signal only sets a flag, which the loop
looks at between waits (a few times a second), so it never lands inside the executor's own
locks or half way through writing a part; the loop then stops submitting, keeps what finished,
cancels the rest and returns ``interrupted``. Only code that holds no lock (a run computed
in-process by the serial backend, connecting to a cluster) is interrupted at once.
"""

from __future__ import annotations

import contextlib
import math
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import FIRST_COMPLETED, CancelledError, Future, ProcessPoolExecutor, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, field
from typing import Any, Protocol

from sim.errors import RunError, describe
from sim.results.cluster import connect
from sim.sweep.spec import BASELINE_SAMPLE, Sweep
from sim.sweep.store import Store
from sim.sweep.worker import lean_context, run_batch, start_worker

FLUSH_SECONDS = 1.0
"""Finished runs are written at least this often (seconds)..."""
POLL_SECONDS = 0.2
"""The loop looks for finished tasks and for an interrupt at least this often (seconds)."""
FLUSH_RUNS = 256
"""...or once this many are waiting."""
MAX_BATCH = 4
"""Runs per task, at most: small enough to balance load, large enough to amortise overhead."""
MAX_RESTARTS = 3
"""Times a broken local process pool is replaced before the sweep gives up."""

Run = tuple[int, int]
"""(sample, replication); sample -1 is the baseline."""


# --- one run (this is what workers execute) ----------------------------------------------------


def failed(run: Run, params: dict[str, Any], error: str) -> dict[str, Any]:
    """The record of a run whose task never returned (a dead worker, a lost connection)."""
    return {
        "sample": run[0],
        "replication": run[1],
        "params": params,
        "status": "failed",
        "error": error,
        "seconds": 0.0,
        "simpy_events": 0,
        "kpis": {},
        "kpi_errors": {},
        "imports": None,
        "axes": None,
    }


# --- planning ----------------------------------------------------------------------------------


def plan(sweep: Sweep) -> list[Run]:
    """Every run of a sweep, replication by replication (the baseline first in each), so that an
    interrupted sweep holds whole designs at fewer replications."""
    runs: list[Run] = []
    first = BASELINE_SAMPLE if sweep.baseline is not None else 0
    for rep in range(sweep.spec.replications):
        runs.extend((sample, rep) for sample in range(first, len(sweep.design)))
    return runs


@dataclass(frozen=True)
class Batch:
    """Runs sent to a worker as one task (all of one scenario: the base or the baseline)."""

    scenario_json: str
    items: list[tuple[int, int, dict[str, Any]]]

    @property
    def runs(self) -> list[Run]:
        """The batch's (sample, replication) pairs."""
        return [(sample, rep) for sample, rep, _ in self.items]


def batches(sweep: Sweep, todo: list[Run], size: int) -> Iterator[Batch]:
    """Consecutive runs of the same scenario grouped into batches of at most ``size``."""
    texts = {False: sweep.base.model_dump_json()}
    if sweep.baseline is not None:
        texts[True] = sweep.baseline.model_dump_json()
    current: list[tuple[int, int, dict[str, Any]]] = []
    kind = False
    for sample, rep in todo:
        is_baseline = sample == BASELINE_SAMPLE
        if current and (is_baseline != kind or len(current) >= size):
            yield Batch(texts[kind], current)
            current = []
        kind = is_baseline
        values = {} if is_baseline else sweep.design[sample]
        current.append((sample, rep, values))
    if current:
        yield Batch(texts[kind], current)


# --- backends ----------------------------------------------------------------------------------


class Backend(Protocol):
    """Where a sweep's batches run: here, local processes or a Dask cluster."""

    name: str
    in_flight: int

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Start ``fn(*args)`` and return its future."""

    def restart(self) -> None:
        """Replace the workers after one died (finished runs are kept)."""

    def close(self, cancel: bool) -> None:
        """Stop: wait for the tasks in flight, or with ``cancel`` drop them."""


class Inline:
    """Runs each task as it is submitted, here (``--workers 1``): no pickling, no processes."""

    name = "serial"
    in_flight = 1
    runs_here = True
    """Tasks run in this thread, holding no lock: an interrupt may stop one at once."""

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Run ``fn(*args)`` now; its result or error in a finished future."""
        future: Future[Any] = Future()
        try:
            future.set_result(fn(*args))
        except Exception as exc:
            future.set_exception(exc)
        return future

    def restart(self) -> None:
        """Nothing to replace: no worker processes."""
        return None

    def close(self, cancel: bool) -> None:
        """Nothing to stop: every task ran when submitted."""
        return None


class LocalPool:
    """``--workers N``: a process pool on this machine."""

    def __init__(self, workers: int) -> None:
        self.name = f"{workers} local processes"
        self.workers = workers
        self.in_flight = 2 * workers
        self.closed = False
        self.pool = self._new()

    def _new(self) -> ProcessPoolExecutor:
        return ProcessPoolExecutor(
            max_workers=self.workers,
            initializer=start_worker,
            initargs=(os.getpid(),),
            mp_context=lean_context(),
        )

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Send ``fn(*args)`` to a worker process."""
        return self.pool.submit(fn, *args)

    def restart(self) -> None:
        """A new pool in place of a broken one (a worker died)."""
        self.pool.shutdown(wait=False, cancel_futures=True)
        self.pool = self._new()

    def close(self, cancel: bool) -> None:
        """Shut the pool down; with ``cancel`` terminate the workers of the batches in flight."""
        if self.closed:
            return
        self.closed = True
        # The pool's processes (a private attribute, pinned by tests/test_private_reads.py): on
        # cancel, the batches in flight are not waited for; their runs were never recorded and
        # are redone by --resume.
        processes = list((getattr(self.pool, "_processes", None) or {}).values())
        self.pool.shutdown(wait=not cancel, cancel_futures=cancel)
        if cancel:
            for process in processes:
                with contextlib.suppress(Exception):
                    process.terminate()


class DaskCluster:
    """``--scheduler ADDRESS``: an existing Dask distributed cluster, via its executor."""

    def __init__(self, address: str) -> None:
        self.client = connect(address)
        self.executor = self.client.get_executor(pure=False)
        threads = sum(self.client.nthreads().values())
        self.name = f"Dask cluster at {address} ({threads} threads)"
        self.in_flight = max(4, 2 * threads)
        self.closed = False

    def submit(self, fn: Callable[..., Any], *args: Any) -> Future[Any]:
        """Send ``fn(*args)`` to the cluster."""
        future: Future[Any] = self.executor.submit(fn, *args)
        return future

    def restart(self) -> None:
        """Nothing to replace: the cluster restarts its own workers."""
        return None

    def close(self, cancel: bool) -> None:
        """Shut the executor down (waiting unless ``cancel``) and disconnect."""
        if self.closed:
            return
        self.closed = True
        self.executor.shutdown(wait=not cancel)
        self.client.close()


@contextlib.contextmanager
def backend(
    workers: int, scheduler: str | None, interrupts: Interrupts | None = None
) -> Iterator[Backend]:
    """The backend for ``--workers``/``--scheduler``, closed on the way out (its tasks
    cancelled unless the block finished). Connecting to a cluster may be interrupted."""
    chosen: Backend
    if scheduler:
        with interrupts.at_once() if interrupts else contextlib.nullcontext():
            chosen = DaskCluster(scheduler)
    elif workers > 1:
        chosen = LocalPool(workers)
    else:
        chosen = Inline()
    cancel = True
    try:
        yield chosen
        cancel = False
    finally:
        chosen.close(cancel)


# --- the loop ----------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What one ``execute`` did."""

    ran: int = 0
    failed: int = 0
    interrupted: bool = False
    seconds: float = 0.0
    errors: list[str] = field(default_factory=list)


class _Sink:
    """Finished results waiting to be written; flushed about once a second."""

    def __init__(self, store: Store) -> None:
        self.store = store
        self.waiting: list[dict[str, Any]] = []
        self.last = time.monotonic()

    def add(self, results: list[dict[str, Any]]) -> None:
        self.waiting.extend(results)

    def flush(self, force: bool = True) -> None:
        due = len(self.waiting) >= FLUSH_RUNS or time.monotonic() - self.last >= FLUSH_SECONDS
        if self.waiting and (force or due):
            self.store.write(self.waiting)
            self.waiting = []
            self.last = time.monotonic()


class _Progress:
    """A tqdm bar on stderr: runs done, failures, time left (silent when not a terminal)."""

    def __init__(self, label: str, total: int, enabled: bool) -> None:
        from tqdm import tqdm

        self.bar = tqdm(
            total=total,
            desc=label,
            unit="run",
            file=sys.stderr,
            disable=None if enabled else True,
            dynamic_ncols=True,
            smoothing=0.1,
        )
        self.failed = 0

    def update(self, results: list[dict[str, Any]]) -> None:
        failed = sum(r["status"] != "ok" for r in results)
        if failed:
            self.failed += failed
            self.bar.set_postfix_str(f"failed {self.failed}", refresh=False)
        self.bar.update(len(results))

    def close(self) -> None:
        self.bar.close()


def batch_size(runs: int, in_flight: int) -> int:
    """Enough batches to keep every worker busy to the end, each at most MAX_BATCH runs."""
    return max(1, min(MAX_BATCH, math.ceil(runs / max(1, 4 * in_flight))))


def execute(
    sweep: Sweep,
    store: Store,
    chosen: Backend,
    todo: list[Run],
    progress: bool = True,
    interrupts: Interrupts | None = None,
) -> Outcome:
    """Run ``todo`` on the backend, writing results as they finish. Ctrl-C (or SIGTERM) stops
    submitting, keeps what finished and returns with ``interrupted`` set. ``interrupts`` are
    the command's (None: handled here, while this runs)."""
    with contextlib.ExitStack() as stack:
        if interrupts is None:
            interrupts = stack.enter_context(Interrupts())
        loop = _Loop(sweep, store, chosen, todo, progress, interrupts)
        started = time.perf_counter()
        try:
            loop.run()
        except KeyboardInterrupt:
            interrupts.requested = True
        try:
            if interrupts.requested:
                loop.harvest()
                loop.outcome.interrupted = True
                chosen.close(cancel=True)
        finally:
            loop.sink.flush()
            loop.progress.close()
        loop.outcome.seconds = time.perf_counter() - started
        return loop.outcome


class _Loop:
    def __init__(
        self,
        sweep: Sweep,
        store: Store,
        chosen: Backend,
        todo: list[Run],
        progress: bool,
        interrupts: Interrupts,
    ) -> None:
        self.sweep = sweep
        self.backend = chosen
        self.sink = _Sink(store)
        self.source = batches(sweep, todo, batch_size(len(todo), chosen.in_flight))
        self.pending: dict[Future[Any], Batch] = {}
        self.outcome = Outcome()
        self.restarts = 0
        self.progress = _Progress(sweep.spec.name, len(todo), progress)
        self.custom = dict(sweep.spec.kpis)
        self.interrupts = interrupts

    def run(self) -> None:
        """Until every run is done, or an interrupt is requested (then it returns at once)."""
        self.fill()
        while self.pending and not self.interrupts.requested:
            finished, _ = wait(list(self.pending), POLL_SECONDS, FIRST_COMPLETED)
            broken = False
            for future in finished:
                batch = self.pending.pop(future)
                broken |= self.take(future, batch)
            if broken:
                self.restart()
            self.fill()
            self.sink.flush(force=False)

    def fill(self) -> None:
        while len(self.pending) < self.backend.in_flight and not self.interrupts.requested:
            batch = next(self.source, None)
            if batch is None:
                return
            here = getattr(self.backend, "runs_here", False)
            with self.interrupts.at_once() if here else contextlib.nullcontext():
                future = self.backend.submit(
                    run_batch, batch.scenario_json, self.sweep.spec.seed, batch.items, self.custom
                )
            self.pending[future] = batch

    def take(self, future: Future[Any], batch: Batch) -> bool:
        """Record a finished task's runs; True when the local pool broke (a worker died)."""
        error = CancelledError("cancelled") if future.cancelled() else future.exception()
        if error is None:
            results = future.result()
        elif isinstance(error, KeyboardInterrupt):
            raise error
        else:
            message = f"task failed: {describe(error)}"
            results = [
                failed((sample, rep), values, message) for sample, rep, values in batch.items
            ]
        self.sink.add(results)
        self.progress.update(results)
        self.outcome.ran += len(results)
        self.outcome.failed += sum(r["status"] != "ok" for r in results)
        return isinstance(error, BrokenProcessPool)

    def restart(self) -> None:
        self.restarts += 1
        if self.restarts > MAX_RESTARTS:
            raise RunError("local worker processes keep dying; finished runs were kept")
        self.backend.restart()

    def harvest(self) -> None:
        """After an interrupt: keep the tasks that finished, cancel the rest."""
        for future, batch in list(self.pending.items()):
            if future.done() and not future.cancelled() and future.exception() is None:
                with contextlib.suppress(Exception):
                    self.take(future, batch)
            else:
                future.cancel()
        self.pending.clear()


class Interrupts:
    """Ctrl-C (SIGINT) and SIGTERM (a scheduler ending the job) while a sweep runs: recorded,
    and acted on where it is safe, so that every finished run is written and nothing hangs.

    A signal sets ``requested``; the loop sees it within ``POLL_SECONDS`` and stops. Inside
    ``at_once()`` (code that holds no lock: a run computed in this thread, connecting to a
    cluster) it raises KeyboardInterrupt straight away instead. Handlers are installed only
    in the main thread (signals belong to it), never over a signal the process was started
    ignoring (as every other command leaves it), and restored on exit.
    """

    def __init__(self) -> None:
        self.requested = False
        self._raising = False
        self._previous: dict[int, Any] = {}

    def __enter__(self) -> Interrupts:
        if threading.current_thread() is threading.main_thread():
            for sig in (signal.SIGINT, signal.SIGTERM):
                if signal.getsignal(sig) is signal.SIG_IGN:
                    continue  # ignored by whoever started us (``cmd &`` in a script): it stays so
                self._previous[sig] = signal.signal(sig, self._handle)
        return self

    def __exit__(self, *exc: object) -> None:
        for sig, previous in self._previous.items():
            signal.signal(sig, previous)
        self._previous.clear()

    def _handle(self, signum: int, frame: Any) -> None:
        self.requested = True
        if self._raising:
            self._raising = False
            raise KeyboardInterrupt

    @contextlib.contextmanager
    def at_once(self) -> Iterator[None]:
        """A block an interrupt may stop at once (it raises KeyboardInterrupt)."""
        if self.requested:
            raise KeyboardInterrupt
        self._raising = True
        try:
            yield
        finally:
            self._raising = False
