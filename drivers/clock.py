"""Clocks for drivers that pace themselves: a real monotonic one and a hand-stepped one.

Pure cores take `now` as an argument; drivers that must block until a deadline (the WAV
and silence audio devices, one frame per 20 ms) take a `Clock`. `MonotonicClock` is the
real thing. `ManualClock` only moves when a test or a simulation calls `advance()`, so a
test can hold a device exactly at a frame boundary and check what happens there; its
`wait_until` blocks on a Condition (no sleeping) until the clock reaches the deadline or
the cancel event is set.
"""

from __future__ import annotations

import threading
import time
from typing import Protocol

CANCEL_POLL_S = 0.01  # how often ManualClock waiters look at their cancel event (real time)
EPSILON_S = 1e-9  # deadlines built from sums of float periods land a hair off


class Clock(Protocol):
    """Time in float seconds on some monotonic timeline, and a way to wait for it."""

    def now(self) -> float: ...

    def wait_until(self, deadline: float, cancel: threading.Event | None = None) -> bool:
        """Block until now() >= deadline (True) or cancel is set first (False)."""
        ...


class MonotonicClock:
    """The real clock: time.monotonic(); waits on an Event so cancel wakes it at once."""

    def now(self) -> float:
        return time.monotonic()

    def wait_until(self, deadline: float, cancel: threading.Event | None = None) -> bool:
        event = cancel if cancel is not None else threading.Event()
        while True:
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True
            if event.wait(remaining):
                return False


class ManualClock:
    """A clock that moves only by `advance(seconds)`; waiters wake when it passes them."""

    def __init__(self, start: float = 0.0) -> None:
        self._now = start
        self._cond = threading.Condition()
        self._waiters = 0

    def now(self) -> float:
        with self._cond:
            return self._now

    def advance(self, seconds: float) -> float:
        """Move time forward and wake every waiter whose deadline has come; returns now."""
        if seconds < 0:
            raise ValueError("a clock does not go backwards")
        with self._cond:
            self._now += seconds
            self._cond.notify_all()
            return self._now

    @property
    def waiters(self) -> int:
        """How many threads are blocked in wait_until right now."""
        with self._cond:
            return self._waiters

    def wait_for_waiters(self, count: int, timeout: float = 5.0) -> bool:
        """Block (real time) until at least `count` threads wait on this clock."""
        with self._cond:
            return self._cond.wait_for(lambda: self._waiters >= count, timeout)

    def wait_until(self, deadline: float, cancel: threading.Event | None = None) -> bool:
        with self._cond:
            self._waiters += 1
            self._cond.notify_all()
            try:
                while self._now < deadline - EPSILON_S:
                    if cancel is not None and cancel.is_set():
                        return False
                    # The timeout only lets a waiter notice `cancel`; time moves by advance().
                    self._cond.wait(CANCEL_POLL_S if cancel is not None else None)
                return not (cancel is not None and cancel.is_set())
            finally:
                self._waiters -= 1
                self._cond.notify_all()
