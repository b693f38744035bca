"""Hang-up summary: why the call ended and how long it lasted, then back home."""

from __future__ import annotations

from drivers.lcd.base import Backlight, Button
from states._format import clock, line
from states.context import ScreenContext

BACKLIGHT = Backlight.RED
BUTTONS = {Button.SELECT: "dismiss", Button.LEFT: "dismiss"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line(ctx.reason), line(ctx.peer, " " + clock(ctx.duration_s))
