"""This device: its name and key fingerprint (what a peer checks), then what the home
screen's marks mean. Up/Down turn the pages, Right renames, Left goes back.

Page 0: name and fingerprint (or why the last rename did not stick). Page 1: the
directory mark at the top right of home (check: this phone is published and can find
its contacts; x: no rendezvous backend is reachable; blank: none has answered yet) and
its state now. Page 2: the sound device, OK or what is missing.
"""

from __future__ import annotations

from pysnac.screen import GLYPH_CHECK, Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.WHITE
BUTTONS = {
    Button.RIGHT: "rename",
    Button.LEFT: "back",
    Button.DOWN: "next_item",
    Button.UP: "previous_item",
}
DIRECTORY_NOW = {None: "Dir: no answer", True: "Dir: online", False: "Dir: offline"}


def screen(ctx: ScreenContext) -> tuple[str, str]:
    page = ctx.device_page % 3
    if page == 1:
        return line(GLYPH_CHECK + "=online  x=off"), line(DIRECTORY_NOW[ctx.directory_online])
    if page == 2:
        return line("Sound device"), line(ctx.audio_problem or "Sound OK")
    return line(ctx.device_name, ">ren"), line(ctx.notice or ctx.fingerprint)
