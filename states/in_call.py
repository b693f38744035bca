"""In call: peer, R when a relay carries the call, call time and link bars on line 1; the
code and volume or MUTE on line 2.

Both users read the 4-character code (the short authentication string) aloud: equal codes
mean no one is in the middle. The screen says "Code", a word people know.
Select hangs up, Up/Down change the volume, Left toggles mute. A 1 s tick refreshes it.
In an outage line 2 says "Reconnecting" and for how many seconds nothing has come.
"""

from __future__ import annotations

from pysnac.screen import GLYPH_BARS, SIGNAL_BARS_MAX, Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import clock, line

BACKLIGHT = Backlight.GREEN
BUTTONS = {
    Button.SELECT: "hang_up",
    Button.UP: "volume_up",
    Button.DOWN: "volume_down",
    Button.LEFT: "toggle_mute",
}
CODE_LABEL = "Code "


def screen(ctx: ScreenContext) -> tuple[str, str]:
    bars = GLYPH_BARS[max(0, min(SIGNAL_BARS_MAX, ctx.link_bars))]
    relay = " R" if ctx.relayed else ""  # the call goes through the relay
    right = relay + " " + clock(ctx.call_s) + bars
    # "Vol10": five cells at most, so a 5-character code and its label are never cut
    status = "MUTE" if ctx.muted else f"Vol{ctx.volume:>2}"
    if ctx.reconnecting_s is not None:
        return line(ctx.peer, right), line("Reconnecting", f"{ctx.reconnecting_s:.0f}s")
    return line(ctx.peer, right), line(CODE_LABEL + ctx.sas, status)
