"""A sound device missing at power-on is named on the home screen and in the log
(pointing to `main.py devices`) before anyone tries to call, and the phone stays up."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from demo.phones import make_phone_folder, write_config
from demo.pulse_rig import PulseRig
from drivers.lcd.headless import HeadlessLcd
from pysnac.config import load_config
from pysnac.runtime.app import Phone
from pysnac.screen import GLYPH_CUT, Button
from pysnac_fsm import table
from tests.audio_phones import start_headless_phone, wait_until

WAIT_S = 10.0


@pytest.fixture
def start_phone(tmp_path: Path) -> Iterator:
    started: list[Phone] = []

    def start(**audio: object) -> tuple[Phone, HeadlessLcd]:
        alice, bob = make_phone_folder(tmp_path, "alice"), make_phone_folder(tmp_path, "bob")
        config = load_config(write_config(alice, [bob], **audio))  # type: ignore[arg-type]
        phone, lcd = start_headless_phone(config, check_audio_at_start=True)
        started.append(phone)
        return phone, lcd

    yield start
    for phone in started:
        phone.stop()


def assert_named_and_still_up(
    phone: Phone, lcd: HeadlessLcd, shown: str, device: str, caplog: pytest.LogCaptureFixture
) -> None:
    expected = shown if len(shown) <= 16 else shown[:15] + GLYPH_CUT  # a visible cut
    assert lcd.wait_for(lambda lines: lines[1].rstrip() == expected, WAIT_S), lcd.lines
    assert phone.state == table.IDLE
    logged = [r.getMessage() for r in caplog.records if r.levelno >= logging.ERROR]
    assert any(device in m and "main.py devices" in m for m in logged), logged
    lcd.press(Button.RIGHT)  # the phone still works: its menu opens
    assert phone.wait_for_state(table.MENU, WAIT_S)


def test_a_missing_wav_microphone_is_named_at_power_on(
    start_phone, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    missing = tmp_path / "no-such-mic.wav"
    phone, lcd = start_phone(audio="wav", input_wav=missing, output_wav=tmp_path / "out.wav")
    assert_named_and_still_up(phone, lcd, f"No {missing.name}", str(missing), caplog)


def test_a_missing_pyaudio_device_is_named_at_power_on(
    start_phone, pulse_rig: PulseRig, caplog: pytest.LogCaptureFixture
) -> None:
    _, speaker = pulse_rig.device_names("a")
    phone, lcd = start_phone(audio="pyaudio", input_device="pysnac_mic_z", output_device=speaker)
    assert_named_and_still_up(phone, lcd, "No pysnac_mic_z", "pysnac_mic_z", caplog)


def test_a_present_device_leaves_the_home_screen_as_it_is(start_phone, pulse_rig: PulseRig) -> None:
    mic, speaker = pulse_rig.device_names("a")
    phone, lcd = start_phone(audio="pyaudio", input_device=mic, output_device=speaker)
    # The check's audio_status event is the only one this phone gets: wait until handled.
    assert wait_until(lambda: phone.loop.handled >= 1, WAIT_S)
    assert phone.model.audio_problem == ""
    assert lcd.lines[1].startswith("Sel:call")
