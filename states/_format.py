"""Small helpers the screens share: exact-width lines and call-time formatting."""

from __future__ import annotations

from pysnac.screen import LCD_COLUMNS


def line(left: str, right: str = "") -> str:
    """`left` then `right` flush right, cut so the whole is exactly LCD_COLUMNS cells."""
    room = LCD_COLUMNS - len(right)
    return (left[: max(0, room)].ljust(room) + right)[:LCD_COLUMNS]


def clock(seconds: float) -> str:
    """Call time as m:ss (h:mm:ss past an hour)."""
    total = max(0, int(seconds))
    hours, rest = divmod(total, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}:{minutes:02d}:{secs:02d}" if hours else f"{minutes}:{secs:02d}"


def position(index: int, count: int) -> str:
    """`3/10`-style list position."""
    return f"{index + 1}/{count}" if count else ""
