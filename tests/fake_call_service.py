"""A simulated CallService that records every call, and a synchronous phone harness.

`FakeCallService` implements the `CallService` contract without network or sound: it
records each method call, tracks whether media is running (and every contract violation:
start twice, media started outside in_call), can be told to raise from a method, and lets
a test post `CallEvent`s as the real service would. `SyncPhone` wires the real model,
machine and loop with no threads: `press`, `event`, `advance` (steps a manual clock and
delivers due timers) each run to completion before returning, so tests need no sleeps.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from drivers.clock import ManualClock
from drivers.lcd.headless import HeadlessLcd
from pysnac.call_events import CallEvent, EventName, LinkStats
from pysnac.contacts import Contact
from pysnac.history import History
from pysnac.phonebook import PHONEBOOK_FILE_NAME, Phonebook
from pysnac.runtime.loop import StateMachineLoop
from pysnac.runtime.timers import Timers
from pysnac.screen import Button
from pysnac_fsm import table
from pysnac_fsm.machine import build_machine
from pysnac_fsm.phone import PhoneModel

BOB = Contact("bob", bytes(range(32)), ("127.0.0.1", 47001))
CAROL = Contact("carol", bytes(range(1, 33)))


class FakeCallService:
    """Records calls; `media_running` mirrors start_media/stop_media; `violations` lists
    every breach of the contract the state machine must keep."""

    def __init__(self, post: Callable[[CallEvent], None] | None = None) -> None:
        self.post = post
        self.calls: list[tuple[str, tuple[Any, ...]]] = []
        self.media_running = False
        self.media_starts = 0
        self.media_stops = 0
        self.starts = 0
        self.closes = 0
        self.violations: list[str] = []
        self.fail: dict[str, Exception] = {}
        self.stats = LinkStats(quality_bars=3, frames_sent=10)
        self.state_of: Callable[[], str] | None = None  # set by the harness

    def names(self) -> list[str]:
        return [name for name, _ in self.calls]

    def _record(self, name: str, *args: Any) -> None:
        self.calls.append((name, args))
        if name in self.fail:
            raise self.fail[name]

    def emit(self, name: EventName, data: Any = None) -> None:
        assert self.post is not None
        self.post(CallEvent(name, data))

    def start(self) -> None:
        self.starts += 1

    def close(self) -> None:  # the runtime's lifecycle: counted, not in `calls`
        self.closes += 1

    def wait_ready(self, timeout_s: float) -> bool:
        return True

    @property
    def local_address(self) -> tuple[str, int] | None:
        return None

    def place_call(self, contact: Contact) -> None:
        self._record("place_call", contact)

    def cancel_call(self) -> None:
        self._record("cancel_call")

    def answer_call(self) -> None:
        self._record("answer_call")

    def reject_call(self) -> None:
        self._record("reject_call")

    def hang_up(self) -> None:
        self._record("hang_up")

    def start_media(self) -> None:
        if self.media_running:
            self.violations.append("start_media while running")
        if self.state_of is not None and self.state_of() != table.IN_CALL:
            self.violations.append(f"start_media in {self.state_of()}")
        self.media_starts += 1
        self.media_running = True
        self._record("start_media")

    def stop_media(self) -> None:
        self.media_stops += 1
        self.media_running = False
        self._record("stop_media")

    def set_volume(self, level: int) -> None:
        self._record("set_volume", level)

    def set_muted(self, muted: bool) -> None:
        self._record("set_muted", muted)

    def start_tone(self, tone: str, level: int) -> None:
        self._record("start_tone", str(tone), level)

    def stop_tone(self) -> None:
        self._record("stop_tone")

    def link_stats(self) -> LinkStats:
        self._record("link_stats")
        return self.stats


class SyncPhone:
    """The real model, machine, loop and LCD twin, driven synchronously by the test."""

    def __init__(self, folder: Path, contacts: tuple[Contact, ...] = (BOB, CAROL)) -> None:
        self.clock = ManualClock(start=1000.0)
        self.service = FakeCallService()
        self.lcd = HeadlessLcd()
        self.history = History(folder / "history.json", wall_clock=lambda: 1.7e9)
        self.phonebook = Phonebook(folder / PHONEBOOK_FILE_NAME, contacts)
        self.saved_names: list[str] = []
        self.model = PhoneModel(
            self.service,
            post=lambda trigger, data: self.loop.post_internal(trigger, data),
            phonebook=self.phonebook,
            history=self.history,
            device_name="alice",
            fingerprint="F3KQ-9XMA-7TRE",
            save_device_name=self.saved_names.append,
        )
        self.machine = build_machine(self.model)
        self.timers = Timers(lambda event: None, self.clock)  # never started: we pop timers
        self.loop = StateMachineLoop(self.model, self.lcd, self.timers, clock=self.clock)
        self.service.post = self.loop.post
        self.service.state_of = lambda: self.model.state
        self.lcd.attach(self.loop.post_button)
        self.loop.enter_initial_state()

    @property
    def state(self) -> str:
        return self.model.state

    @property
    def lines(self) -> tuple[str, str]:
        return self.lcd.lines

    def drain(self) -> None:
        self.loop.drain()

    def press(self, *buttons: Button) -> None:
        for button in buttons:
            self.lcd.press(button)
            self.drain()

    def event(self, name: EventName, data: Any = None) -> None:
        self.loop.post(CallEvent(name, data))
        self.drain()

    def advance(self, seconds: float) -> None:
        """Move time on and deliver every timer that falls due."""
        self.clock.advance(seconds)
        for event in self.timers.pop_due():
            self.loop.post(event)
        self.drain()
