"""The LCD contract: a 16x2 character display, a backlight colour and five buttons.

Every LCD driver (the real Adafruit plate, the Textual terminal, the headless recorder)
implements `LcdDriver`. The state-machine thread calls `show` and `set_backlight`; button
presses go to the callback given to `attach`, which only posts an event (it never touches
the state machine). `serve` blocks the calling thread while the driver delivers input.

Custom characters live in the HD44780's eight CGRAM slots. Screens use the one-character
strings below (`GLYPH_CHECK`, `GLYPH_PHONE`, `GLYPH_BARS[n]`), each one LCD cell wide;
`to_unicode` turns them into readable text for terminals, logs and JSON.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from enum import Enum, StrEnum
from typing import Protocol

LCD_COLUMNS = 16
LCD_ROWS = 2


class Button(StrEnum):
    """The plate's five buttons."""

    SELECT = "select"
    UP = "up"
    DOWN = "down"
    LEFT = "left"
    RIGHT = "right"


class Backlight(Enum):
    """Backlight colours the RGB plate can show, as (red, green, blue) on/off levels."""

    OFF = (0, 0, 0)
    WHITE = (1, 1, 1)
    BLUE = (0, 0, 1)
    GREEN = (0, 1, 0)
    YELLOW = (1, 1, 0)
    RED = (1, 0, 0)
    VIOLET = (1, 0, 1)
    TEAL = (0, 1, 1)


# CGRAM slot numbers; a screen writes chr(slot).
SLOT_CHECK = 0
SLOT_PHONE = 1
SLOT_BARS_FIRST = 2  # slots 2..6: signal bars 0..4
SIGNAL_BARS_MAX = 4

GLYPH_CHECK = chr(SLOT_CHECK)
GLYPH_PHONE = chr(SLOT_PHONE)
GLYPH_BARS = tuple(chr(SLOT_BARS_FIRST + n) for n in range(SIGNAL_BARS_MAX + 1))

# 5x8 bitmaps, one int per row (bit 4 = leftmost pixel), as HD44780 create_char expects.
CUSTOM_CHARS: dict[int, tuple[int, ...]] = {
    SLOT_CHECK: (0x00, 0x01, 0x03, 0x16, 0x1C, 0x08, 0x00, 0x00),
    SLOT_PHONE: (0x00, 0x0E, 0x1B, 0x11, 0x04, 0x0E, 0x1F, 0x00),
    SLOT_BARS_FIRST + 0: (0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15),
    SLOT_BARS_FIRST + 1: (0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x15),
    SLOT_BARS_FIRST + 2: (0x00, 0x00, 0x00, 0x00, 0x08, 0x08, 0x18, 0x1D),
    SLOT_BARS_FIRST + 3: (0x00, 0x00, 0x04, 0x04, 0x0C, 0x0C, 0x1C, 0x1D),
    SLOT_BARS_FIRST + 4: (0x01, 0x01, 0x05, 0x05, 0x0D, 0x0D, 0x1D, 0x1D),
}

_UNICODE = {
    GLYPH_CHECK: "\u2713",  # check mark
    GLYPH_PHONE: "\u260e",  # telephone
    **dict(zip(GLYPH_BARS, ("_", "\u2582", "\u2584", "\u2586", "\u2588"), strict=True)),
}

ButtonCallback = Callable[[Button], None]


def to_unicode(text: str) -> str:
    """Replace custom-character slots with Unicode look-alikes (one cell each)."""
    return "".join(_UNICODE.get(ch, ch) for ch in text)


def fit_line(text: str) -> str:
    """Pad or cut one line to exactly LCD_COLUMNS cells."""
    return text[:LCD_COLUMNS].ljust(LCD_COLUMNS)


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
