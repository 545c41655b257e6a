"""The model's clock: callbacks without timeouts, batched only where SimPy's order is kept;
random streams made on first draw, giving the draws an eager stream would.

The agenda puts calls on SimPy's queue itself (``Environment._queue``, entries ``(time,
priority, id, event)``, ids from ``_eid``), so these tests also pin the SimPy internals it reads.
"""

from __future__ import annotations

import heapq

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from sim.model.agenda import Agenda, Environment, pop, push
from sim.model.draws import Stream, stream
from sim.model.engine import processed_events


def test_calls_for_one_moment_made_back_to_back_are_one_event_run_in_order() -> None:
    env = Environment()
    agenda = Agenda(env)
    seen: list[str] = []
    for name in "abc":
        agenda.later(2.0, lambda _, n=name: seen.append(n))
    env.run()
    assert seen == ["a", "b", "c"]
    assert env.now == 2.0
    assert processed_events(env) == 1


def test_anything_scheduled_in_between_keeps_its_place_in_the_order() -> None:
    env = Environment()
    agenda = Agenda(env)
    seen: list[str] = []
    agenda.later(1.0, lambda _: seen.append("first"))
    env.timeout(1.0).callbacks.append(lambda _: seen.append("timeout"))
    agenda.later(1.0, lambda _: seen.append("after the timeout"))
    agenda.later(0.5, lambda _: seen.append("earlier"))
    agenda.later(1.0, lambda _: seen.append("last"))
    env.run()
    assert seen == ["earlier", "first", "timeout", "after the timeout", "last"]
    assert processed_events(env) == 5


def test_a_call_made_while_its_moment_runs_comes_after() -> None:
    env = Environment()
    agenda = Agenda(env)
    seen: list[str] = []

    def first(_: object) -> None:
        seen.append("first")
        agenda.later(0.0, lambda _: seen.append("booked by first"))

    agenda.later(1.0, first)
    agenda.later(1.0, lambda _: seen.append("second"))
    env.run()
    assert seen == ["first", "second", "booked by first"]


def test_every_ticks_at_each_period() -> None:
    env = Environment()
    agenda = Agenda(env)
    ticks: list[float] = []
    agenda.every(7.0, lambda: ticks.append(env.now))
    env.run(until=30)
    assert ticks == [7.0, 14.0, 21.0, 28.0]


def test_a_lazy_stream_draws_what_an_eager_one_does() -> None:
    root = np.random.SeedSequence(11, spawn_key=(3,))
    eager = stream(root, "event:x")
    lazy = Stream(root, "event:x")
    assert lazy.chance(1.0) == (eager.random() < 1.0)
    assert lazy.chance(0.0) == (eager.random() < 0.0)
    assert lazy.uniform(0, 10) == eager.uniform(0, 10)
    assert lazy.chance(0.5) == (eager.random() < 0.5)
    assert list(lazy.random(3)) == list(eager.random(3))


def test_a_stream_never_drawn_from_makes_no_generator() -> None:
    lazy = Stream(np.random.SeedSequence(1), "route:r")
    assert lazy.chance(1.0) is True
    assert lazy.chance(0.0) is False
    assert lazy._generator is None


@given(
    st.lists(
        st.tuples(
            st.sampled_from([0, 0.0, 1.5, 2, 2.0, 7.25]),  # SimPy's times: ints or floats
            st.integers(0, 1),  # URGENT, NORMAL
            st.booleans(),  # pushed by push (the agenda, compiled) or heapq (SimPy's schedule)
            st.booleans(),  # a pop after this push
        ),
        max_size=60,
    )
)
def test_the_native_heap_keeps_simpy_s_queue_in_heapq_s_order(
    steps: list[tuple[float, int, bool, bool]],
) -> None:
    """``push`` and ``pop`` (the compiled agenda's queue, comparing entries as numbers) and
    heapq (SimPy's ``schedule``) keep one queue between them, popped in the tuples' order:
    what a list kept sorted gives for the same pushes and pops."""
    heap: list[tuple[float, int, int, object]] = []
    plain: list[tuple[float, int, int, object]] = []
    popped, expected = [], []
    for eid, (time, priority, native, popping) in enumerate(steps):
        entry = (time, priority, eid, object())
        (push if native else heapq.heappush)(heap, entry)
        plain = sorted([*plain, entry], key=lambda e: e[:3])
        if popping:
            popped.append(pop(heap))
            expected.append(plain.pop(0))
    popped += [pop(heap) for _ in range(len(heap))]
    assert popped == expected + plain
