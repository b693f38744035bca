"""Recent calls, newest first. Line 1: direction and peer, then how long the call lasted
(or, if it never connected, how it ended); line 2: when, as local date and time.
Up/Down scroll, Select calls the peer back (a pinned contact), Left goes back."""

from __future__ import annotations

import time

from pysnac.history import INCOMING, CallRecord
from pysnac.screen import Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import clock, line, position

BACKLIGHT = Backlight.WHITE
BUTTONS = {
    Button.DOWN: "next_item",
    Button.UP: "previous_item",
    Button.SELECT: "call_back",
    Button.LEFT: "back",
}
WHEN_FORMAT = "%a %d %b %H:%M"  # "Fri 27 Nov 18:21": exactly one line
# How an attempt that never connected ended, in at most 8 cells beside the name.
SHORT_OUTCOMES = {
    "Missed call": "missed",
    "Missed (busy)": "missed",
    "Missed (no audio)": "missed",
    "Busy": "busy",
    "Rejected": "rejected",
    "No answer": "no answer",
    "Cancelled": "cancel",
    "Shut down": "shutdown",
}
OUTCOME_MAX_CELLS = 8


def outcome(record: CallRecord) -> str:
    if record.duration_s > 0:
        return clock(record.duration_s)
    short = SHORT_OUTCOMES.get(record.outcome, record.outcome.lower())
    return short[:OUTCOME_MAX_CELLS]


def when(record: CallRecord) -> str:
    return time.strftime(WHEN_FORMAT, time.localtime(record.when)) if record.when else ""


def screen(ctx: ScreenContext) -> tuple[str, str]:
    count = len(ctx.recent_calls)
    if not count:
        return line("No recent calls"), line("<back")
    index = min(ctx.recent_index, count - 1)
    record = ctx.recent_calls[index]
    arrow = "<" if record.direction == INCOMING else ">"
    return (
        line(arrow + record.peer, outcome(record)),
        line(when(record) or position(index, count)),
    )
