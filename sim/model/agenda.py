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
from heapq import heappop, heappush
from types import FunctionType
from typing import Any, Final

import simpy
from simpy.core import EmptySchedule, StopSimulation
from simpy.events import NORMAL as SIMPY_NORMAL
from simpy.events import URGENT, Event, EventPriority

Callback = Callable[[Any], None]

NORMAL: Final[int] = int(SIMPY_NORMAL)
"""SimPy's priority of an ordinary event (a timeout), which the model's calls take."""


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


class Ids:
    """SimPy's event ids (its ``Environment._eid``, an ``itertools.count`` there): the same 0,
    1, 2..., keeping the last one handed out, so that an ``Agenda`` can tell whether anything
    was scheduled after its last call without SimPy's ``schedule`` being wrapped."""

    __slots__ = ("last",)

    def __init__(self) -> None:
        self.last = -1

    def __iter__(self) -> Ids:
        return self

    def __next__(self) -> Any:  # Any: mypyc's iterator slot takes an object, not an int
        self.last += 1
        return self.last


class Time:
    """The time of the event SimPy is processing, days: SimPy's ``now``, kept where the model's
    compiled modules read it without looking up an attribute of SimPy's environment (a Python
    object: its attributes are found by name), and where the environment keeps it."""

    __slots__ = ("at", "now")

    def __init__(self, at: Any) -> None:
        self.now = float(at)
        """The time as a number (compiled: a native one)."""
        self.at = at
        """The time as SimPy has it (an int before the first event at an int time)."""


class Environment(simpy.Environment):
    """SimPy's environment, its event ids counted by ``Ids`` (so that an ``Agenda`` can tell
    whether anything was scheduled after its last call), its time kept in ``time`` too, and,
    compiled, its event loop run as native code (``run``)."""

    def __init__(self, initial_time: float = 0) -> None:
        self.time = Time(initial_time)
        super().__init__(initial_time)
        self.ids = Ids()
        self._eid = self.ids  # type: ignore[assignment]  # what SimPy asks of it: next()

    @property
    def _now(self) -> Any:
        """SimPy's time, kept in ``time`` (setting it is a native field's write each event,
        not an attribute's in the environment's dictionary)."""
        return self.time.at

    @_now.setter
    def _now(self, value: Any) -> None:
        self.time.now = value
        self.time.at = value

    @property
    def now(self) -> Any:
        """SimPy's ``now``, read from ``time``."""
        return self.time.at

    def step(self) -> None:
        """Process the next event: SimPy's ``Environment.step`` (simpy 4.1), line for line
        (``process``)."""
        process(self, self._queue, self.time)

    def run(self, until: Any = None) -> Any:
        """SimPy's ``Environment.run`` (simpy 4.1), line for line, but for its loop (``loop``):
        compiled, it is native code calling ``process`` natively, where SimPy's interpreted
        loop would call the method ``step`` once an event."""
        if until is not None:
            if not isinstance(until, Event):
                # Assume that *until* is a number if it is not None and not an event.
                at = until if isinstance(until, int) else float(until)
                if at <= self.now:
                    raise ValueError(
                        f"until ({at}) must be greater than the current simulation time"
                    )
                # Schedule the event before all regular timeouts.
                until = Event(self)
                until._ok = True
                until._value = None
                self.schedule(until, URGENT, at - self.now)
            elif until.callbacks is None:
                # Until event has already been processed.
                return until.value
            until.callbacks.append(StopSimulation.callback)
        try:
            loop(self, self._queue, self.time)
        except StopSimulation as exc:
            return exc.args[0]  # == until.value
        except EmptySchedule:
            if until is not None:
                assert not until.triggered
                raise RuntimeError(
                    f'No scheduled events left but "until" event was not triggered: {until}'
                ) from None
        return None


def loop(env: Environment, queue: list[Any], time: Time) -> None:
    """Process events until SimPy's ``StopSimulation`` or ``EmptySchedule`` (``run``)."""
    while True:
        process(env, queue, time)


def process(env: Environment, queue: list[Any], time: Time) -> None:
    """Process the next event of ``env`` (its ``queue``, its ``time``): SimPy's ``step``."""
    if not queue:
        raise EmptySchedule
    entry: tuple[Any, ...] = pop(queue) if NATIVE else heappop(queue)
    now, event = entry[0], entry[3]
    time.now = now  # SimPy's _now (Environment._now)
    time.at = now
    # Process callbacks of the event. Set the events callbacks to None immediately to
    # prevent concurrent modifications.
    callbacks: Any
    if isinstance(event, Call):  # the model's own (most events): its fields read natively
        callbacks, event.callbacks = event.callbacks, None
    else:
        callbacks, event.callbacks = event.callbacks, None
    try:
        for callback in callbacks:
            callback(event)
    except StopSimulation:
        # Reassociate any remaining callbacks with the event and reschedule the event to be
        # processed when the simulation resumes.
        event.callbacks = callbacks[callbacks.index(callback) + 1 :]
        env.schedule(event, EventPriority(-1))
        raise
    if isinstance(event, Call):  # always succeeded
        return
    if not event._ok and not hasattr(event, "_defused"):
        # The event has failed and has not been defused: crash the environment, with a
        # copy of the failure exception with a new traceback.
        exc = type(event._value)(*event._value.args)
        exc.__cause__ = event._value
        raise exc


