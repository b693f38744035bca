"""Shut down?: Select stops the phone and powers the machine off (the runtime runs the
configured `power_off_command`); any other key goes back to the menu."""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm import table
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.RED
BUTTONS = {
    Button.SELECT: table.POWER_OFF,
    Button.LEFT: "back",
    Button.RIGHT: "back",
    Button.UP: "back",
    Button.DOWN: "back",
}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line("Shut down?"), line("Sel:yes other:no")
