"""Re-pair a contact whose name now publishes another key: two pages, two confirmations.

Page 1 (`repair_old_key`) shows the fingerprint of the key pinned now, page 2
(`repair_new_key`) the one that would replace it, each labelled on line 1 ("Old key
bob 1/2", "New key bob 2/2"). Select on page 1, then Select on page 2, replaces the
pinned key; any other key cancels (the new key is forgotten, calls stay refused). A
Select within `table.OFFER_ARM_S` of a page appearing is ignored, so one double press
cannot confirm both.
"""

from __future__ import annotations

from pysnac.screen import Backlight, Button
from pysnac_fsm import table
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.VIOLET
BUTTONS = {
    Button.SELECT: "accept",
    Button.LEFT: "refuse",
    Button.RIGHT: "refuse",
    Button.UP: "refuse",
    Button.DOWN: "refuse",
}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    if ctx.state == table.REPAIR_OLD_KEY:
        return line("Old key " + ctx.discovered_name, " 1/2"), line(ctx.pinned_fingerprint)
    return line("New key " + ctx.discovered_name, " 2/2"), line(ctx.discovered_fingerprint)