def earlier(a: tuple[Any, ...], b: tuple[Any, ...]) -> bool:
    """Whether SimPy's queue entry ``a`` (time, priority, id, event) comes before ``b``: the
    tuples' order (ids are unique: events are never compared), compared as numbers."""
    at: float = a[0]
    bt: float = b[0]
    if at != bt:
        return at < bt
    ap: int = a[1]
    bp: int = b[1]
    if ap != bp:
        return ap < bp
    ai: int = a[2]
    bi: int = b[2]
    return ai < bi


def push(heap: list[Any], item: tuple[Any, ...]) -> None:
    """``heapq.heappush`` for SimPy's queue, its comparisons native (``earlier``): the same
    algorithm, so the same heap as heapq's, which SimPy's own ``schedule`` keeps."""
    heap.append(item)
    _sift_down(heap, 0, len(heap) - 1)


def pop(heap: list[Any]) -> Any:
    """``heapq.heappop`` for SimPy's queue, its comparisons native (``push``)."""
    last = heap.pop()
    if heap:
        top = heap[0]
        heap[0] = last
        _sift_up(heap, 0)
        return top
    return last


def _sift_down(heap: list[Any], start: int, pos: int) -> None:
    """As heapq's ``_siftdown``: the item at ``pos`` moved up toward ``start`` to its place
    (times compared here, ``earlier`` only on a tie)."""
    item: tuple[Any, ...] = heap[pos]
    when: float = item[0]
    while pos > start:
        parent_pos = (pos - 1) >> 1
        parent: tuple[Any, ...] = heap[parent_pos]
        then: float = parent[0]
        if when < then or (when == then and earlier(item, parent)):
            heap[pos] = parent
            pos = parent_pos
            continue
        break
    heap[pos] = item


def _sift_up(heap: list[Any], pos: int) -> None:
    """As heapq's ``_siftup``: the smaller child moved up until a leaf, then the item placed
    (``_sift_down``)."""
    end = len(heap)
    start = pos
    item = heap[pos]
    child = 2 * pos + 1
    while child < end:
        right = child + 1
        if right < end:
            left_item: tuple[Any, ...] = heap[child]
            right_item: tuple[Any, ...] = heap[right]
            left_t: float = left_item[0]
            right_t: float = right_item[0]
            if left_t > right_t or (left_t == right_t and not earlier(left_item, right_item)):
                child = right
        heap[pos] = heap[child]
        pos = child
        child = 2 * pos + 1
    heap[pos] = item
    _sift_down(heap, start, pos)


def _native() -> bool:
    """Whether this module runs compiled (its functions are then not Python functions)."""
    return not isinstance(_native, FunctionType)


NATIVE: Final[bool] = _native()
"""Compiled: SimPy's queue is kept by ``push`` and ``pop`` (native comparisons, ~3x fewer
instructions than heapq comparing tuples object by object) and the event loop is native code;
pure Python: by heapq and SimPy's loop, which are faster there."""


class Agenda:
    """Schedules the model's callbacks on an ``Environment``."""

    def __init__(self, env: Environment) -> None:
        self.env = env
        self.queue: list[Any] = env._queue
        """SimPy's heap of (time, priority, id, event) (the same list for the run's length)."""
        self.ids = env.ids
        self.time = env.time
        self.open: Call | None = None
        """The last call made: more calls for its moment join it while nothing else has been
        scheduled since and it has not run yet."""

    def later(self, delay: float, callback: Callback) -> None:
        """Run ``callback(call)`` ``delay`` days from now, after everything already scheduled
        for that moment (as a SimPy timeout would)."""
        when = self.time.now + delay
        last = self.open
        ids = self.ids
        if (
            last is not None
            and last.time == when
            and last.eid == ids.last
            and last.callbacks is not None
        ):
            last.callbacks.append(callback)
            return
        eid = ids.last + 1
        ids.last = eid
        call = Call(when, eid, callback)
        if NATIVE:
            push(self.queue, (when, NORMAL, eid, call))
        else:
            heappush(self.queue, (when, NORMAL, eid, call))
        self.open = call

    def every(self, period: float, action: Callable[[], None]) -> None:
        """Call ``action()`` every ``period`` days from ``period`` on (the next call is booked
        after the action, as a chained timeout would be)."""
        self.later(period, Every(self, period, action))


class Every:
    """A repeating call (``Agenda.every``), its own callback: no closure is made, nor a bound
    method each time it is booked."""

    def __init__(self, agenda: Agenda, period: float, action: Callable[[], None]) -> None:
        self.agenda = agenda
        self.period = period
        self.action = action

    def __call__(self, _: object) -> None:
        """Call the action, then book the next call."""
        self.action()
        self.agenda.later(self.period, self)
