"""LCD drivers behind one contract (`drivers.lcd.base.LcdDriver`), chosen by name.

`open_lcd("plate")` is the Adafruit RGB LCD plate on a Raspberry Pi (its library is
imported only then), `"terminal"` a Textual app drawing the 16x2 screen, `"headless"` the
recording twin used by tests, and `"stdio"` the headless twin speaking JSON lines on
stdin/stdout (how `make demo` drives phone processes). `"plate-emulated"` speaks the same
stdio protocol through the plate driver and its library on the bus-level twin of the plate
(`main.py demo --lcd plate-emulated`).
"""

from __future__ import annotations

from typing import Any

from drivers.lcd.base import LcdDriver
from pysnac.errors import ConfigError
from pysnac.screen import Backlight, Button

LCD_KINDS = ("plate", "plate-emulated", "terminal", "headless", "stdio")
STDIO_KINDS = ("stdio", "plate-emulated")  # JSON screens out, button names in

__all__ = ["LCD_KINDS", "STDIO_KINDS", "Backlight", "Button", "LcdDriver", "open_lcd"]


def open_lcd(kind: str, **options: Any) -> LcdDriver:
    """Build the LCD driver named `kind`; options go to its constructor."""
    if kind == "headless":
        from drivers.lcd.headless import HeadlessLcd

        return HeadlessLcd(**options)
    if kind == "stdio":
        from drivers.lcd.headless import HeadlessLcd

        return HeadlessLcd(stdio=True, **options)
    if kind == "terminal":
        from drivers.lcd.terminal import TerminalLcd

        return TerminalLcd(**options)
    if kind == "plate":
        from drivers.lcd.plate import PlateLcd

        return PlateLcd(**options)
    if kind == "plate-emulated":
        from drivers.lcd.plate_emulated import EmulatedPlateLcd

        return EmulatedPlateLcd(**options)
    raise ConfigError(
        "lcd", "driver", f"unknown LCD driver {kind!r}; one of {', '.join(LCD_KINDS)}"
    )
