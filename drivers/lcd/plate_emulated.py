"""`--lcd plate-emulated`: the real plate driver, Adafruit's library included, on the
bus-level twin of the plate, speaking the stdio protocol of the headless LCD.

Each screen the phone draws goes through `PlateLcd` and the library down to I2C writes into
`PlateEmulator`; the screen printed (one JSON line, as `--lcd stdio` prints) is what the
emulated HD44780 decoded from them, not what the phone asked for. A button name read on
stdin becomes a finger on the emulated plate, held for enough polls to pass the debounce;
the driver's own poll loop (one I2C read of port A per poll) finds it. `make demo` runs its
phones this way with `main.py demo --lcd plate-emulated`.
"""

from __future__ import annotations

import math
import threading
from typing import IO, Any

from drivers.lcd.headless import HeadlessLcd
from drivers.lcd.plate import PlateLcd
from drivers.lcd.plate_emulator import PlateEmulator
from pysnac.limits import BUTTON_DEBOUNCE_S, BUTTON_POLL_HZ
from pysnac.screen import Backlight, Button, ButtonCallback

FINGER_SPARE_POLLS = 2  # a press is held (and released) this many polls beyond the debounce
FINGER_WAIT_S = 5.0  # how long stdin waits for one press to be polled through


class EmulatedPlateLcd:
    """`LcdDriver`: `PlateLcd` on a `PlateEmulator`, screens and buttons over stdio."""

    def __init__(
        self,
        *,
        stdin: IO[str] | None = None,
        stdout: IO[str] | None = None,
        poll_hz: float = BUTTON_POLL_HZ,
        debounce_s: float = BUTTON_DEBOUNCE_S,
    ) -> None:
        self.board = PlateEmulator()
        self.plate = PlateLcd(
            self.board, poll_hz=poll_hz, debounce_s=debounce_s, sleep=self.board.sleep
        )
        self.finger_reads = math.ceil(debounce_s * poll_hz) + FINGER_SPARE_POLLS
        self.stdio = HeadlessLcd(stdio=True, stdin=stdin, stdout=stdout)
        self.stdio.attach(self._finger)

    @property
    def lines(self) -> tuple[str, str]:
        return self.board.lines()

    @property
    def backlight(self) -> Backlight:
        return self.board.backlight()

    def show(self, lines: tuple[str, str]) -> None:
        self.plate.show(lines)
        self.stdio.show(self.board.lines())

    def set_backlight(self, colour: Backlight) -> None:
        self.plate.set_backlight(colour)

    def attach(self, on_button: ButtonCallback) -> None:
        self.plate.attach(on_button)

    def emit(self, record: dict[str, Any]) -> None:
        self.stdio.emit(record)

    def serve(self, stop: threading.Event) -> None:
        poller = threading.Thread(
            target=self.plate.serve, args=(stop,), name="lcd-plate-poll", daemon=True
        )
        poller.start()
        try:
            self.stdio.serve(stop)
        finally:
            stop.set()
            poller.join(FINGER_WAIT_S)

    def close(self) -> None:
        self.plate.close()
        self.stdio.close()

    def _finger(self, button: Button) -> None:
        """A button name from stdin: press it on the plate and let the poll loop find it."""
        self.board.press(button, self.finger_reads)
        self.board.wait_fingers_done(FINGER_WAIT_S)
