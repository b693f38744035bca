"""Ringing: an incoming call (its key already authenticated). Select answers, Left rejects.

An unknown caller (key not pinned) shows `?` and the key fingerprint instead of the hints.
"""

from __future__ import annotations

from pysnac.screen import GLYPH_PHONE, Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.YELLOW
BUTTONS = {Button.SELECT: "answer", Button.LEFT: "reject"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    if not ctx.peer_known:
        return line(GLYPH_PHONE + "?" + ctx.peer), line(ctx.peer_fingerprint)
    return line(GLYPH_PHONE + ctx.peer), line("Sel:ans <:reject")
