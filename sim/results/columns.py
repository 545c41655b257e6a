"""A replication's ledger as numpy columns, and its flows cut at month boundaries, each done once.

Tallying a replication reads the same records several times: border passages make the import
cube, the Quad series and the flows table; production makes the timeline and the KPIs. Turning
a kind of record into a (records x fields) array, and working out which months each flow
record falls in, are done here once per replication, not once per use.

``Spread.bin`` gives the same float results, bit for bit, as the binning it replaced (the
model's ``Clock.bin``, now ``reference_bin`` in tests/test_tally_arithmetic.py): the same
products, summed in the same order into each (key, month) cell (the records within one month
first, then the pieces of those spanning months, each in record order), by one ``np.bincount``
instead of a dense records x months matrix and ``np.add.at``.

numpy only, no pandas: sweep workers import this module.
"""

from __future__ import annotations

from dataclasses import dataclass
from itertools import chain
from typing import Any

import numpy as np

from sim.model.ledger import Ledger


def as_array(records: list[Any], fields: int) -> np.ndarray:
    """Plain tuples of numbers as a (records x fields) float array (``np.fromiter``: ~1.5x as
    fast as ``np.array`` on a list of tuples, the same values)."""
    rows = list.__iter__(records)  # the plain tuples, not the named ones ``Records`` reads
    flat = np.fromiter(chain.from_iterable(rows), dtype=float, count=len(records) * fields)
    return flat.reshape(len(records), fields)


@dataclass(frozen=True)
class Columns:
    """Each numeric kind of a ledger's records as a float array, fields as in ``Ledger``."""

    mined: np.ndarray
    passed: np.ndarray
    delivered: np.ndarray
    processed: np.ndarray
    lost: np.ndarray
    stock: np.ndarray
    supplied: np.ndarray
    prices: np.ndarray

    @classmethod
    def of(cls, ledger: Ledger) -> Columns:
        """The ledger's records as arrays (the ledger itself is left as it is)."""
        return cls(
            mined=as_array(ledger.mined, 6),
            passed=as_array(ledger.passed, 8),
            delivered=as_array(ledger.delivered, 7),
            processed=as_array(ledger.processed, 4),
            lost=as_array(ledger.lost, 6),
            stock=as_array(ledger.stock, 3),
            supplied=as_array(ledger.supplied, 4),
            prices=as_array(ledger.prices, 4),
        )


@dataclass(frozen=True)
class Spread:
    """Flow records over [t0, t1] days cut into pieces, one per (record, month) it flows in.

    Records within one month come first, whole (share 1), in record order; then the pieces of
    records spanning a month boundary, record by record, each month's share of the record's
    interval (the old ``Clock.spread``'s arithmetic). Summing pieces in this order gives each
    cell the additions the old ``Clock.bin`` made, in its order.
    """

    record: np.ndarray
    """Piece -> index of its record."""
    month: np.ndarray
    share: np.ndarray
    """Of the record's tonnes in that month."""
    months: int

    @classmethod
    def of(cls, bounds: np.ndarray, t0: np.ndarray, t1: np.ndarray) -> Spread:
        """Pieces of records flowing over [t0, t1] (days), months bounded by ``bounds``
        (``Clock.bounds``: months + 1 day offsets)."""
        months = len(bounds) - 1
        first = np.clip(np.searchsorted(bounds, t0, side="right") - 1, 0, months - 1)
        last = np.clip(np.searchsorted(bounds, t1, side="left") - 1, 0, months - 1)
        last = np.where(t1 <= t0, first, last)
        inside = first == last
        across = np.flatnonzero(~inside)
        spans = last[across] - first[across] + 1
        record = np.repeat(across, spans)
        step = np.arange(len(record)) - np.repeat(np.cumsum(spans) - spans, spans)
        month = first[record] + step
        start, width = t0[record], t1[record] - t0[record]
        # as the old Clock.spread: each month's share is the difference of the clipped fractions of
        # the interval elapsed at its two bounds
        upper = np.clip((bounds[month + 1] - start) / width, 0.0, 1.0)
        lower = np.clip((bounds[month] - start) / width, 0.0, 1.0)
        whole = np.flatnonzero(inside)
        return cls(
            record=np.concatenate([whole, record]),
            month=np.concatenate([first[whole], month]),
            share=np.concatenate([np.ones(len(whole)), (upper - lower) * 1.0]),
            months=months,
        )

    def subset(self, keep: np.ndarray) -> Spread:
        """The pieces of the records where ``keep`` (a mask over records) is true, in order."""
        mask = keep[self.record]
        return Spread(self.record[mask], self.month[mask], self.share[mask], self.months)

    def bin(self, values: np.ndarray, keys: np.ndarray, n_keys: int) -> np.ndarray:
        """Sum the records' values (records x columns) into (key, column, month); ``keys`` maps
        each record to its key in [0, n_keys)."""
        cols = values.shape[1]
        out = np.zeros((n_keys, cols, self.months))
        cell = keys[self.record] * self.months + self.month
        for c in range(cols):
            weights = self.share * values[self.record, c]
            out[:, c, :] = np.bincount(cell, weights, minlength=n_keys * self.months).reshape(
                n_keys, self.months
            )
        return out
