"""Contacts: Up/Down scroll, Select calls, Right renames, Left goes home."""

from __future__ import annotations

from drivers.lcd.base import Backlight, Button
from states._format import line, position
from states.context import ScreenContext

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
    return line(ctx.contact_names[index], position(index, count)), line("Sel:call >rename")
