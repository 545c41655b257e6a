"""The tally's shortcuts give the very bits of the plain arithmetic they replace.

A run's files must not change when the tally gets faster: binning flows into months, the peak
of the sites' total stock, the flow combinations and the CSV text are each checked against the
straightforward version (``reference_bin``, once ``Clock.bin``; a running loop; ``np.unique`` of
rows; ``to_csv``) for equality of every bit or byte, not closeness.
"""

from __future__ import annotations

import io
from datetime import date

import numpy as np
import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st

from sim.model.clock import Clock
from sim.results.columns import Spread, as_array
from sim.results.csv_text import write_csv
from sim.results.kpis import peak_total_stock

CLOCK = Clock(date(2025, 1, 1), date(2027, 12, 31))

flow = st.tuples(
    st.floats(0, CLOCK.horizon, allow_nan=False),
    st.sampled_from([0.0, 0.5, 7.0, 30.0, 45.25, 100.0, 400.0]),
    st.integers(0, 4),
    st.floats(0, 1e4, allow_nan=False),
    st.floats(0, 1e4, allow_nan=False),
)


def reference_bin(
    t0: np.ndarray, t1: np.ndarray, values: np.ndarray, keys: np.ndarray, n_keys: int
) -> np.ndarray:
    """The straightforward binning the tally replaced (once ``Clock.bin``): records within
    one month added with ``np.bincount``, those spanning a month boundary spread evenly over
    their interval with ``np.add.at``; shape (key, column, month)."""
    bounds, n_months = CLOCK.bounds, len(CLOCK.month_starts)
    out = np.zeros((n_keys, values.shape[1], n_months))
    first = np.clip(np.searchsorted(bounds, t0, side="right") - 1, 0, n_months - 1)
    last = np.clip(np.searchsorted(bounds, t1, side="left") - 1, 0, n_months - 1)
    last = np.where(t1 <= t0, first, last)
    inside = first == last
    flat = keys[inside] * n_months + first[inside]
    for c in range(values.shape[1]):
        out[:, c, :] += np.bincount(
            flat, weights=values[inside, c], minlength=n_keys * n_months
        ).reshape(n_keys, n_months)
    if not inside.all():
        across = ~inside
        a, b = t0[across][:, None], t1[across][:, None]
        width = b - a
        instant = width <= 0
        frac = np.clip((bounds[None, :] - a) / np.where(instant, 1.0, width), 0.0, 1.0)
        frac = np.where(instant, (bounds[None, :] > a).astype(float), frac)
        share = np.diff(frac, axis=1)
        for c in range(values.shape[1]):
            np.add.at(out[:, c, :], keys[across], share * values[across, c][:, None])
    return out


@settings(max_examples=200, deadline=None)
@given(st.lists(flow, max_size=60))
def test_binning_by_pieces_gives_clock_bin_bit_for_bit(records: list[tuple]) -> None:
    rec = np.array([(t, t + d, k, a, b) for t, d, k, a, b in records], dtype=float).reshape(-1, 5)
    t0, t1 = rec[:, 0], np.minimum(rec[:, 1], CLOCK.horizon)
    keys = rec[:, 2].astype(int)
    expected = reference_bin(t0, t1, rec[:, 3:5], keys, 5)
    got = Spread.of(CLOCK.bounds, t0, t1).bin(rec[:, 3:5], keys, 5)
    assert got.tobytes() == expected.tobytes()


def test_a_subset_of_pieces_bins_as_the_subset_of_records() -> None:
    rng = np.random.default_rng(3)
    t0 = rng.uniform(0, CLOCK.horizon - 60, 300)
    t1 = t0 + rng.choice([0.0, 7.0, 45.0], 300)
    values = rng.uniform(0, 50, (300, 2))
    keep = rng.random(300) < 0.4
    expected = reference_bin(t0[keep], t1[keep], values[keep], np.zeros(keep.sum(), dtype=int), 1)
    spread = Spread.of(CLOCK.bounds, t0, t1).subset(keep)
    got = spread.bin(values, np.zeros(300, dtype=int), 1)
    assert got.tobytes() == expected.tobytes()


def running_peak(samples: list[tuple[float, int, float]], n_sites: int) -> float:
    current = [0.0] * n_sites
    total = peak = 0.0
    for _, site, held in samples:
        total += held - current[site]
        current[site] = held
        peak = max(peak, total)
    return peak


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(0, 3), st.floats(0, 1e5, allow_nan=False)), max_size=50))
def test_the_peak_total_stock_is_the_running_loops(samples: list[tuple[int, float]]) -> None:
    rows = [(float(day), site, held) for day, (site, held) in enumerate(samples)]
    assert peak_total_stock(as_array(rows, 3)) == running_peak(rows, 4)


def test_records_become_the_array_numpy_makes_of_them() -> None:
    rows = [(0.5, 1, 2, 3, 4.25, 1e-9, 7, 8), (1.0, 2, 3, 4, 5.0, 6.0, 0, 1)]
    assert as_array(rows, 8).tobytes() == np.array(rows, dtype=float).tobytes()
    assert as_array([], 8).shape == (0, 8)


def csv_bytes(frame: pd.DataFrame, header: bool, float_format: str | None) -> tuple[str, str]:
    ours, theirs = io.StringIO(), io.StringIO()
    write_csv(frame, ours, header=header, float_format=float_format)
    frame.to_csv(theirs, index=False, header=header, float_format=float_format)
    return ours.getvalue(), theirs.getvalue()


names = st.text(alphabet='ab_,"\n 1', min_size=0, max_size=4)


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(names, st.integers(-5, 10**6), st.floats(-1e9, 1e12) | st.just(float("nan"))),
        max_size=8,
    ),
    st.booleans(),
)
def test_csv_text_is_to_csvs_bytes(rows: list[tuple[str, int, float]], header: bool) -> None:
    frame = pd.DataFrame(rows, columns=["name", "replication", "tonnes"]).astype(
        {"replication": np.int64, "tonnes": float}
    )
    ours, theirs = csv_bytes(frame, header, "%.6f")
    assert ours == theirs


def test_csv_text_of_a_long_plain_table_is_to_csvs_bytes() -> None:
    rng = np.random.default_rng(1)
    frame = pd.DataFrame(
        {
            "month": np.array(["2025-01", "2025-02", "2025-03"], dtype=object)[
                rng.integers(0, 3, 500)
            ],
            "replication": np.repeat(np.arange(50), 10),
            "site": pd.array(np.array(["pangwa", "chipwi"])[rng.integers(0, 2, 500)]),
            "tonnes": rng.exponential(300, 500) * rng.integers(0, 2, 500),
        }
    )
    for header in (True, False):
        ours, theirs = csv_bytes(frame, header, "%.6f")
        assert ours == theirs
