"""The LCD contract: a 16x2 character display, a backlight colour and five buttons.

Every LCD driver (the real Adafruit plate, the Textual terminal, the headless recorder)
implements `LcdDriver`. The state-machine thread calls `show` and `set_backlight`; button
presses go to the callback given to `attach`, which only posts an event (it never touches
the state machine). `serve` blocks the calling thread while the driver delivers input.
The screen vocabulary (buttons, backlight, glyphs) is `pysnac.screen`.
"""

from __future__ import annotations

import threading
from typing import Protocol

from pysnac.screen import Backlight, ButtonCallback


class LcdDriver(Protocol):
    """A 16x2 display with a backlight and five buttons."""

    @property
    def lines(self) -> tuple[str, str]:
        """What the display shows now (custom characters as slot characters)."""

    @property
    def backlight(self) -> Backlight:
        """The current backlight colour."""

    def show(self, lines: tuple[str, str]) -> None:
        """Display two lines of at most LCD_COLUMNS cells; thread-safe."""

    def set_backlight(self, colour: Backlight) -> None:
        """Change the backlight colour; thread-safe."""

    def attach(self, on_button: ButtonCallback) -> None:
        """Deliver every button press to `on_button` from now on."""

    def serve(self, stop: threading.Event) -> None:
        """Block the calling thread running the driver's input until `stop` is set or the
        user quits the driver (then set `stop` too)."""

    def close(self) -> None:
        """Release the hardware (clear the screen, backlight off)."""
