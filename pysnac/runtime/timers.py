"""Deadlines as events: one timer thread posts each due event; nothing sleeps in a callback.

`TimerQueue` is the pure part (a heap of deadlines; `due(now)` pops what is due, repeating
timers re-arm at deadline + period so they do not drift). `Timers` runs it on one thread
against an injectable clock: with `drivers.clock.MonotonicClock` it waits on an event until
the next deadline (a new, earlier deadline wakes it); with `ManualClock`, `advance(dt)`
moves time and wakes the thread, so tests step time by hand and never sleep. Cancelling is by handle
or all at once; an event already posted before a cancel is the runtime's to discard (it
checks a generation).
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from drivers.clock import Clock, MonotonicClock

MAX_WAIT_S = 1.0  # with nothing scheduled, the thread re-reads the clock this often


@dataclass(order=True)
class _Entry:
    deadline: float
    handle: int
    event: Any = field(compare=False)
    period_s: float | None = field(compare=False, default=None)


class TimerQueue:
    """Deadlines in a heap. Pure: time comes in as `now`."""

    def __init__(self) -> None:
        self._heap: list[_Entry] = []
        self._live: set[int] = set()
        self._handles = itertools.count(1)

    def schedule(
        self, now: float, delay_s: float, event: Any, period_s: float | None = None
    ) -> int:
        handle = next(self._handles)
        heapq.heappush(self._heap, _Entry(now + delay_s, handle, event, period_s))
        self._live.add(handle)
        return handle

    def cancel(self, handle: int) -> None:
        self._live.discard(handle)

    def cancel_all(self) -> None:
        self._live.clear()
        self._heap.clear()

    def next_deadline(self) -> float | None:
        while self._heap and self._heap[0].handle not in self._live:
            heapq.heappop(self._heap)
        return self._heap[0].deadline if self._heap else None

    def due(self, now: float) -> list[Any]:
        """Pop every event whose deadline is <= now (repeating ones re-armed)."""
        events = []
        while (deadline := self.next_deadline()) is not None and deadline <= now:
            entry = heapq.heappop(self._heap)
            events.append(entry.event)
            if entry.period_s:
                entry.deadline += entry.period_s
                if entry.deadline <= now:
                    # Far behind (suspended): skip the missed ticks but keep the phase, so
                    # a clock on screen still turns over on its whole seconds.
                    missed = (now - entry.deadline) // entry.period_s + 1
                    entry.deadline += missed * entry.period_s
                heapq.heappush(self._heap, entry)
            else:
                self._live.discard(entry.handle)
        return events


class Timers:
    """The timer thread: posts each due event with `post(event)`.

    `clock` is a `drivers.clock.Clock`: `MonotonicClock`, or `ManualClock` in tests.
    """

    def __init__(self, post: Callable[[Any], None], clock: Clock | None = None) -> None:
        self._post = post
        self.clock = clock if clock is not None else MonotonicClock()
        self._queue = TimerQueue()
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._stopping = False
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="timers", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        with self._lock:
            self._stopping = True
        self._wake.set()
        if self._thread is not None:
            self._thread.join()
            self._thread = None

    def schedule(self, delay_s: float, event: Any, period_s: float | None = None) -> int:
        with self._lock:
            handle = self._queue.schedule(self.clock.now(), delay_s, event, period_s)
        self._wake.set()
        return handle

    def cancel(self, handle: int) -> None:
        with self._lock:
            self._queue.cancel(handle)

    def cancel_all(self) -> None:
        with self._lock:
            self._queue.cancel_all()

    def next_deadline(self) -> float | None:
        with self._lock:
            return self._queue.next_deadline()

    def pop_due(self) -> list[Any]:
        """Pop the events due now (the thread posts them; tests may call this instead)."""
        with self._lock:
            return self._queue.due(self.clock.now())

    def _run(self) -> None:
        while True:
            with self._lock:
                if self._stopping:
                    return
                self._wake.clear()
                events = self._queue.due(self.clock.now())
                deadline = self._queue.next_deadline()
            for event in events:
                self._post(event)
            if events:
                continue
            target = deadline if deadline is not None else self.clock.now() + MAX_WAIT_S
            self.clock.wait_until(target, self._wake)
