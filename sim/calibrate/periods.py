"""Periods of reported figures, as trade statistics state them: a year, a half-year, a quarter,
a month or a span of months.

``2024``, ``2024-H1``, ``2024-Q3``, ``2024-12`` and ``2024-01..2024-09`` each name a run of
whole calendar months; a figure over a period is the sum (or, for a stock, the peak) over them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date

PERIOD_PATTERN = r"^\d{4}(-(0[1-9]|1[0-2])(\.\.\d{4}-(0[1-9]|1[0-2]))?|-H[12]|-Q[1-4])?$"
"""What a period looks like (checked by the targets schema before ``parse`` is called)."""

_MONTH = re.compile(r"^(\d{4})-(\d{2})$")


@dataclass(frozen=True, order=True)
class Month:
    """A calendar month."""

    year: int
    month: int

    @classmethod
    def of(cls, text: str) -> Month:
        """The month written ``YYYY-MM``; ValueError otherwise."""
        match = _MONTH.match(text)
        if match is None:
            raise ValueError(f"not a month: {text!r}")
        return cls(int(match.group(1)), int(match.group(2)))

    @property
    def label(self) -> str:
        """The month as written, ``YYYY-MM``."""
        return f"{self.year:04d}-{self.month:02d}"

    @property
    def index(self) -> int:
        """Months since year 0: consecutive months differ by one."""
        return self.year * 12 + self.month - 1

    def plus(self, months: int) -> Month:
        """The month ``months`` later (earlier when negative)."""
        i = self.index + months
        return Month(i // 12, i % 12 + 1)

    @property
    def first_day(self) -> date:
        """The month's first day."""
        return date(self.year, self.month, 1)

    @property
    def last_day(self) -> date:
        """The month's last day."""
        after = self.plus(1).first_day
        return date.fromordinal(after.toordinal() - 1)


@dataclass(frozen=True)
class Period:
    """A run of whole months, first to last inclusive, and how it was written."""

    text: str
    first: Month
    last: Month

    @property
    def months(self) -> list[str]:
        """Its months as ``YYYY-MM`` labels, in order."""
        return [self.first.plus(i).label for i in range(self.length)]

    @property
    def length(self) -> int:
        """How many months the period spans, both ends included."""
        return self.last.index - self.first.index + 1

    @property
    def end(self) -> date:
        """Its last day: a figure over the period is known once this day is over."""
        return self.last.last_day


def parse(text: str) -> Period:
    """A period from its text (see the module docstring); ValueError when it names none."""
    if ".." in text:
        first_text, last_text = text.split("..", 1)
        first, last = Month.of(first_text), Month.of(last_text)
        if last < first:
            raise ValueError(f"span {text!r} ends before it starts")
        return Period(text, first, last)
    if _MONTH.match(text):
        month = Month.of(text)
        return Period(text, month, month)
    year = int(text[:4])
    suffix = text[5:]
    if not suffix:
        return Period(text, Month(year, 1), Month(year, 12))
    size = 6 if suffix[0] == "H" else 3
    first = Month(year, (int(suffix[1]) - 1) * size + 1)
    return Period(text, first, first.plus(size - 1))
