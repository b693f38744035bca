"""Key exchange: the Noise handshake is running. Left gives up."""

from __future__ import annotations

from drivers.lcd.base import Backlight, Button
from states._format import line
from states.context import ScreenContext

BACKLIGHT = Backlight.TEAL
BUTTONS = {Button.LEFT: "cancel"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line(ctx.peer), line("Securing...", "<end")
