"""Text entry for a name of up to NAME_MAX_CHARS characters with five buttons.

Up/Down step the character under the cursor through the alphabet, Right moves on (a new
position starts blank), Left moves back, and Left on the first character cancels. Select
saves (a blank or duplicate name is refused, and line 2 says why). Line 2 marks the
cursor with `^`. Serves both the device-name and contact-name states.
"""

from __future__ import annotations

from pysnac.limits import NAME_MAX_CHARS
from pysnac.screen import LCD_COLUMNS, Backlight, Button
from pysnac_fsm.screen_context import ScreenContext
from states._format import line

BACKLIGHT = Backlight.VIOLET
BUTTONS = {
    Button.UP: "char_next",
    Button.DOWN: "char_previous",
    Button.RIGHT: "cursor_right",
    Button.LEFT: "cursor_left",
    Button.SELECT: "save",
}


HINT = "Sel"


def screen(ctx: ScreenContext) -> tuple[str, str]:
    if ctx.notice:  # a refused save says why until the next key
        return line(ctx.edit_text), line(ctx.notice)
    cursor = min(ctx.edit_cursor, NAME_MAX_CHARS - 1)
    hint = HINT if cursor + 1 < LCD_COLUMNS - len(HINT) else ""
    return line(ctx.edit_text), line(" " * cursor + "^", hint)
