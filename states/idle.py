"""Idle, the home screen and the phone's dial: line 1 is the contact Select calls at once
(with its place in the list when there are several), line 2 the button hints and the
directory mark (or which sound device is missing).

Up/Down step through the contacts in place, Right opens the menu. The contact shown is
the one last called or heard from (the model chooses it). With no contact, the screen
says how to get one: pair a phone found nearby (its `Add <name> ?` screen comes up by
itself); Select then does nothing.
"""

from __future__ import annotations

from pysnac.screen import GLYPH_CHECK, GLYPH_PHONE, Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line, position

BACKLIGHT = Backlight.WHITE
BUTTONS = {
    Button.SELECT: "dial",
    Button.DOWN: "next_item",
    Button.UP: "previous_item",
    Button.RIGHT: "open_menu",
}
HINT = "Sel:call >menu"
NO_CONTACT = "No contact >menu"
HOW_TO_ADD = "Pair one nearby"


def screen(ctx: ScreenContext) -> tuple[str, str]:
    """A sound device missing at power-on replaces the hint: calls would fail."""
    online = {None: "", True: GLYPH_CHECK, False: "x"}[ctx.directory_online]
    count = len(ctx.contact_names)
    if not count:
        return line(NO_CONTACT), line(ctx.audio_problem or HOW_TO_ADD, online)
    index = min(ctx.contact_index, count - 1)
    where = position(index, count) if count > 1 else ""
    first = line(GLYPH_PHONE + ctx.contact_names[index], where)
    return first, line(ctx.audio_problem or HINT, online)
