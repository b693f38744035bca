"""Dialing: the invite is out; "Ringing" once the callee's phone rings. Select/Left cancel."""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.BLUE
BUTTONS = {Button.SELECT: "cancel", Button.LEFT: "cancel"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    status = "Ringing..." if ctx.ringback else "Calling..."
    return line(ctx.peer), line(status, "<end")
