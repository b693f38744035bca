"""This device: its name and key fingerprint (what a peer checks). Right renames it."""

from __future__ import annotations

from drivers.lcd.base import Backlight, Button
from states._format import line
from states.context import ScreenContext

BACKLIGHT = Backlight.WHITE
BUTTONS = {Button.RIGHT: "rename", Button.LEFT: "back"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line(ctx.device_name, ">ren"), line(ctx.fingerprint)
