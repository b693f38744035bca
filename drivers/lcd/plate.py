"""The real LCD: Adafruit's 16x2 RGB LCD plate (HD44780 over an MCP23017 on I2C).

The plate is driven by Adafruit_CharLCD's own classes (`drivers.lcd.adafruit_plate`, which
imports the library without its platform detection) over an `smbus2.SMBus`; neither is
imported until a plate is opened, so this module loads anywhere. Tests and
`--lcd plate-emulated` hand it the bus-level twin (`drivers.lcd.plate_emulator`) instead.

The HD44780 is slow (each character is nine I2C writes), so `show` writes only the runs of
characters that changed (`changed_runs`), and only characters the controller's ROM shows as
themselves (anything else becomes `?`). The buttons have no interrupt line on this plate:
`serve` polls them at BUTTON_POLL_HZ on the calling thread, paced by `stop.wait` (no busy
loop), with one I2C read of port A per poll for all five, and each button's `Debouncer`
reports one press per stable release->press edge held for BUTTON_DEBOUNCE_S. The library is
not thread-safe, so every call into it holds one lock (the state-machine thread draws
while the main thread polls). A bus error (the plate unplugged) is logged and counted, and
the phone carries on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

from pysnac.errors import PysnacError
from pysnac.limits import BUTTON_DEBOUNCE_S, BUTTON_POLL_HZ
from pysnac.screen import CUSTOM_CHARS, LCD_ROWS, Backlight, Button, ButtonCallback, fit_line

log = logging.getLogger(__name__)

# Adafruit_CharLCD's button numbers (SELECT, RIGHT, DOWN, UP, LEFT = 0..4): port A bits.
PLATE_BUTTON_IDS = {
    Button.SELECT: 0,
    Button.RIGHT: 1,
    Button.DOWN: 2,
    Button.UP: 3,
    Button.LEFT: 4,
}


BUS_ERROR_LOG_EVERY = 100  # log the first I2C error, then one in this many


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


# Characters the HD44780's ROM (code A00) shows as themselves: printable ASCII but the
# backslash and tilde (a yen sign and an arrow there), and the CGRAM glyph slots.
ROM_SAFE = frozenset(
    [chr(code) for code in range(0x20, 0x7E) if code != 0x5C] + [chr(slot) for slot in CUSTOM_CHARS]
)
NOT_SHOWABLE = "?"
UNKNOWN_CELL = "\uffff"  # never sent: after a bus error every cell counts as changed


def rom_text(text: str) -> str:
    """`text` with every character the display cannot show replaced by NOT_SHOWABLE."""
    return "".join(ch if ch in ROM_SAFE else NOT_SHOWABLE for ch in text)


def _open_smbus(busnum: int) -> Any:
    try:
        from smbus2 import SMBus
    except ImportError as exc:
        raise LcdUnavailable(f"the plate LCD needs smbus2 ({exc}); try --lcd terminal") from exc
    try:
        return SMBus(busnum)
    except PermissionError as exc:
        raise LcdUnavailable(
            f"no access to /dev/i2c-{busnum} ({exc.strerror}): add the user to group i2c"
        ) from exc
    except OSError as exc:
        raise LcdUnavailable(
            f"no I2C bus /dev/i2c-{busnum} ({exc.strerror}): enable I2C "
            "(raspi-config nonint do_i2c 0) or try --lcd terminal"
        ) from exc


class PlateLcd:
    """`LcdDriver` over the plate on an SMBus (smbus2's on a Pi, or the emulator)."""

    def __init__(
        self,
        bus: Any = None,
        *,
        busnum: int | None = None,
        poll_hz: float = BUTTON_POLL_HZ,
        debounce_s: float = BUTTON_DEBOUNCE_S,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        from drivers.lcd.adafruit_plate import PLATE_I2C_ADDRESS, PLATE_I2C_BUS, PlateHardware

        busnum = PLATE_I2C_BUS if busnum is None else busnum
        self.bus = bus if bus is not None else _open_smbus(busnum)
        self.poll_period_s = 1.0 / poll_hz
        self.clock = clock
        self.bus_errors = 0
        self._io = threading.Lock()
        self._debouncers = {button: Debouncer(debounce_s) for button in Button}
        self._on_button: ButtonCallback | None = None
        self._backlight = Backlight.OFF
        blank = fit_line("")
        self._lines = (blank, blank)
        self._shown = (rom_text(blank), rom_text(blank))  # what the glass shows
        self.cells_written = 0
        self._own_bus = bus is None
        try:
            with self._io:
                self.hardware = PlateHardware(self.bus, busnum=busnum, sleep=sleep)
                self.lcd = self.hardware.lcd
                for slot, bitmap in CUSTOM_CHARS.items():
                    self.lcd.create_char(slot, list(bitmap))
                self.lcd.clear()
        except ImportError as exc:
            raise LcdUnavailable(
                f"the plate LCD needs Adafruit_CharLCD ({exc}); try --lcd terminal"
            ) from exc
        except OSError as exc:
            raise LcdUnavailable(
                f"no LCD plate answers at I2C address {PLATE_I2C_ADDRESS:#04x} "
                f"on bus {busnum}: {exc}"
            ) from exc
        self.set_backlight(Backlight.WHITE)

    @property
    def lines(self) -> tuple[str, str]:
        return self._lines

    @property
    def backlight(self) -> Backlight:
        return self._backlight

    def show(self, lines: tuple[str, str]) -> None:
        new = (fit_line(lines[0]), fit_line(lines[1]))
        glass = (rom_text(new[0]), rom_text(new[1]))
        with self._io:
            try:
                for column, row, text in changed_runs(self._shown, glass):
                    self.lcd.set_cursor(column, row)
                    self.lcd.message(text)
                    self.cells_written += len(text)
                self._shown = glass
            except OSError as exc:
                self._bus_error("show", exc)
                self._shown = (UNKNOWN_CELL * len(glass[0]), UNKNOWN_CELL * len(glass[1]))
            self._lines = new

    def set_backlight(self, colour: Backlight) -> None:
        with self._io:
            if colour is not self._backlight:
                try:
                    self.lcd.set_color(*(float(level) for level in colour.value))
                except OSError as exc:
                    self._bus_error("backlight", exc)
                self._backlight = colour

    def attach(self, on_button: ButtonCallback) -> None:
        self._on_button = on_button

    def poll_once(self, now: float) -> list[Button]:
        """Read all five buttons in one I2C read; returns (and delivers) debounced presses."""
        with self._io:
            try:
                held = self.hardware.read_buttons()
            except OSError as exc:
                self._bus_error("buttons", exc)
                return []
        presses = [
            button
            for button, debouncer in self._debouncers.items()
            if debouncer.update(PLATE_BUTTON_IDS[button] in held, now)
        ]
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
            try:
                self.lcd.clear()
                self.lcd.set_color(0.0, 0.0, 0.0)
            except OSError as exc:
                self._bus_error("close", exc)
            if self._own_bus:
                self.bus.close()
        self._backlight = Backlight.OFF
        self._lines = tuple(fit_line("") for _ in range(LCD_ROWS))  # type: ignore[assignment]
        self._shown = tuple(rom_text(line) for line in self._lines)  # type: ignore[assignment]

    def _bus_error(self, what: str, exc: OSError) -> None:
        """Count and log (once per run of errors) a failed I2C transfer; the phone goes on."""
        if self.bus_errors == 0 or self.bus_errors % BUS_ERROR_LOG_EVERY == 0:
            log.warning("LCD plate: I2C error during %s: %s", what, exc)
        self.bus_errors += 1
