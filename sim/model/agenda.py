"""Callbacks on the SimPy clock without a Timeout per call, and same-moment calls batched.

The model's own steps (dispatch ticks, month ends, shipments reaching gates) need no event
object of their own: ``Agenda.later`` puts a small ``Call`` on SimPy's queue directly, which
SimPy processes as it would a timeout (its callbacks run at that time, in the queue's order).

Calls made one after another for the same moment, with nothing else scheduled in between (the
shipments of one dispatch that reach their gates together), share one ``Call``: SimPy would
have run them consecutively anyway, in the order they were made, so the outcome is identical
and the replication processes one event instead of several.
"""

from __future__ import annotations

from collections.abc import Callable
from heapq import heappush
from typing import Any

import simpy
from simpy.events import NORMAL

Callback = Callable[[Any], None]


class Call:
    """What SimPy's ``step`` needs of an event: callbacks to run, and that it succeeded."""

    __slots__ = ("callbacks", "eid", "time")

    _ok = True
    """Always succeeded (read by SimPy's ``step``; a class attribute: one less per call)."""
    _value = None

    def __init__(self, time: float, eid: int, callback: Callback) -> None:
        self.callbacks: list[Callback] | None = [callback]
        self.time = time
        self.eid = eid


class Environment(simpy.Environment):
    """SimPy's environment, remembering the id of the last event it scheduled (so that a
    ``Agenda`` can tell whether anything was scheduled after its last call)."""

    last_eid = -1

    def schedule(self, event: Any, priority: Any = NORMAL, delay: Any = 0) -> None:
        """Queue ``event`` at ``delay`` days from now (SimPy's order: time, priority, id)."""
        eid = next(self._eid)
        self.last_eid = eid
        heappush(self._queue, (self._now + delay, priority, eid, event))


class Agenda:
    """Schedules the model's callbacks on an ``Environment``."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.open: Call | None = None
        """The last call made: more calls for its moment join it while nothing else has been
        scheduled since and it has not run yet."""

    def later(self, delay: float, callback: Callback) -> None:
        """Run ``callback(call)`` ``delay`` days from now, after everything already scheduled
        for that moment (as a SimPy timeout would)."""
        env = self.env
        when = env._now + delay
        last = self.open
        if (
            last is not None
            and last.time == when
            and last.eid == env.last_eid
            and last.callbacks is not None
        ):
            last.callbacks.append(callback)
            return
        eid = next(env._eid)
        env.last_eid = eid
        call = Call(when, eid, callback)
        queue: list[Any] = env._queue  # SimPy's heap of (time, priority, id, event)
        heappush(queue, (when, NORMAL, eid, call))
        self.open = call

    def every(self, period: float, action: Callable[[], None]) -> None:
        """Call ``action()`` every ``period`` days from ``period`` on (the next call is booked
        after the action, as a chained timeout would be)."""

        def tick(_: object) -> None:
            action()
            self.later(period, tick)

        self.later(period, tick)
