"""Idle, the home screen: device name, the directory indicator, what the buttons do.

Select opens the contacts (the quickest way to call), Right/Up/Down the menu.
"""

from __future__ import annotations

from drivers.lcd.base import GLYPH_CHECK, GLYPH_PHONE, Backlight, Button
from states._format import line
from states.context import ScreenContext

BACKLIGHT = Backlight.WHITE
BUTTONS = {
    Button.SELECT: "open_contacts",
    Button.RIGHT: "open_menu",
    Button.UP: "open_menu",
    Button.DOWN: "open_menu",
}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    online = {None: "", True: GLYPH_CHECK, False: "x"}[ctx.directory_online]
    return line(GLYPH_PHONE + ctx.device_name, online), line("Sel:call >menu")
