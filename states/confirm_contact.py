"""A phone the rendezvous found whose key is unknown: Select pins it, Left refuses.

Line 2 is the key fingerprint, to compare with the other phone's "This device" screen
before trusting it (trust on first use). It comes up only over the home screen, and no
button answers it until it has been shown `table.OFFER_ARM_S` (a press meant for the
home screen is ignored). Re-pairing a known contact has its own pages (`repair_key`).
"""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.VIOLET
BUTTONS = {Button.SELECT: "accept", Button.LEFT: "refuse"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    return line("Add " + ctx.discovered_name, "?"), line(ctx.discovered_fingerprint)
