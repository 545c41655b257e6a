"""The ledger: every tonne's movements, appended to plain lists inside the event loop.

Nothing here touches pandas; the Result builds its tables once, after the run.
Each flow record carries the interval over which it flowed (days) so that months get their
exact share, however the flows were batched.

Records are read as named tuples (``for p in ledger.passed: p.t0, p.site``) but written as
plain tuples: the event loop appends thousands a replication, and a named tuple costs about ten
times a plain one to make (~0.5 µs against ~0.05 µs). ``np.array(records, dtype=float)`` gives
a kind's numbers as a (records x fields) array without making any named tuple.

A forward run (``run_from``) reports from its scenario's start, day ``cut`` of the run: its
records are kept in that frame, days from the start (``clipped``, ``sim.model.engine.reported``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, NamedTuple, SupportsIndex, TypeVar, overload

import numpy as np


class Mined(NamedTuple):
    """Production on site over [t0, t1] days."""

    t0: float
    t1: float
    site: int
    group: int
    mhree: float
    lree: float


class Passage(NamedTuple):
    """Imports counted at a border, passing over [t0, t1] days."""

    t0: float
    t1: float
    crossing: int
    route: int
    site: int
    group: int
    mhree: float
    lree: float


class Delivery(NamedTuple):
    """Feedstock reaching a processor at day t."""

    t: float
    processor: int
    route: int
    site: int
    group: int
    mhree: float
    lree: float


class Processed(NamedTuple):
    """Separation output of a processor in a month of the horizon."""

    month: int
    processor: int
    mhree: float
    lree: float


class Loss(NamedTuple):
    """Product interdicted on the road at day t."""

    t: float
    route: int
    site: int
    group: int
    mhree: float
    lree: float


class Stock(NamedTuple):
    """A site's stockpile after a dispatch at day t, tonnes."""

    t: float
    site: int
    tonnes: float


class Note(NamedTuple):
    """What happened when: day, kind, subject, detail."""

    t: float
    kind: str
    subject: str
    detail: str


class Outcome(NamedTuple):
    """A random event's discrete outcome: ``happens``, or ``captured:<site>`` for an offensive."""

    event: str
    aspect: str
    happened: bool


class Supplied(NamedTuple):
    """What a supplier elsewhere delivered in a month of the horizon (levels and response)."""

    month: int
    supplier: int
    mhree: float
    lree: float


class Price(NamedTuple):
    """The feed price (USD/t) a processor paid in a month, under its market's price response."""

    month: int
    processor: int
    mhree: float
    lree: float


R = TypeVar("R", bound=tuple[Any, ...])


class Records(list[R]):
    """Records of one kind (a NamedTuple class), kept as the plain tuples the loop appended and
    read back as that kind."""

    __slots__ = ("kind",)

    def __init__(self, kind: type[R], rows: Iterable[tuple[Any, ...]] = ()) -> None:
        super().__init__(rows)  # type: ignore[arg-type]  # the kind's plain tuples
        self.kind: Any = kind

    def __iter__(self) -> Iterator[R]:
        return map(self.kind._make, super().__iter__())

    @overload
    def __getitem__(self, index: SupportsIndex) -> R: ...
    @overload
    def __getitem__(self, index: slice) -> list[R]: ...
    def __getitem__(self, index: SupportsIndex | slice) -> R | list[R]:
        if isinstance(index, slice):
            return [self.kind._make(row) for row in list.__getitem__(self, index)]
        row: R = self.kind._make(list.__getitem__(self, index))
        return row

    def rows(self) -> list[tuple[Any, ...]]:
        """The records as plain tuples (a copy): for loops over many records, where making a
        named tuple each would cost more than the loop's own work."""
        return list(super().__iter__())

    def __array__(self, dtype: Any = None, copy: Any = None) -> np.ndarray:
        return np.array(self.rows(), dtype=dtype)

    def __reduce__(self) -> tuple[Any, ...]:
        return (Records, (self.kind, self.rows()))

    if TYPE_CHECKING:  # appended as plain tuples (see the module's docstring)

        def append(self, record: tuple[Any, ...], /) -> None:
            """Record one row."""

        def extend(self, records: Iterable[tuple[Any, ...]], /) -> None:
            """Record several rows."""


@dataclass
class Ledger:
    """Records of one replication. Ids are indices into the World's name lists.

    mined:     ``Mined``      (t0, t1, site, group, mhree, lree)            production on site
    passed:    ``Passage``    (t0, t1, crossing, route, site, group, mhree, lree)  imports
    delivered: ``Delivery``   (t, processor, route, site, group, mhree, lree)  feedstock
    processed: ``Processed``  (month, processor, mhree, lree)               separation output
    lost:      ``Loss``       (t, route, site, group, mhree, lree)          interdicted
    stock:     ``Stock``      (t, site, tonnes)                  site stockpile after dispatch
    events:    ``Note``       (t, kind, subject, detail)                    what happened when
    supplied:  ``Supplied``   (month, supplier, mhree, lree)         other supply in a month
    prices:    ``Price``      (month, processor, mhree, lree)   feed price paid in a month,
               USD/t, for processors whose market has a price response
    outcomes:  ``Outcome``    (event id, aspect, yes or no)   each random event's discrete
               outcomes: ``happens`` (drawn, and started within the horizon) and, for an
               offensive that ended, ``captured:<site>``; what splits replications by outcome
    """

    mined: Records[Mined] = field(default_factory=lambda: Records(Mined))
    passed: Records[Passage] = field(default_factory=lambda: Records(Passage))
    delivered: Records[Delivery] = field(default_factory=lambda: Records(Delivery))
    processed: Records[Processed] = field(default_factory=lambda: Records(Processed))
    lost: Records[Loss] = field(default_factory=lambda: Records(Loss))
    stock: Records[Stock] = field(default_factory=lambda: Records(Stock))
    events: Records[Note] = field(default_factory=lambda: Records(Note))
    outcomes: Records[Outcome] = field(default_factory=lambda: Records(Outcome))
    supplied: Records[Supplied] = field(default_factory=lambda: Records(Supplied))
    prices: Records[Price] = field(default_factory=lambda: Records(Price))

    def event(self, t: float, kind: str, subject: str, detail: str = "") -> None:
        """Record a dated event (day, kind, what it concerns, details)."""
        self.events.append((t, kind, subject, detail))


def clipped(row: tuple[Any, ...], cut: float) -> tuple[Any, ...]:
    """A flow record (t0, t1, ..., mhree, lree) that began before day ``cut`` and ends after it:
    the share that flowed from ``cut`` on (flows are spread evenly over their interval, and its
    tonnes are its last two fields), in days from ``cut``."""
    t0, t1 = row[0], row[1]
    if t1 <= t0:
        return (t0 - cut, t1 - cut, *row[2:])
    start = max(t0, cut)
    kept = (t1 - start) / (t1 - t0)
    return (start - cut, t1 - cut, *row[2:-2], row[-2] * kept, row[-1] * kept)
