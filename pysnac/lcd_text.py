"""Names made displayable by construction: what the HD44780's A00 character ROM can show.

The 16x2 plate's controller has one ROM of 8-bit cells: ASCII 0x20-0x7D (except 0x5C,
which is a yen sign, and 0x7E/0x7F, which are arrows), Japanese katakana above 0xA0, and
eight user-defined cells at 0x00-0x07 that our screens use for glyphs. A name from a
record, an INVITE or a file is untrusted text: written byte by byte, "š" (U+0161) would
show as "a" and a control character would move the cursor or draw a glyph.

`lcd_name` is the one mapping for every name that reaches a screen: control and format
characters go, common accented letters are transliterated (NFKD, then a small table for
letters that do not decompose: ß, æ, ø, ł, đ, þ ...), anything else the ROM cannot show
becomes "?", and the result is cut to NAME_MAX_CHARS. `name_key` folds case and the
look-alike pairs of that small alphabet (0/O, 1/l/I, 5/S) so that a name that maps onto
a contact's name is recognised as a look-alike.
"""

from __future__ import annotations

import functools
import unicodedata

from pysnac.limits import NAME_MAX_CHARS

REPLACEMENT = "?"
LOOKALIKE_MARK = "?"  # prefixed to a stranger's name that reads as a contact's
# Printable ASCII the A00 ROM shows as itself (0x5C is a yen sign there; 0x7E an arrow).
ROM_SAFE = frozenset(chr(c) for c in range(0x20, 0x7E)) - {"\\"}
TRANSLITERATE = {
    "ß": "ss",
    "æ": "ae",
    "Æ": "AE",
    "œ": "oe",
    "Œ": "OE",
    "ø": "o",
    "Ø": "O",
    "ł": "l",
    "Ł": "L",
    "đ": "d",
    "Đ": "D",
    "þ": "th",
    "Þ": "Th",
    "ð": "d",
    "ı": "i",
    "\\": "/",
    "~": "-",
    "‘": "'",
    "’": "'",
    "“": '"',
    "”": '"',
    "–": "-",
    "—": "-",
}
LOOKALIKES = str.maketrans({"0": "o", "1": "l", "i": "l", "5": "s", "|": "l"})


def lcd_name(text: str, max_chars: int = NAME_MAX_CHARS) -> str:
    """`text` as the LCD can show it: printable ROM characters only, at most `max_chars`."""
    out: list[str] = []
    for ch in unicodedata.normalize("NFC", text):
        category = unicodedata.category(ch)
        if category[0] == "C":  # control, format, private use, unassigned: dropped
            continue
        if category[0] == "Z":
            out.append(" ")
        elif ch in ROM_SAFE:
            out.append(ch)
        elif ch in TRANSLITERATE:
            out.append(TRANSLITERATE[ch])
        else:
            base = "".join(
                c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)
            )
            if base and all(c in ROM_SAFE for c in base):
                out.append(base)
            else:
                out.append(REPLACEMENT)
    name = " ".join("".join(out).split())  # no edge or repeated spaces
    return name[:max_chars].rstrip() or REPLACEMENT


@functools.lru_cache(maxsize=1 << 16)  # every INVITE and record compares with each contact
def name_key(text: str) -> str:
    """What two names are compared by: the LCD form, case- and look-alike-folded."""
    return lcd_name(text).casefold().translate(LOOKALIKES)


def looks_like(name: str, other: str) -> bool:
    """True when `name` would be read as `other` on the LCD."""
    return name_key(name) == name_key(other)
