"""No audio, no ringing: a phone whose sound device is missing at power-on says so on its
own home screen and answers callers "no audio" (their LCD shows "bob: no audio") instead
of ringing and dropping the call. Two real phones over loopback UDP; bob's wav
microphone file does not exist, which the wav driver reports as a missing device."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.phones import make_phone_folder, write_config
from drivers.lcd.headless import HeadlessLcd
from pysnac.config import load_config
from pysnac.history import History
from pysnac.runtime.app import Phone
from pysnac.screen import Button
from pysnac_fsm import table
from tests.audio_phones import start_headless_phone, wait_until

WAIT_S = 10.0


@pytest.fixture
def phones(tmp_path: Path) -> Iterator[dict[str, tuple[Phone, HeadlessLcd]]]:
    alice, bob = make_phone_folder(tmp_path, "alice"), make_phone_folder(tmp_path, "bob")
    write_config(alice, [bob], audio="silence")
    write_config(bob, [alice], audio="wav", input_wav=tmp_path / "no-such-mic.wav")
    running: dict[str, tuple[Phone, HeadlessLcd]] = {}
    try:
        for spec in (alice, bob):
            config = load_config(spec.folder / "config.toml")
            running[spec.name] = start_headless_phone(config, check_audio_at_start=True)
        yield running
    finally:
        for phone, _ in running.values():
            phone.stop()


def test_a_phone_without_sound_says_so_and_callers_see_why(phones, tmp_path: Path) -> None:
    alice, alice_lcd = phones["alice"]
    bob, bob_lcd = phones["bob"]
    assert bob_lcd.wait_for(lambda lines: lines[1].startswith("No no-such-mic"), WAIT_S), (
        bob_lcd.lines
    )
    assert alice_lcd.wait_for(lambda lines: "Sel:" in lines[1], WAIT_S)  # alice's sound is fine
    alice_lcd.press(Button.SELECT)  # home is the dial: one press calls bob
    assert alice.wait_for_state(table.HANGUP, WAIT_S)
    assert alice_lcd.wait_for(lambda lines: lines[0].strip() == "bob: no audio", WAIT_S), (
        alice_lcd.lines
    )
    assert bob.state == table.IDLE  # never rang

    def bobs_recent_calls() -> list[tuple[str, str, str]]:
        history = History(tmp_path / "bob" / "history.json").records()
        return [(r.direction, r.peer, r.outcome) for r in history]

    assert wait_until(lambda: bobs_recent_calls() != [], WAIT_S)  # bob's own thread writes it
    assert bobs_recent_calls() == [("in", "alice", "Missed (no audio)")]
