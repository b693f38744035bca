"""Idle, the home screen: device name, the directory indicator, what the buttons do (or
which sound device is missing).

Select opens the contacts (the quickest way to call), Right/Up/Down the menu.
"""

from __future__ import annotations

from pysnac.screen import GLYPH_CHECK, GLYPH_PHONE, Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.WHITE
BUTTONS = {
    Button.SELECT: "open_contacts",
    Button.RIGHT: "open_menu",
    Button.UP: "open_menu",
    Button.DOWN: "open_menu",
}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    """A sound device missing at power-on replaces the hint line: calls would fail."""
    online = {None: "", True: GLYPH_CHECK, False: "x"}[ctx.directory_online]
    return line(GLYPH_PHONE + ctx.device_name, online), line(ctx.audio_problem or "Sel:call >menu")
