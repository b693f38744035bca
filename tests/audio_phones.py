"""Whole phones in this process with real sound devices, for the audio tests.

Each phone is what `main.py run` builds (`build_phone` with the UDP call service of
`udp_call_service_factory`, a headless LCD) from a config written by the demo's helpers,
on loopback UDP. A phone's `[audio]` names its devices, e.g. the private PulseAudio rig's
`pysnac_mic_a`/`pysnac_spk_a` (the rig's ALSA config must be active in this process, as
the `pulse_rig` fixture makes it). Buttons are pressed on the headless LCD; waits are on
the phone's state or the LCD's lines, each with a deadline.

PortAudio's initialisation is not thread-safe and two in-process phones would open their
devices at the same moment (a phone per process never does), so at most one phone here
should use the `pyaudio` driver; tests that need two real devices run phone processes.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from pathlib import Path

from demo.phones import PhoneSpec, make_phone_folder, write_config
from drivers.lcd.headless import HeadlessLcd
from pysnac.config import Config, load_config
from pysnac.runtime.app import Phone, build_phone
from pysnac.runtime.factory import udp_call_service_factory
from pysnac.screen import GLYPH_PHONE, Button
from pysnac_fsm import table

WAIT_S = 10.0
POLL_S = 0.02  # how often a condition with no notification (call statistics) is looked at


def wait_until(predicate: Callable[[], bool], timeout_s: float = WAIT_S) -> bool:
    """Poll `predicate` until it holds or the deadline passes (for counters nobody signals)."""
    deadline = time.monotonic() + timeout_s
    pause = threading.Event()
    while not predicate():
        if time.monotonic() >= deadline:
            return False
        pause.wait(POLL_S)
    return True


def start_headless_phone(config: Config, **build: object) -> tuple[Phone, HeadlessLcd]:
    """A phone as `main.py run` builds it from `config` (UDP call service, a headless LCD),
    started; `build` goes to `build_phone` (e.g. check_audio_at_start)."""
    lcd = HeadlessLcd()
    phone = build_phone(
        config,
        lcd=lcd,
        call_service_factory=udp_call_service_factory(config),
        **build,  # type: ignore[arg-type]
    )
    phone.start()
    return phone, lcd


class InProcessPhones:
    """Named phones on loopback, each pinning all the others; `close()` stops them all."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.specs: dict[str, PhoneSpec] = {}
        self.audio: dict[str, dict[str, str]] = {}
        self.phones: dict[str, tuple[Phone, HeadlessLcd]] = {}

    def add(
        self,
        name: str,
        *,
        audio: str = "pyaudio",
        input_device: str = "default",
        output_device: str = "default",
    ) -> None:
        self.specs[name] = make_phone_folder(self.root, name)
        self.audio[name] = {
            "audio": audio,
            "input_device": input_device,
            "output_device": output_device,
        }

    def start(self) -> None:
        for name, spec in self.specs.items():
            peers = [other for other in self.specs.values() if other is not spec]
            write_config(spec, peers, **self.audio[name])  # type: ignore[arg-type]
            config = load_config(spec.folder / "config.toml")
            self.phones[name] = start_headless_phone(config)
        for phone, _ in self.phones.values():
            assert phone.service.wait_ready(WAIT_S)

    def phone(self, name: str) -> Phone:
        return self.phones[name][0]

    def lcd(self, name: str) -> HeadlessLcd:
        return self.phones[name][1]

    def expect_state(self, name: str, state: str, timeout_s: float = WAIT_S) -> None:
        assert self.phone(name).wait_for_state(state, timeout_s), (
            f"{name} is in {self.phone(name).state}, not {state}; LCD {self.lcd(name).lines}"
        )

    def call(self, caller: str, callee: str) -> None:
        """`caller` dials `callee` (its only or first contact is chosen by name)."""
        lcd = self.lcd(caller)
        self.expect_state(caller, table.IDLE)
        for _ in range(len(self.specs)):  # the home screen is the dial: step to callee
            if lcd.wait_for(lambda lines: lines[0].startswith(GLYPH_PHONE + callee + " "), 0.5):
                break
            lcd.press(Button.DOWN)
        lcd.press(Button.SELECT)
        self.expect_state(caller, table.DIALING)

    def answer(self, callee: str) -> None:
        self.expect_state(callee, table.RINGING)
        self.lcd(callee).press(Button.SELECT)

    def connect(self, caller: str, callee: str) -> None:
        self.call(caller, callee)
        self.answer(callee)
        self.expect_state(caller, table.IN_CALL)
        self.expect_state(callee, table.IN_CALL)

    def dismiss(self, name: str) -> None:
        """Select on the hang-up screen, back to Idle."""
        self.expect_state(name, table.HANGUP)
        self.lcd(name).press(Button.SELECT)
        self.expect_state(name, table.IDLE)

    def close(self) -> None:
        for phone, _ in self.phones.values():
            phone.stop()
        self.phones.clear()
