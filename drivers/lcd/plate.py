"""The real LCD: Adafruit's 16x2 RGB LCD plate (HD44780 over an MCP23017 on I2C).

`Adafruit_CharLCD` is imported only here, and only when no plate object is injected: on
any machine but a Pi it raises at import time. The HD44780 is slow (each character is an
I2C transaction), so `show` writes only the runs of characters that changed
(`changed_runs`). The buttons have no interrupts on this plate: `serve` polls them at
BUTTON_POLL_HZ on the calling thread, paced by `stop.wait` (no busy loop), and each
button's `Debouncer` reports one press per stable release->press edge held for
BUTTON_DEBOUNCE_S. The library is not thread-safe, so every call into it holds one lock
(the state-machine thread draws while the main thread polls).
"""

from __future__ import annotations

import threading
import time
from typing import Any

from pysnac.errors import PysnacError
from pysnac.limits import BUTTON_DEBOUNCE_S, BUTTON_POLL_HZ
from pysnac.screen import CUSTOM_CHARS, LCD_ROWS, Backlight, Button, ButtonCallback, fit_line

# Adafruit_CharLCD's button numbers (SELECT, RIGHT, DOWN, UP, LEFT = 0..4).
PLATE_BUTTON_IDS = {
    Button.SELECT: 0,
    Button.RIGHT: 1,
    Button.DOWN: 2,
    Button.UP: 3,
    Button.LEFT: 4,
}


class LcdUnavailable(PysnacError, RuntimeError):
    """The plate driver cannot run here (no Pi, no library, no I2C)."""


def changed_runs(old: tuple[str, ...], new: tuple[str, ...]) -> list[tuple[int, int, str]]:
    """(column, row, text) for each run of cells that differ between two screens."""
    runs: list[tuple[int, int, str]] = []
    for row, (before, after) in enumerate(zip(old, new, strict=True)):
        column = 0
        while column < len(after):
            if column < len(before) and before[column] == after[column]:
                column += 1
                continue
            start = column
            while column < len(after) and (
                column >= len(before) or before[column] != after[column]
            ):
                column += 1
            runs.append((start, row, after[start:column]))
    return runs


class Debouncer:
    """One button: a level must hold BUTTON_DEBOUNCE_S to count; a press is reported on
    the stable edge released -> pressed. Pure: time comes in as `now`."""

    def __init__(self, debounce_s: float = BUTTON_DEBOUNCE_S) -> None:
        self.debounce_s = debounce_s
        self.stable = False
        self._raw = False
        self._since = 0.0

    def update(self, pressed: bool, now: float) -> bool:
        if pressed != self._raw:
            self._raw, self._since = pressed, now
            return False
        if pressed != self.stable and now - self._since >= self.debounce_s:
            self.stable = pressed
            return pressed
        return False


def _open_plate() -> Any:
    try:
        import Adafruit_CharLCD  # only here: it raises on import off a Raspberry Pi
    except (ImportError, RuntimeError) as exc:
        raise LcdUnavailable(
            f"the plate LCD needs a Raspberry Pi with the Adafruit plate ({exc}); "
            "try --lcd terminal"
        ) from exc
    try:
        return Adafruit_CharLCD.Adafruit_CharLCDPlate()
    except (OSError, RuntimeError) as exc:
        raise LcdUnavailable(f"no LCD plate on I2C: {exc}") from exc


class PlateLcd:
    """`LcdDriver` over an `Adafruit_CharLCDPlate` (or any object with its methods)."""

    def __init__(
        self,
        plate: Any = None,
        *,
        poll_hz: float = BUTTON_POLL_HZ,
        debounce_s: float = BUTTON_DEBOUNCE_S,
        clock: Any = time.monotonic,
    ) -> None:
        self.plate = plate if plate is not None else _open_plate()
        self.poll_period_s = 1.0 / poll_hz
        self.clock = clock
        self._io = threading.Lock()
        self._debouncers = {button: Debouncer(debounce_s) for button in Button}
        self._on_button: ButtonCallback | None = None
        self._backlight = Backlight.OFF
        blank = fit_line("")
        self._lines = (blank, blank)
        self.cells_written = 0
        with self._io:
            self.plate.clear()
            for slot, bitmap in CUSTOM_CHARS.items():
                self.plate.create_char(slot, list(bitmap))
        self.set_backlight(Backlight.WHITE)

    @property
    def lines(self) -> tuple[str, str]:
        return self._lines

    @property
    def backlight(self) -> Backlight:
        return self._backlight

    def show(self, lines: tuple[str, str]) -> None:
        new = (fit_line(lines[0]), fit_line(lines[1]))
        with self._io:
            for column, row, text in changed_runs(self._lines, new):
                self.plate.set_cursor(column, row)
                self.plate.message(text)
                self.cells_written += len(text)
            self._lines = new

    def set_backlight(self, colour: Backlight) -> None:
        with self._io:
            if colour is not self._backlight:
                self.plate.set_color(*(float(level) for level in colour.value))
                self._backlight = colour

    def attach(self, on_button: ButtonCallback) -> None:
        self._on_button = on_button

    def poll_once(self, now: float) -> list[Button]:
        """Read every button once; returns (and delivers) the debounced presses."""
        presses = []
        for button, debouncer in self._debouncers.items():
            with self._io:
                pressed = bool(self.plate.is_pressed(PLATE_BUTTON_IDS[button]))
            if debouncer.update(pressed, now):
                presses.append(button)
        for button in presses:
            if self._on_button is not None:
                self._on_button(button)
        return presses

    def serve(self, stop: threading.Event) -> None:
        """Poll the buttons at poll_hz until `stop` is set."""
        while not stop.wait(self.poll_period_s):
            self.poll_once(self.clock())

    def close(self) -> None:
        with self._io:
            self.plate.clear()
            self.plate.set_color(0.0, 0.0, 0.0)
        self._backlight = Backlight.OFF
        self._lines = tuple(fit_line("") for _ in range(LCD_ROWS))  # type: ignore[assignment]
