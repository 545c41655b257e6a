"""Every replication's monthly series, held only for the combinations that ever carried tonnes.

A run keeps each replication's imports by (importer, origin, product, month) for the files and
bands it writes at the end, and its Quad series by (destination, origin, month). Most
combinations never carry anything (``kia_offensive``: 4 of 24 import combinations), so a dense
(replication, ..., month) array spends most of its memory on zeros: 11 KiB a replication, over
100 MiB at 10,000 replications. A ``SparseCube`` stores one (replication, month) column per
combination, made the first time a replication puts anything but +0.0 in it (the test is on
the bits, so -0.0 is kept as it is); every other value is +0.0. Reading a block back gives the
exact array a dense store would have held.
"""

from __future__ import annotations

import numpy as np


class SparseCube:
    """(replication, *combination axes, month) float64 values, zeros not stored.

    ``put`` takes one replication's (*combination axes, month) array, in any order of
    replications; ``block`` and ``part`` give dense copies of a range of replications and
    months, or of one value of the first axis.
    """

    def __init__(self, count: int, shape: tuple[int, ...]) -> None:
        self.count = count
        self.inner = tuple(shape)
        """One replication's shape: combination axes, then months."""
        self.columns: dict[int, np.ndarray] = {}
        """Flat combination index -> (replication, month) values, for combinations stored."""

    @property
    def shape(self) -> tuple[int, ...]:
        """The dense array's shape: (replication, *combination axes, month)."""
        return (self.count, *self.inner)

    @property
    def combinations(self) -> int:
        """How many combinations one replication has (stored or not)."""
        return int(np.prod(self.inner[:-1], dtype=np.int64))

    @property
    def months(self) -> int:
        """Length of the last axis."""
        return self.inner[-1]

    def put(self, rep: int, values: np.ndarray) -> None:
        """Store replication ``rep``'s (*combination axes, month) values."""
        flat = np.ascontiguousarray(values, dtype=np.float64)
        flat = flat.reshape(self.combinations, self.months)
        carried = np.flatnonzero(flat.view(np.uint64).any(axis=1)).tolist()
        for k in carried:
            column = self.columns.get(k)
            if column is None:
                column = self.columns[k] = np.zeros((self.count, self.months))
            column[rep] = flat[k]
        for k in self.columns.keys() - set(carried):
            self.columns[k][rep] = 0.0  # a replication put again (never in a run) reads zeros

    def block(self, reps: slice = slice(None), months: slice = slice(None)) -> np.ndarray:
        """Dense copy of replications ``reps`` and months ``months``: (rep, *axes, month)."""
        n_r = len(range(*reps.indices(self.count)))
        n_m = len(range(*months.indices(self.months)))
        out = np.zeros((n_r, self.combinations, n_m))
        for k, column in self.columns.items():
            out[:, k] = column[reps, months]
        return out.reshape(n_r, *self.inner[:-1], n_m)

    def dense(self) -> np.ndarray:
        """The whole dense array (as large as a dense store: for runs held in memory)."""
        return self.block()

    def part(self, index: int) -> np.ndarray:
        """Dense copy of every replication at one value of the first axis: (rep, *rest)."""
        rest = self.inner[1:]
        size = int(np.prod(rest[:-1], dtype=np.int64))
        out = np.zeros((self.count, size, self.months))
        for k, column in self.columns.items():
            if k // size == index:
                out[:, k % size] = column
        return out.reshape(self.count, *rest)
