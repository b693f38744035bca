"""Contacts: Up/Down scroll, Select calls, Right renames, Left goes home.

A contact whose name the rendezvous saw with another key (KEY CHANGED) says so on line 2,
and Right opens the re-pair screen instead of renaming it.
"""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line, position

BACKLIGHT = Backlight.WHITE
BUTTONS = {
    Button.DOWN: "next_item",
    Button.UP: "previous_item",
    Button.SELECT: "dial",
    Button.RIGHT: "rename",
    Button.LEFT: "back",
}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    count = len(ctx.contact_names)
    if not count:
        return line("No contacts"), line("<back")
    index = min(ctx.contact_index, count - 1)
    hint = "New key >re-pair" if ctx.contact_new_key else "Sel:call >rename"
    return line(ctx.contact_names[index], position(index, count)), line(hint)
