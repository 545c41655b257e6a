"""What a run keeps per replication is exact: stored sparsely or as codes, it reads back as the
dense arrays and lists it replaces, value for value and bit for bit."""

from __future__ import annotations

import gc
from pathlib import Path

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim import load_scenario
from sim.model.engine import simulate
from sim.model.world import World
from sim.results.outcomes import OutcomeTable
from sim.results.sparse import SparseCube
from sim.results.tally import run_replications
from tests.builders import build, one_site

ROOT = Path(__file__).resolve().parent.parent
SHAPE = (2, 3, 2, 5)  # importer, origin, product, month


@st.composite
def cubes(draw: st.DrawFn) -> np.ndarray:
    """Replications x SHAPE, most combinations zero, some -0.0, NaN and tiny values."""
    count = draw(st.integers(0, 6))
    dense = np.zeros((count, *SHAPE))
    flat = dense.reshape(count, 12, SHAPE[-1])  # a view: 2 x 3 x 2 combinations
    values = st.sampled_from([0.0, -0.0, 1.5, 5e-324, np.nan, 1e9])
    for _ in range(draw(st.integers(0, 8))):
        if count:
            r = draw(st.integers(0, count - 1))
            k = draw(st.integers(0, flat.shape[1] - 1))
            flat[r, k, draw(st.integers(0, SHAPE[-1] - 1))] = draw(values)
    return dense


def same_bits(a: np.ndarray, b: np.ndarray) -> bool:
    return a.shape == b.shape and a.tobytes() == b.tobytes()


@settings(max_examples=60, deadline=None)
@given(cubes(), st.randoms(use_true_random=False), st.data())
def test_a_sparse_cube_reads_back_what_a_dense_array_held(
    dense: np.ndarray, rng: object, data: st.DataObject
) -> None:
    cube = SparseCube(len(dense), SHAPE)
    order = list(range(len(dense)))
    rng.shuffle(order)  # type: ignore[attr-defined]
    for r in order:
        cube.put(r, dense[r])
    assert same_bits(cube.dense(), dense)
    r0, r1 = sorted(data.draw(st.lists(st.integers(0, len(dense)), min_size=2, max_size=2)))
    m0, m1 = sorted(data.draw(st.lists(st.integers(0, SHAPE[-1]), min_size=2, max_size=2)))
    assert same_bits(cube.block(slice(r0, r1), slice(m0, m1)), dense[r0:r1, ..., m0:m1])
    for i in range(SHAPE[0]):
        assert same_bits(cube.part(i), dense[:, i])


def test_a_sparse_cube_stores_only_combinations_that_carried() -> None:
    cube = SparseCube(100, SHAPE)
    values = np.zeros(SHAPE)
    values[1, 2, 0, 3] = 7.0
    values[0, 0, 1, 0] = -0.0  # not +0.0: kept, so that it reads back as written
    for r in range(100):
        cube.put(r, values)
    assert len(cube.columns) == 2
    assert np.signbit(cube.dense()[:, 0, 0, 1, 0]).all()


def test_putting_a_replication_again_replaces_it() -> None:
    cube = SparseCube(2, SHAPE)
    cube.put(0, np.ones(SHAPE))
    cube.put(0, np.zeros(SHAPE))
    assert not cube.dense().any()


def outcome_lists() -> st.SearchStrategy[list[list[tuple[str, str, bool]]]]:
    names = st.sampled_from(["offensive", "ban", "deal"])
    aspects = st.sampled_from(["happens", "captured:a", "captured:b"])
    outcome = st.tuples(names, aspects, st.booleans())
    return st.lists(st.lists(outcome, max_size=5), max_size=6)


@settings(max_examples=60, deadline=None)
@given(outcome_lists())
def test_outcome_codes_give_the_table_lists_gave(reps: list[list[tuple[str, str, bool]]]) -> None:
    table = OutcomeTable(len(reps))
    for r in reversed(range(len(reps))):  # any order
        table.put(r, reps[r])
    rows = [(r, e, a, bool(v)) for r, happened in enumerate(reps) for e, a, v in happened]
    expected = pd.DataFrame(rows, columns=["replication", "event", "aspect", "outcome"])
    expected = expected.astype({"replication": "int64", "outcome": "bool"})
    pd.testing.assert_frame_equal(table.frame(), expected)
    assert [table.of(r) for r in range(len(reps))] == [list(h) for h in reps]


def test_replications_leave_no_world_behind_and_the_collector_as_it_was() -> None:
    """Each replication's reference cycles are collected as it is tallied, not left to pile up,
    and the objects set aside meanwhile are handed back to the collector."""
    scenario = build(one_site())
    gc.collect()  # what earlier tests left
    frozen = gc.get_freeze_count()
    tallies = run_replications(scenario, 1, [0, 1])
    assert [t.replication for t in tallies] == [0, 1]
    assert gc.get_freeze_count() == frozen
    # counted before any collection of the test's own: a world still alive here was left for
    # later (unrelated garbage, say from another thread, does not count)
    left = [o for o in gc.get_objects() if isinstance(o, World)]
    assert not left, "a replication's world was left for later"


def test_a_replication_leaves_no_cyclic_garbage() -> None:
    """Reference counting frees a finished world at once (``World.dismantle``): the cyclic
    collector finds nothing of it, whatever was pending at the horizon (shipments on the road
    and at gates, SimPy processes of events, the next month's callbacks)."""
    scenario = load_scenario(ROOT / "scenarios" / "kia_offensive.yaml")
    simulate(scenario, 1, 0)  # anything made once (caches, imports) made before counting
    gc.collect()
    debug = gc.get_debug()
    gc.set_debug(gc.DEBUG_SAVEALL)
    try:
        simulate(scenario, 1, 1)
        gc.collect()
        left = list(gc.garbage)
    finally:
        gc.set_debug(debug)
        gc.garbage.clear()
    assert left == []
