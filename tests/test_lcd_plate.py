"""The plate driver with Adafruit's real library on the bus-level twin of the plate
(drivers/lcd/plate_emulator.py): only changed characters are written, the glyphs land in
CGRAM, all five buttons cost one I2C read per poll, presses are debounced, bus errors do
not stop the phone, and the library loads with no platform detection."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from drivers.lcd.plate import (
    PLATE_BUTTON_IDS,
    Debouncer,
    LcdUnavailable,
    PlateLcd,
    changed_runs,
    rom_text,
)
from drivers.lcd.plate_emulator import PlateEmulator
from pysnac.screen import CUSTOM_CHARS, GLYPH_BARS, GLYPH_CHECK, Backlight, Button

REPO = Path(__file__).resolve().parent.parent


def plate(**options) -> tuple[PlateLcd, PlateEmulator]:
    board = PlateEmulator()
    return PlateLcd(board, sleep=board.sleep, **options), board


def test_changed_runs() -> None:
    old = ("bob        0:01 ", "SAS k3x9   Vol 7")
    new = ("bob        0:02 ", "SAS k3x9   MUTE ")
    assert changed_runs(old, new) == [(14, 0, "2"), (11, 1, "MUTE ")]
    assert changed_runs(new, new) == []
    assert changed_runs(("ab", "cd"), ("xb", "cy")) == [(0, 0, "x"), (1, 1, "y")]


def test_start_up_programs_glyphs_and_lights_white() -> None:
    lcd, board = plate()
    assert board.lcd.four_bit and board.lcd.two_lines and board.lcd.display_on
    assert not board.lcd.cursor_on and not board.lcd.blink_on
    assert {slot: board.lcd.glyph(slot) for slot in CUSTOM_CHARS} == CUSTOM_CHARS
    assert board.lines() == (" " * 16, " " * 16)
    assert board.backlight() is Backlight.WHITE and lcd.backlight is Backlight.WHITE
    assert board.lcd.busy_violations == 0


def test_the_display_shows_what_was_drawn() -> None:
    lcd, board = plate()
    lcd.show((GLYPH_CHECK + "alice", "bars" + GLYPH_BARS[3]))
    assert board.lines() == (GLYPH_CHECK + "alice".ljust(15), "bars" + GLYPH_BARS[3] + " " * 11)
    assert lcd.lines == board.lines()


def test_only_changed_characters_are_written() -> None:
    lcd, board = plate()
    lcd.show(("bob        0:01", "SAS k3x9   Vol 7"))
    writes, data = board.writes, board.lcd.data_writes
    lcd.show(("bob        0:02", "SAS k3x9   Vol 7"))
    assert board.lcd.data_writes - data == 1  # one character code reached the HD44780
    assert board.writes - writes == 2 * 9  # set-address and the character: 9 port writes each
    assert board.lines() == ("bob        0:02 ", "SAS k3x9   Vol 7")
    before = board.transactions
    lcd.show(("bob        0:02", "SAS k3x9   Vol 7"))
    assert board.transactions == before  # nothing changed, nothing sent


def test_characters_the_rom_lacks_are_shown_as_question_marks() -> None:
    assert rom_text("a\\b~c\u00e9\n") == "a?b?c??"
    lcd, board = plate()
    lcd.show(("Zo\u00eb", "x\\y"))
    assert board.lines() == ("Zo?".ljust(16), "x?y".ljust(16))
    assert lcd.lines == ("Zo\u00eb".ljust(16), "x\\y".ljust(16))  # what the screen asked for
    lcd.show(("Zoe", "x\\y"))
    assert board.lines()[0] == "Zoe".ljust(16)


def test_backlight_colours_and_close() -> None:
    lcd, board = plate()
    for colour in (Backlight.VIOLET, Backlight.TEAL, Backlight.RED):
        lcd.set_backlight(colour)
        assert board.backlight() is colour
    lcd.show(("bye", ""))
    lcd.close()
    assert board.backlight() is Backlight.OFF
    assert board.lines() == (" " * 16, " " * 16)


def test_the_driver_waits_out_clear_and_home() -> None:
    """The emulated controller counts commands latched while it is busy: none with the
    driver's waits; without any wait, the command after a clear arrives too early."""
    lcd, board = plate()
    lcd.show(("x", "y"))
    lcd.close()
    assert board.lcd.busy_violations == 0
    hurried = PlateEmulator()
    PlateLcd(hurried, sleep=lambda _s: None)
    assert hurried.lcd.busy_violations > 0


def test_debouncer_ignores_bounces_and_reports_one_press() -> None:
    deb = Debouncer(debounce_s=0.04)
    samples = [(0.00, True), (0.01, False), (0.02, True), (0.03, True), (0.05, True), (0.07, True)]
    reported = [t for t, level in samples if deb.update(level, t)]
    assert reported == [0.07]  # the level held from 0.02; at 0.05 only 0.03 s had passed
    assert deb.stable
    assert not deb.update(True, 0.50)  # holding is not a new press
    assert not deb.update(False, 0.51)
    assert not deb.update(False, 0.56)  # release is not a press
    assert not deb.stable
    assert not deb.update(True, 0.60)
    assert deb.update(True, 0.65)


