"""Each replication's discrete event outcomes, held as small integer codes.

A replication reports ~10 outcomes (event id, aspect, yes or no; ``Ledger.outcomes``). Kept as
lists of tuples they cost ~1 KiB a replication and, being small objects that outlive the
ledger they were made beside, pin the allocator's pages that ledger used (measured: ~4 KiB a
replication of resident memory). Here each distinct (event, aspect) gets a number once, and a
replication's outcomes are a row of ``number * 2 + yes`` (-1 pads shorter rows): 4 bytes an
outcome, in one array.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

COLUMNS = ["replication", "event", "aspect", "outcome"]


class OutcomeTable:
    """The outcomes of ``count`` replications, put in any order, read as one table."""

    def __init__(self, count: int) -> None:
        self.count = count
        self.keys: list[tuple[str, str]] = []
        """(event id, aspect) of each number."""
        self.numbers: dict[tuple[str, str], int] = {}
        self.codes = np.full((count, 0), -1, dtype=np.int32)
        """(replication, k): the k-th outcome's number * 2 + yes, -1 past the last."""

    def put(self, rep: int, outcomes: Sequence[tuple[str, str, bool]]) -> None:
        """Store replication ``rep``'s outcomes, in the order they happened."""
        if len(outcomes) > self.codes.shape[1]:
            width = max(len(outcomes), 2 * self.codes.shape[1])
            wider = np.full((self.count, width), -1, dtype=np.int32)
            wider[:, : self.codes.shape[1]] = self.codes
            self.codes = wider
        row = [self._number(event, aspect) * 2 + bool(yes) for event, aspect, yes in outcomes]
        self.codes[rep] = -1
        self.codes[rep, : len(row)] = row

    def _number(self, event: str, aspect: str) -> int:
        key = (event, aspect)
        number = self.numbers.get(key)
        if number is None:
            number = self.numbers[key] = len(self.keys)
            self.keys.append(key)
        return number

    def of(self, rep: int) -> list[tuple[str, str, bool]]:
        """Replication ``rep``'s outcomes, as it reported them."""
        return [(*self.keys[c >> 1], bool(c & 1)) for c in self.codes[rep].tolist() if c >= 0]

    def frame(self) -> pd.DataFrame:
        """replication, event, aspect, outcome (bool): by replication, in the order each
        replication reported them."""
        rep, k = np.nonzero(self.codes >= 0)
        codes = self.codes[rep, k]
        events = np.array([e for e, _ in self.keys], dtype=object)
        aspects = np.array([a for _, a in self.keys], dtype=object)
        frame = pd.DataFrame(
            {
                "replication": rep.astype(np.int64),
                "event": events[codes >> 1],
                "aspect": aspects[codes >> 1],
                "outcome": (codes & 1).astype(bool),
            }
        )
        return frame[COLUMNS]
