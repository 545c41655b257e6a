"""Simulation time: days since the scenario start, reported by calendar month."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Final

import numpy as np

DAYS_PER_MONTH: Final = 365.25 / 12
"""Average month length: a capacity of C tonnes per month flows at C / 30.44 tonnes per day."""


@dataclass(frozen=True)
class Clock:
    """Maps dates to simulation days and days to calendar months of the horizon.

    Day 0 is the start date; the horizon ends after the end date (inclusive), so a scenario from
    2024-01-01 to 2024-12-31 runs 366 days and reports 12 months.
    """

    start: date
    end: date
    month_starts: tuple[date, ...] = field(init=False)
    bounds: np.ndarray = field(init=False, repr=False)
    """Day offsets of month boundaries, first 0 and last the horizon: len(months) + 1 values."""
    edges: tuple[float, ...] = field(init=False, repr=False)
    """``bounds`` as plain floats, for the event loop: a numpy scalar in a delay would make
    SimPy's clock, and every time the model derives from it, a numpy scalar (several times
    slower to compute with than a float, for the same values)."""

    def __post_init__(self) -> None:
        months = []
        d = date(self.start.year, self.start.month, 1)
        while d <= self.end:
            months.append(d)
            d = date(d.year + (d.month == 12), d.month % 12 + 1, 1)
        edges = [0.0] + [float((m - self.start).days) for m in months[1:]] + [self.horizon]
        object.__setattr__(self, "month_starts", tuple(months))
        object.__setattr__(self, "bounds", np.array(edges))
        object.__setattr__(self, "edges", tuple(edges))

    @property
    def horizon(self) -> float:
        """Length of the run in days."""
        return float((self.end - self.start).days + 1)

    @property
    def labels(self) -> list[str]:
        """Months as YYYY-MM."""
        return [f"{m.year:04d}-{m.month:02d}" for m in self.month_starts]

    def day(self, d: date) -> float:
        """Days from the start to the beginning of date d."""
        return float((d - self.start).days)

    def date(self, day: float) -> date:
        """The calendar date on which simulation day ``day`` falls."""
        return self.start + timedelta(days=int(np.floor(day)))

    def month_of(self, day: float) -> int:
        """Index of the month containing ``day`` (clamped to the horizon)."""
        i = int(np.searchsorted(self.bounds, day, side="right")) - 1
        return min(max(i, 0), len(self.month_starts) - 1)
