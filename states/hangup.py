"""Hang-up summary: why the call ended and how long it lasted, then back home."""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import clock, line

BACKLIGHT = Backlight.RED
BUTTONS = {Button.SELECT: "dismiss", Button.LEFT: "dismiss"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line(ctx.reason), line(ctx.peer, " " + clock(ctx.duration_s))
