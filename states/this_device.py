"""This device: its name and key fingerprint (what a peer checks). Right renames it."""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.WHITE
BUTTONS = {Button.RIGHT: "rename", Button.LEFT: "back"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line(ctx.device_name, ">ren"), line(ctx.fingerprint)
