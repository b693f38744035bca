"""The plate driver's logic over a simulated plate object (the real one needs a Pi):
only changed characters are written, custom characters are loaded, buttons are polled
with debounce, and the real library is imported only when the plate is chosen."""

from __future__ import annotations

import sys
import threading

import pytest

from drivers.lcd.plate import (
    PLATE_BUTTON_IDS,
    Debouncer,
    LcdUnavailable,
    PlateLcd,
    changed_runs,
)
from pysnac.screen import CUSTOM_CHARS, LCD_COLUMNS, Backlight, Button


class FakePlate:
    """Adafruit_CharLCDPlate's API over a character grid; records every call."""

    def __init__(self) -> None:
        self.grid = [[" "] * LCD_COLUMNS for _ in range(2)]
        self.cursor = (0, 0)
        self.calls: list[tuple] = []
        self.chars: dict[int, list[int]] = {}
        self.color = (0.0, 0.0, 0.0)
        self.held: set[int] = set()
        self.reads = 0

    def clear(self) -> None:
        self.calls.append(("clear",))
        self.grid = [[" "] * LCD_COLUMNS for _ in range(2)]

    def create_char(self, location: int, pattern: list[int]) -> None:
        self.chars[location] = pattern

    def set_cursor(self, col: int, row: int) -> None:
        self.calls.append(("set_cursor", col, row))
        self.cursor = (col, row)

    def message(self, text: str) -> None:
        self.calls.append(("message", text))
        col, row = self.cursor
        for ch in text:
            self.grid[row][col] = ch
            col += 1
        self.cursor = (col, row)

    def set_color(self, red: float, green: float, blue: float) -> None:
        self.color = (red, green, blue)

    def is_pressed(self, button: int) -> bool:
        self.reads += 1
        return button in self.held

    def rows(self) -> tuple[str, str]:
        return ("".join(self.grid[0]), "".join(self.grid[1]))


def test_changed_runs() -> None:
    old = ("bob        0:01 ", "SAS k3x9   Vol 7")
    new = ("bob        0:02 ", "SAS k3x9   MUTE ")
    assert changed_runs(old, new) == [(14, 0, "2"), (11, 1, "MUTE ")]
    assert changed_runs(new, new) == []
    assert changed_runs(("ab", "cd"), ("xb", "cy")) == [(0, 0, "x"), (1, 1, "y")]


def test_only_changed_characters_are_written() -> None:
    fake = FakePlate()
    lcd = PlateLcd(fake)
    lcd.show(("bob        0:01", "SAS k3x9   Vol 7"))
    first = lcd.cells_written
    lcd.show(("bob        0:02", "SAS k3x9   Vol 7"))
    assert lcd.cells_written - first == 1
    assert fake.rows() == ("bob        0:02 ", "SAS k3x9   Vol 7")
    before = len(fake.calls)
    lcd.show(("bob        0:02", "SAS k3x9   Vol 7"))
    assert len(fake.calls) == before  # nothing changed, nothing sent


def test_custom_characters_and_backlight_are_programmed() -> None:
    fake = FakePlate()
    lcd = PlateLcd(fake)
    assert {slot: tuple(p) for slot, p in fake.chars.items()} == CUSTOM_CHARS
    lcd.set_backlight(Backlight.VIOLET)
    assert fake.color == (1.0, 0.0, 1.0)
    lcd.close()
    assert fake.color == (0.0, 0.0, 0.0)


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


def test_poll_delivers_debounced_presses() -> None:
    fake = FakePlate()
    lcd = PlateLcd(fake, debounce_s=0.04)
    got: list[Button] = []
    lcd.attach(got.append)
    fake.held = {PLATE_BUTTON_IDS[Button.UP]}
    assert lcd.poll_once(0.00) == []
    assert lcd.poll_once(0.02) == []  # not held long enough yet
    assert lcd.poll_once(0.05) == [Button.UP]
    assert lcd.poll_once(0.10) == []
    assert got == [Button.UP]
    assert fake.reads == 4 * len(Button)  # one read per button per poll


def test_serve_polls_at_a_modest_rate_until_stopped() -> None:
    fake = FakePlate()
    lcd = PlateLcd(fake, poll_hz=50)
    stop = threading.Event()
    enough = threading.Event()
    original = fake.is_pressed

    def counting(button: int) -> bool:
        if fake.reads >= 10 * len(Button):
            enough.set()
        return original(button)

    fake.is_pressed = counting  # type: ignore[method-assign]
    server = threading.Thread(target=lcd.serve, args=(stop,))
    server.start()
    assert enough.wait(5.0)
    stop.set()
    server.join(5.0)
    assert not server.is_alive()
    assert lcd.poll_period_s == pytest.approx(0.02)


def test_real_library_is_imported_only_for_the_plate() -> None:
    import drivers.lcd
    import drivers.lcd.plate  # noqa: F401

    assert "Adafruit_CharLCD" not in sys.modules
    with pytest.raises(LcdUnavailable, match="try --lcd terminal"):
        PlateLcd()
