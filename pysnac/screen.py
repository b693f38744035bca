"""What a screen is, shared by the screens (`states/`) and the LCD drivers (`drivers/lcd/`):
16x2 character cells, five buttons, a backlight colour and the custom glyphs.

Custom characters live in the HD44780's eight CGRAM slots. Screens use the one-character
strings below (`GLYPH_CHECK`, `GLYPH_PHONE`, `GLYPH_BARS[n]`, `GLYPH_CUT`), each one cell;
`to_unicode` turns them into readable text for terminals, logs and JSON. Neither side
imports the other: both import this vocabulary.
"""

from __future__ import annotations

from collections.abc import Callable
from enum import Enum, StrEnum

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
SLOT_CUT = 7  # an ellipsis: the end of a name cut to fit

GLYPH_CHECK = chr(SLOT_CHECK)
GLYPH_PHONE = chr(SLOT_PHONE)
GLYPH_BARS = tuple(chr(SLOT_BARS_FIRST + n) for n in range(SIGNAL_BARS_MAX + 1))
GLYPH_CUT = chr(SLOT_CUT)

# 5x8 bitmaps, one int per row (bit 4 = leftmost pixel), as HD44780 create_char expects.
CUSTOM_CHARS: dict[int, tuple[int, ...]] = {
    SLOT_CHECK: (0x00, 0x01, 0x03, 0x16, 0x1C, 0x08, 0x00, 0x00),
    SLOT_PHONE: (0x00, 0x0E, 0x1B, 0x11, 0x04, 0x0E, 0x1F, 0x00),
    SLOT_BARS_FIRST + 0: (0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15),
    SLOT_BARS_FIRST + 1: (0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x15),
    SLOT_BARS_FIRST + 2: (0x00, 0x00, 0x00, 0x00, 0x08, 0x08, 0x18, 0x1D),
    SLOT_BARS_FIRST + 3: (0x00, 0x00, 0x04, 0x04, 0x0C, 0x0C, 0x1C, 0x1D),
    SLOT_BARS_FIRST + 4: (0x01, 0x01, 0x05, 0x05, 0x0D, 0x0D, 0x1D, 0x1D),
    SLOT_CUT: (0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x15, 0x00),
}

_UNICODE = {
    GLYPH_CHECK: "\u2713",  # check mark
    GLYPH_PHONE: "\u260e",  # telephone
    GLYPH_CUT: "\u2026",  # horizontal ellipsis
    **dict(zip(GLYPH_BARS, ("_", "\u2582", "\u2584", "\u2586", "\u2588"), strict=True)),
}

ButtonCallback = Callable[[Button], None]


def to_unicode(text: str) -> str:
    """Replace custom-character slots with Unicode look-alikes (one cell each)."""
    return "".join(_UNICODE.get(ch, ch) for ch in text)


def fit_line(text: str) -> str:
    """Pad or cut one line to exactly LCD_COLUMNS cells."""
    return text[:LCD_COLUMNS].ljust(LCD_COLUMNS)
