"""The private attributes of other libraries the code reads, each pinned by what it is used for,
so an upgrade that moves them fails here rather than silently miscounting or leaving processes.

- SimPy's ``Environment._eid`` (its event-id counter) and ``_queue``: ``processed_events``
  counts the events a run processed without wrapping ``step`` (which would tax every event).
- SimPy's ``_queue``, ``_eid`` and ``_now``: ``sim.model.agenda`` puts the model's calls on
  SimPy's queue without an event object each.
- ``ProcessPoolExecutor._processes``: ``LocalPool.close(cancel=True)`` terminates the workers
  of the batches in flight instead of waiting for them.
"""

from __future__ import annotations

import time
from typing import Any

import psutil
import pytest
import simpy

from sim.model import agenda as agenda_module
from sim.model.agenda import Agenda, Environment
from sim.model.engine import processed_events, simulate
from sim.sweep.execute import LocalPool
from tests.builders import build, one_site


def test_processed_events_counts_what_simpy_processed() -> None:
    """Read once, after the run (reading draws one event id, as scheduling an event does)."""
    part, whole = simpy.Environment(), simpy.Environment()
    for env in (part, whole):
        for delay in (1, 2, 3, 4, 5):
            env.timeout(delay)
    part.run(until=2.5)  # the timeouts at 1 and 2, and the stop event at 2.5
    whole.run(until=10)  # all five, and the stop event
    assert processed_events(part) == 3
    assert processed_events(whole) == 6


def test_processed_events_matches_a_count_of_every_step() -> None:
    """The figure the manifest reports equals counting each step of a real replication (the
    model's ``agenda.process``: SimPy's ``step``, which the model's event loop calls)."""
    steps = {"count": 0}
    original = agenda_module.process

    def counted(env: Environment, queue: list[Any], time: agenda_module.Time) -> None:
        steps["count"] += 1
        original(env, queue, time)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(agenda_module, "process", counted)
        rep = simulate(build(one_site()), seed=1, replication=0)
    assert rep.simpy_events == steps["count"] > 100


def test_a_cancelled_local_pool_terminates_its_busy_workers() -> None:
    pool = LocalPool(1)
    try:
        future = pool.submit(time.sleep, 600)
        deadline = time.monotonic() + 60
        while not future.running() and time.monotonic() < deadline:
            time.sleep(0.05)
        assert future.running()
        workers = list(pool.pool._processes.values())  # the attribute close() reads
        assert len(workers) == 1
        assert workers[0].is_alive()
        process = psutil.Process(workers[0].pid)
    finally:
        started = time.monotonic()
        pool.close(cancel=True)
    gone, alive = psutil.wait_procs([process], timeout=20)
    assert alive == []
    assert gone == [process]
    assert time.monotonic() - started < 20  # not the 600 s the task would have taken


def test_an_agenda_call_runs_in_simpy_s_order_and_same_moment_calls_share_one_event() -> None:
    """``sim.model.agenda`` pushes its calls onto SimPy's private queue (``_queue``, ``_eid``,
    ``_now``): they must run at their time, in the order a timeout made then would."""
    env = Environment()
    agenda = Agenda(env)
    order: list[str] = []
    env.timeout(1).callbacks.append(lambda _: order.append("timeout before"))
    agenda.later(1, lambda _: order.append("call 1"))
    agenda.later(1, lambda _: order.append("call 2"))  # joins call 1: nothing scheduled between
    env.timeout(1).callbacks.append(lambda _: order.append("timeout after"))
    agenda.later(0.5, lambda _: order.append("earlier call"))
    env.run(until=2)
    assert order == ["earlier call", "timeout before", "call 1", "call 2", "timeout after"]
    assert processed_events(env) == 5  # two timeouts, two calls, the stop event
