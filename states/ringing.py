"""Ringing: an incoming call (its key already authenticated). Select answers, Left rejects.

An unknown caller (key not pinned) is marked `?`, with the first group of its key
fingerprint beside the name; the answer/reject hint stays on line 2 for every caller.
"""

from __future__ import annotations

from pysnac.screen import GLYPH_PHONE, Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.YELLOW
BUTTONS = {Button.SELECT: "answer", Button.LEFT: "reject"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    hint = line("Sel:ans <:reject")
    if not ctx.peer_known:
        group = ctx.peer_fingerprint.split("-")[0]
        return line(GLYPH_PHONE + "?" + ctx.peer, group), hint
    return line(GLYPH_PHONE + ctx.peer), hint
