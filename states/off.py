"""Off, the final state: the phone is stopping (or powering the machine off); no button
does anything any more."""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.OFF
BUTTONS: dict[Button, str] = {}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line("Shutting down"), line("")
