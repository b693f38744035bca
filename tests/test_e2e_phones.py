"""Whole phones in one process: state machine, headless LCD and the real UDP call service.

Each phone is what `main.py run` builds (`build_phone` with `udp_call_service_factory`),
on loopback UDP, with silent sound devices; each phone's timers run on its own ManualClock, so the
30-second no-answer timeout takes no time. Buttons are pressed on the headless LCD and
the assertions read what its screen shows.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.phones import PhoneSpec, make_phone_folder, write_config
from drivers.clock import ManualClock
from drivers.lcd.headless import HeadlessLcd
from pysnac.config import load_config
from pysnac.runtime.app import Phone, build_phone
from pysnac.runtime.factory import udp_call_service_factory
from pysnac.screen import GLYPH_PHONE, Button
from pysnac_fsm import table

WAIT_S = 10.0


class Rig:
    """Phones built from configs written by the demo's helpers; each has its own clock,
    so one phone's timers can run out while the other's do not."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.clocks: dict[str, ManualClock] = {}
        self.phones: dict[str, tuple[Phone, HeadlessLcd]] = {}

    def build(
        self,
        specs: dict[str, PhoneSpec],
        pinned: dict[str, dict[str, bytes]],
        frame_ms: int | None = None,
    ) -> None:
        for name, spec in specs.items():
            peers = [other for other in specs.values() if other is not spec]
            write_config(
                spec, peers, audio="silence", pinned_keys=pinned.get(name), frame_ms=frame_ms
            )
            config = load_config(spec.folder / "config.toml")
            lcd = HeadlessLcd()
            self.clocks[name] = ManualClock(start=1000.0)
            phone = build_phone(
                config,
                lcd=lcd,
                call_service_factory=udp_call_service_factory(config),
                clock=self.clocks[name],
            )
            phone.start()
            self.phones[name] = (phone, lcd)

    def lcd(self, name: str) -> HeadlessLcd:
        return self.phones[name][1]

    def phone(self, name: str) -> Phone:
        return self.phones[name][0]

    def dial(self, caller: str, callee: str) -> None:
        lcd = self.lcd(caller)
        assert lcd.wait_for(lambda lines: "Sel:call" in lines[1], WAIT_S)
        for _ in range(len(self.phones)):  # the home screen is the dial: step to callee
            if lcd.wait_for(lambda lines: lines[0].startswith(GLYPH_PHONE + callee + " "), 0.5):
                break
            lcd.press(Button.DOWN)
        lcd.press(Button.SELECT)
        assert self.phone(caller).wait_for_state(table.DIALING, WAIT_S)

    def close(self) -> None:
        for phone, _ in self.phones.values():
            phone.stop()


@pytest.fixture
def rig(tmp_path: Path) -> Iterator[Rig]:
    rig = Rig(tmp_path)
    yield rig
    rig.close()


def specs(root: Path, *names: str) -> dict[str, PhoneSpec]:
    return {name: make_phone_folder(root, name) for name in names}


def test_no_answer_gives_up_after_the_ring_timeout(rig: Rig) -> None:
    rig.build(specs(rig.root, "alice", "bob"), {})
    rig.dial("alice", "bob")
    assert rig.phone("bob").wait_for_state(table.RINGING, WAIT_S)
    assert rig.lcd("alice").wait_for(lambda lines: "Ringing" in lines[1], WAIT_S)
    rig.clocks["alice"].advance(table.NO_ANSWER_S + 0.1)  # bob's ring timer does not run out
    assert rig.phone("alice").wait_for_state(table.HANGUP, WAIT_S)
    assert rig.lcd("alice").wait_for(lambda lines: lines[0].startswith("No answer"), WAIT_S)
    assert rig.phone("bob").wait_for_state(table.HANGUP, WAIT_S)  # the caller's CANCEL
    assert rig.lcd("bob").wait_for(lambda lines: lines[0].startswith("Missed call"), WAIT_S)
    for clock in rig.clocks.values():
        clock.advance(table.HANGUP_SCREEN_S + 0.1)
    assert rig.phone("alice").wait_for_state(table.IDLE, WAIT_S)
    assert rig.phone("bob").wait_for_state(table.IDLE, WAIT_S)


def test_man_in_the_middle_is_refused_and_the_lcd_says_so(rig: Rig) -> None:
    """alice's pinned key for bob is not the key of the phone that answers at bob's address."""
    phones = specs(rig.root, "alice", "bob")
    mallory_key = make_phone_folder(rig.root / "mallory", "mallory").public_key
    rig.build(phones, {"alice": {"bob": mallory_key}})
    rig.dial("alice", "bob")
    assert rig.phone("alice").wait_for_state(table.HANGUP, WAIT_S)
    assert rig.lcd("alice").wait_for(lambda lines: lines[0].startswith("Wrong peer key"), WAIT_S)
    assert table.IN_CALL not in {rig.phone("bob").state}
    assert rig.lcd("bob").screens[-1][1].startswith("Sel:call")  # bob never rang


def test_busy_then_a_normal_call(rig: Rig) -> None:
    rig.build(specs(rig.root, "alice", "bob", "carol"), {})
    rig.dial("alice", "bob")
    assert rig.phone("bob").wait_for_state(table.RINGING, WAIT_S)
    rig.lcd("bob").press(Button.SELECT)
    assert rig.phone("alice").wait_for_state(table.IN_CALL, WAIT_S)
    assert rig.phone("bob").wait_for_state(table.IN_CALL, WAIT_S)
    rig.dial("carol", "bob")
    assert rig.phone("carol").wait_for_state(table.HANGUP, WAIT_S)
    assert rig.lcd("carol").wait_for(lambda lines: lines[0].startswith("Busy"), WAIT_S)
    assert rig.phone("bob").state == table.IN_CALL
    threads_in_call = threading.active_count()
    rig.lcd("alice").press(Button.SELECT)
    assert rig.phone("alice").wait_for_state(table.HANGUP, WAIT_S)
    assert rig.phone("bob").wait_for_state(table.HANGUP, WAIT_S)
    assert threading.active_count() == threads_in_call - 4  # two media threads per phone
