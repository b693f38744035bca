"""Recent calls, newest first: direction, peer, duration, outcome. Up/Down scroll."""

from __future__ import annotations

from pysnac.history import INCOMING
from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import clock, line, position

BACKLIGHT = Backlight.WHITE
BUTTONS = {Button.DOWN: "next_item", Button.UP: "previous_item", Button.LEFT: "back"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    count = len(ctx.recent_calls)
    if not count:
        return line("No recent calls"), line("<back")
    index = min(ctx.recent_index, count - 1)
    record = ctx.recent_calls[index]
    arrow = "<" if record.direction == INCOMING else ">"
    return (
        line(arrow + record.peer, " " + clock(record.duration_s)),
        line(record.outcome, " " + position(index, count)),
    )
