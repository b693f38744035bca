"""Small helpers the screens share: exact-width lines and call-time formatting."""

from __future__ import annotations

from pysnac.screen import GLYPH_CUT, LCD_COLUMNS


def line(left: str, right: str = "") -> str:
    """`left` then `right` flush right, exactly LCD_COLUMNS cells. A `left` too long keeps
    one blank before `right` and ends in GLYPH_CUT, so a cut is seen ("Grandma R… 2/7")."""
    room = LCD_COLUMNS - len(right) - (1 if right else 0)  # the gap before `right`
    if len(left) > max(0, room) and room > 0:
        left = left[: room - 1] + GLYPH_CUT
    return (left[: max(0, room)].ljust(LCD_COLUMNS - len(right)) + right)[:LCD_COLUMNS]


def clock(seconds: float) -> str:
    """Call time as m:ss (h:mm:ss past an hour)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def position(index: int, count: int) -> str:
    """`3/10`-style list position."""
    return f"{index + 1}/{count}" if count else ""