def test_one_i2c_read_per_poll_for_all_five_buttons() -> None:
    lcd, board = plate(debounce_s=0.04)
    got: list[Button] = []
    lcd.attach(got.append)
    before_reads, before_writes = board.reads, board.writes
    board.hold(Button.UP)
    assert lcd.poll_once(0.00) == []
    assert lcd.poll_once(0.02) == []  # not held long enough yet
    assert lcd.poll_once(0.05) == [Button.UP]
    assert lcd.poll_once(0.10) == []
    board.release(Button.UP)
    assert got == [Button.UP]
    assert board.reads - before_reads == 4 and board.port_a_reads == 4
    assert board.writes == before_writes  # polling writes nothing


@pytest.mark.parametrize("button", list(Button))
def test_each_button_is_wired_to_its_pin(button: Button) -> None:
    lcd, board = plate(debounce_s=0.04)
    board.press(button, reads=3)
    presses = [lcd.poll_once(0.03 * n) for n in range(6)]
    assert [b for batch in presses for b in batch] == [button]
    assert PLATE_BUTTON_IDS[button] in range(5)


def test_a_bouncing_contact_gives_one_press() -> None:
    lcd, board = plate(debounce_s=0.04)
    got: list[Button] = []
    lcd.attach(got.append)
    levels = [True, False, True, True, True, True, False, True, False, False, False, False]
    for n, level in enumerate(levels):  # polls 20 ms apart: bounce, hold, bounce, release
        (board.hold if level else board.release)(Button.SELECT)
        lcd.poll_once(0.02 * n)
    assert got == [Button.SELECT]


def test_serve_polls_until_stopped_and_finds_a_press() -> None:
    lcd, board = plate(poll_hz=50)
    got = threading.Event()
    lcd.attach(lambda _button: got.set())
    stop = threading.Event()
    server = threading.Thread(target=lcd.serve, args=(stop,))
    server.start()
    try:
        board.press(Button.LEFT, reads=4)
        assert board.wait_fingers_done(5.0)
        assert got.wait(5.0)
    finally:
        stop.set()
        server.join(5.0)
    assert not server.is_alive()
    assert lcd.poll_period_s == pytest.approx(0.02)


def test_bus_errors_are_counted_and_the_phone_goes_on(caplog) -> None:
    lcd, board = plate()
    board.unplugged = True
    lcd.show(("lost", ""))
    assert lcd.poll_once(1.0) == []
    lcd.set_backlight(Backlight.RED)
    assert lcd.bus_errors == 3
    assert sum("I2C error" in r.message for r in caplog.records) == 1  # logged once
    board.unplugged = False
    lcd.show(("lost", ""))  # the same screen again: the failed one is redrawn in full
    assert board.lines()[0].startswith("lost")


def test_no_plate_on_the_bus_is_a_clear_error() -> None:
    board = PlateEmulator(address=0x21)
    with pytest.raises(LcdUnavailable, match="no LCD plate answers at I2C address 0x20"):
        PlateLcd(board, sleep=board.sleep)


def test_no_i2c_bus_is_a_clear_error() -> None:
    with pytest.raises(LcdUnavailable, match=r"/dev/i2c-99"):
        PlateLcd(busnum=99)


IMPORT_CHECK = """
import sys
import Adafruit_GPIO.Platform as Platform
def refuse():
    raise RuntimeError("Could not determine platform.")
Platform.platform_detect = refuse  # as on a 64-bit Pi OS kernel
Platform.pi_version = Platform.pi_revision = refuse
try:
    import Adafruit_CharLCD
except RuntimeError as exc:
    print("plain import:", exc)
for name in [m for m in sys.modules if m.startswith("Adafruit_CharLCD")]:
    del sys.modules[name]
import drivers.lcd.plate
assert "Adafruit_CharLCD" not in sys.modules and "smbus2" not in sys.modules
from drivers.lcd.plate import PlateLcd
from drivers.lcd.plate_emulator import PlateEmulator
board = PlateEmulator()
lcd = PlateLcd(board, sleep=board.sleep)
lcd.show(("hello", "pi"))
print(board.lines()[0].strip(), board.lines()[1].strip())
print("RPi.GPIO" in sys.modules, "Adafruit_PureIO.smbus" in sys.modules)
import Adafruit_GPIO, Adafruit_GPIO.PWM, Adafruit_GPIO.I2C
print(Adafruit_GPIO.get_platform_gpio.__name__, Adafruit_GPIO.I2C.get_default_bus.__name__)
"""


def test_library_loads_and_runs_where_platform_detection_fails() -> None:
    """A fresh interpreter where detection raises (as on 64-bit Pi OS): the plain import
    fails, ours loads and drives the plate, with neither RPi.GPIO nor Adafruit_PureIO
    loaded, and the library's detection functions are restored afterwards."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    done = subprocess.run(
        [sys.executable, "-c", IMPORT_CHECK],
        capture_output=True,
        text=True,
        env=env,
        cwd=REPO,
        timeout=60,
        check=True,
    )
    assert done.stdout.splitlines() == [
        "plain import: Could not determine platform.",
        "hello pi",
        "False False",
        "get_platform_gpio get_default_bus",
    ]


def test_no_library_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import drivers.lcd.adafruit_plate as adafruit_plate

    def missing() -> None:
        raise ModuleNotFoundError("No module named 'Adafruit_CharLCD'")

    monkeypatch.setattr(adafruit_plate, "import_charlcd", missing)
    board = PlateEmulator()
    with pytest.raises(LcdUnavailable, match=r"needs Adafruit_CharLCD.*try --lcd terminal"):
        PlateLcd(board, sleep=board.sleep)
