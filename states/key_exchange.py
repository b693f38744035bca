"""Key exchange: the Noise handshake is running. Left gives up."""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.TEAL
BUTTONS = {Button.LEFT: "cancel"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line(ctx.peer), line("Securing...", "<end")
