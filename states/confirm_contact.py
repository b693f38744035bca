"""A phone the rendezvous found whose key is unknown: Select pins it, Left refuses.

Line 2 is the key fingerprint, to compare with the other phone's "This device" screen
before trusting it (trust on first use). The same screen re-pairs a contact whose key
changed (reached from Contacts): "Re-pair NAME?" and the NEW key's fingerprint; Select
replaces the pinned key, Left refuses (the new key is forgotten, calls stay refused).
"""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.VIOLET
BUTTONS = {Button.SELECT: "accept", Button.LEFT: "refuse"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    verb = "Re-pair " if ctx.discovered_repair else "Add "
    return line(verb + ctx.discovered_name, "?"), line(ctx.discovered_fingerprint)
