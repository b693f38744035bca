"""The menu: contacts, recent calls, this device. Up/Down move, Select opens, Left goes home."""

from __future__ import annotations

from pysnac.limits import MENU_ITEMS
from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line, position

BACKLIGHT = Backlight.WHITE
BUTTONS = {
    Button.DOWN: "next_item",
    Button.UP: "previous_item",
    Button.SELECT: "open_item",
    Button.RIGHT: "open_item",
    Button.LEFT: "back",
}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    index = ctx.menu_index % len(MENU_ITEMS)
    return line("Menu", position(index, len(MENU_ITEMS))), line(">" + MENU_ITEMS[index])
