"""The one state-machine thread: it alone triggers the machine, draining a queue of events.

Buttons, the timer thread, the call service's network and audio workers and the
rendezvous only `post` events (thread-safe, never blocking). The loop turns each into a
trigger: a `CallEvent` by its name, a `ButtonPress` through the current state's button map
(`states.trigger_for`), a `TimerFired` only if it belongs to the current visit of the
current state (a timeout posted just before the state changed is stale and dropped).
A trigger the table does not accept in the current state is logged and ignored, never
fatal. After each event the loop re-arms the state's timers if the state changed, tells
the observers, and redraws the LCD. `handle` is the same step, callable synchronously by
tests with no thread at all. Stopping posts the table's `shut_down` trigger last: the
machine ends any call through its own hooks and settles in the final `off` state.
"""

from __future__ import annotations

import logging
import queue
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import states
from drivers.clock import MonotonicClock
from drivers.lcd.base import LcdDriver
from pysnac.call_events import CallEvent
from pysnac.screen import Button
from pysnac_fsm import table

log = logging.getLogger(__name__)

STOP_JOIN_S = 5.0  # how long stop() waits for the thread


@dataclass(frozen=True)
class ButtonPress:
    button: Button


@dataclass(frozen=True)
class TimerFired:
    trigger: str
    generation: int  # the state visit that armed it


@dataclass(frozen=True)
class InternalEvent:
    """Posted by the model itself (a `fault` when a call-service method raised)."""

    trigger: str
    data: Any = None


class _Stop:
    pass


Event = CallEvent | ButtonPress | TimerFired | InternalEvent
Observer = Callable[[str, str, Any, float], None]  # (old state, new state, model, now)

_TRIGGERS_BY_STATE = {state: table.triggers_from(state) for state in table.ALL_STATES}


class StateMachineLoop:
    """Owns the machine; `post` from any thread, `handle` on the machine's thread only."""

    def __init__(
        self,
        model: Any,
        lcd: LcdDriver,
        timers: Any,
        clock: Any = None,
    ) -> None:
        self.model = model
        self.lcd = lcd
        self.timers = timers
        self.clock = clock if clock is not None else MonotonicClock()
        self.generation = 0
        self.ignored = 0
        self.handled = 0
        self.observers: list[Observer] = []
        # Called on this thread after each event and at least every `heartbeat_s` (the
        # systemd watchdog: a hung machine stops calling it). None: the loop only blocks.
        self.heartbeat: Callable[[], None] | None = None
        self.heartbeat_s: float | None = None
        self._queue: queue.Queue[Event | _Stop] = queue.Queue()
        self._thread: threading.Thread | None = None

    # --- any thread ----------------------------------------------------------------------
    def post(self, event: Event) -> None:
        self._queue.put(event)

    def post_button(self, button: Button) -> None:
        self._queue.put(ButtonPress(button))

    def post_internal(self, trigger: str, data: Any = None) -> None:
        self._queue.put(InternalEvent(trigger, data))

    def start(self) -> None:
        self.enter_initial_state()
        self._thread = threading.Thread(target=self._run, name="state-machine", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        if self._thread is None:
            return
        self._queue.put(_Stop())
        self._thread.join(STOP_JOIN_S)
        self._thread = None

    # --- the state-machine thread --------------------------------------------------------
    def _run(self) -> None:
        while True:
            try:
                event = self._queue.get(timeout=self.heartbeat_s)
            except queue.Empty:
                event = None
            if self.heartbeat is not None:
                self.heartbeat()
            if event is None:
                continue
            if isinstance(event, _Stop):
                self.shut_down()
                return
            try:
                self.handle(event)
            except Exception:  # a bug must not stop the phone
                log.exception("state machine: handling %r failed", event)

    def drain(self) -> None:
        """Handle every queued event now, on the calling thread (tests and benches only:
        never while the thread runs)."""
        while True:
            try:
                event = self._queue.get_nowait()
            except queue.Empty:
                return
            if not isinstance(event, _Stop):
                self.handle(event)

    def enter_initial_state(self) -> None:
        now = self.clock.now()
        self._arm_timers(self.model.state)
        self.render(now)

    def _translate(self, event: Event) -> tuple[str | None, Any]:
        if isinstance(event, CallEvent):
            return event.name.value, event.data
        if isinstance(event, ButtonPress):
            return states.trigger_for(self.model.state, event.button), None
        if isinstance(event, TimerFired):
            if event.generation != self.generation:
                return None, None  # armed by an earlier visit: stale
            return event.trigger, None
        if isinstance(event, InternalEvent):
            return event.trigger, event.data
        raise TypeError(f"not an event: {event!r}")

    def handle(self, event: Event) -> bool:
        """Process one event; True when the machine took a transition."""
        now = self.clock.now()
        before = self.model.state
        trigger, data = self._translate(event)
        if trigger is None or trigger not in _TRIGGERS_BY_STATE[before]:
            self.ignored += 1
            log.info("ignored %s in state %s", _describe(event), before)
            return False
        done = bool(self.model.trigger(trigger, now=now, data=data))
        self.handled += 1
        after = self.model.state
        if after != before:
            self.generation += 1
            self._arm_timers(after)
            for observer in self.observers:
                observer(before, after, self.model, now)
        self.render(now)
        return done

    def _arm_timers(self, state: str) -> None:
        self.timers.cancel_all()
        for seconds, trigger, repeats in table.STATE_TIMERS.get(state, []):
            self.timers.schedule(
                seconds, TimerFired(trigger, self.generation), seconds if repeats else None
            )

    def render(self, now: float) -> None:
        state = self.model.state
        self.lcd.show(states.render(self.model.context(now)))
        self.lcd.set_backlight(states.backlight(state))

    def shut_down(self) -> None:
        """The phone is stopping: fire `shut_down` (the table ends any call, its exit
        hooks stop media) and drop every timer. On the machine's thread (or a test's)."""
        try:
            self.handle(InternalEvent(table.SHUT_DOWN))
        except Exception:  # stopping must finish even past a bug
            log.exception("state machine: shutting down failed")
        self.timers.cancel_all()


def _describe(event: Event) -> str:
    if isinstance(event, CallEvent):
        return f"event {event.name.value}"
    if isinstance(event, ButtonPress):
        return f"button {event.button.value}"
    if isinstance(event, TimerFired):
        return f"timer {event.trigger}#{event.generation}"
    return f"internal {event.trigger}"
