"""The ledger: every tonne's movements, appended to plain lists inside the event loop.

Nothing here touches pandas; the Result builds its tables once, after the run.
Each flow record carries the interval over which it flowed (days) so that months get their
exact share, however the flows were batched.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass
class Ledger:
    """Records of one replication. Ids are indices into the World's name lists.

    mined:     (t0, t1, site, group, mhree, lree)               production on site
    passed:    (t0, t1, crossing, route, site, group, mhree, lree)  imports counted at a border
    delivered: (t, processor, route, site, group, mhree, lree)  feedstock reaching a processor
    processed: (month, processor, mhree, lree)                   separation output
    lost:      (t, route, site, group, mhree, lree)              interdicted on the road
    stock:     (t, site, tonnes)                                 site stockpile after dispatch
    events:    (t, kind, subject, detail)                        what happened when
    supplied:  (month, supplier, mhree, lree)                   other supply in a month
    outcomes:  (event id, aspect, yes or no)                     each random event's discrete
               outcomes: ``happens`` (drawn, and started within the horizon) and, for an
               offensive that ended, ``captured:<site>``; what splits replications by outcome
    """

    mined: list[tuple[float, float, int, int, float, float]] = field(default_factory=list)
    passed: list[tuple[float, float, int, int, int, int, float, float]] = field(
        default_factory=list
    )
    delivered: list[tuple[float, int, int, int, int, float, float]] = field(default_factory=list)
    processed: list[tuple[int, int, float, float]] = field(default_factory=list)
    lost: list[tuple[float, int, int, int, float, float]] = field(default_factory=list)
    stock: list[tuple[float, int, float]] = field(default_factory=list)
    events: list[tuple[float, str, str, str]] = field(default_factory=list)
    outcomes: list[tuple[str, str, bool]] = field(default_factory=list)
    supplied: list[tuple[int, int, float, float]] = field(default_factory=list)

    def event(self, t: float, kind: str, subject: str, detail: str = "") -> None:
        self.events.append((t, kind, subject, detail))
