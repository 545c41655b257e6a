"""Capacity over time: a known path (growth, planned cuts) times the changes events make.

A site's or processor's capacity at day t is its declared capacity times an opening ramp (see
``sim.model.site``, ``sim.model.processor``) times a *capacity factor*: the scenario's
``capacity_path`` (piecewise linear in time, known before the run) times the product of the
``capacity_change`` events in force (a step function, recorded as it happens). Tonnes over an
interval need the integral of opening ramp x factor: between breakpoints both the ramp and the
path are linear and the steps constant, so the integrand is a quadratic and Simpson's rule is
exact.
"""

from __future__ import annotations

import math
from bisect import bisect_left, bisect_right, insort


class Capacity:
    """The capacity factor of one site or processor (dimensionless, 1: as declared)."""

    def __init__(self, path: list[tuple[float, float]]) -> None:
        self.path = sorted(path)
        """(day, factor) points of the scenario's path; linear between, flat outside."""
        self.days = [d for d, _ in self.path]
        self.last_day = self.days[-1] if self.days else -math.inf
        self.last_factor = self.path[-1][1] if self.path else 1.0
        """The path's last point (the factor from then on): most days of a run are past it."""
        self.changes: dict[object, float] = {}
        """``capacity_change`` events in force, by a key of the event: their factors."""
        self.steps: list[tuple[float, float]] = [(-math.inf, 1.0)]
        """(day, product of the changes in force from that day): the history of the steps."""
        self.plain = not self.path
        self.cuts: list[float] | None = None
        """Days where the factor's slope or step may change (path points and steps), sorted:
        worked out on first use and again after each change (``integral`` reads it monthly)."""
        """No path and no change ever: the declared capacity throughout (a field, not worked
        out: sites read it on every settle and dispatch)."""

    def along_path(self, t: float) -> float:
        """The capacity factor on day ``t`` along the declared path of changes (1 without one)."""
        if t >= self.last_day:  # past the path's last point (most days of a long run)
            return self.last_factor
        days = self.days
        i = len(days) - 1  # bisect_right(days, t), found from the end: t is before the last day
        while i > 0 and days[i - 1] > t:
            i -= 1
        if i == 0:
            return self.path[0][1]
        (d0, f0), (d1, f1) = self.path[i - 1], self.path[i]
        return f0 + (f1 - f0) * (t - d0) / (d1 - d0)

    def step(self, t: float) -> float:
        """Product of the changes in force at day t."""
        steps = self.steps
        i = len(steps) - 1
        if i == 0:
            return 1.0
        while steps[i][0] > t:  # from the last (the first is at -inf): where bisect_right
            i -= 1  # (steps, (t, inf)) - 1 lands, without comparing tuples
        return steps[i][1]

    def at(self, t: float) -> float:
        """The capacity factor at day t."""
        if self.plain:
            return 1.0
        return self.along_path(t) * self.step(t)

    def change(self, now: float, key: object, factor: float | None) -> None:
        """A change begins (``factor``) or ends (None) at day ``now``."""
        if factor is None:
            self.changes.pop(key, None)
        else:
            self.changes[key] = factor
        self.plain = False
        self.cuts = None
        product = math.prod(self.changes.values())
        if self.steps[-1][0] == now:
            self.steps[-1] = (now, product)
        else:
            self.steps.append((now, product))

    def integral(self, t0: float, t1: float, open_day: float, ramp_days: float) -> float:
        """Integral over [t0, t1] (days) of opening ramp x capacity factor: capacity-days.

        Exact: Simpson's rule on each piece between breakpoints, where the integrand is a
        quadratic (a linear ramp times a linear path, times a constant step).
        """
        if self.plain:
            return ramped_days(t0, t1, open_day, ramp_days)
        a = max(t0, open_day)
        if t1 <= a:
            return 0.0
        cuts = self.cuts
        if cuts is None:
            cuts = self.cuts = sorted({*self.days, *(d for d, _ in self.steps[1:])})
        first, end = bisect_right(cuts, a), bisect_left(cuts, t1)
        full = open_day + ramp_days
        if first == end and not a < full < t1:  # one piece (most months of a long run)
            return self.piece(a, t1, open_day, ramp_days)
        inner = cuts[first:end]
        if a < full < t1 and full not in inner:
            insort(inner, full)
        total, lo = 0.0, a
        for hi in [*inner, t1]:
            total += self.piece(lo, hi, open_day, ramp_days)
            lo = hi
        return total

    def piece(self, lo: float, hi: float, open_day: float, ramp_days: float) -> float:
        """``integral`` between two breakpoints, where the integrand is a quadratic."""
        mid = 0.5 * (lo + hi)
        step = self.step(mid)
        if step == 0.0:
            return 0.0
        f_lo = opening(lo, open_day, ramp_days) * self.along_path(lo)
        f_mid = opening(mid, open_day, ramp_days) * self.along_path(mid)
        f_hi = opening(hi, open_day, ramp_days) * self.along_path(hi)
        return step * (hi - lo) * (f_lo + 4.0 * f_mid + f_hi) / 6.0


def opening(t: float, open_day: float, ramp_days: float) -> float:
    """Share of capacity available at day t: 0 before opening, linear up over the ramp, then 1."""
    if t < open_day:
        return 0.0
    if ramp_days <= 0:
        return 1.0
    return min(1.0, (t - open_day) / ramp_days)


def ramped_days(t0: float, t1: float, open_day: float, ramp_days: float) -> float:
    """Integral over [t0, t1] of the opening share: 0 before opening, linear up, then 1."""
    a, b = max(t0, open_day), t1
    if b <= a:
        return 0.0
    if ramp_days <= 0:
        return b - a
    full = open_day + ramp_days
    ramp_a, ramp_b = min(a, full), min(b, full)
    ramping = ((ramp_b - open_day) ** 2 - (ramp_a - open_day) ** 2) / (2 * ramp_days)
    return ramping + max(0.0, b - max(a, full))
