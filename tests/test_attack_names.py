"""Names displayable by construction: whatever a record or an INVITE calls itself, what
reaches the plate (the real driver on the bus-level plate emulator) is characters the
HD44780 A00 ROM shows as themselves (or our own glyphs), never a control character, and
a name that reads as a contact's is marked."""

from __future__ import annotations

import pytest

from drivers.lcd.plate import PlateLcd
from drivers.lcd.plate_emulator import PlateEmulator
from pysnac.call_events import IncomingCall
from pysnac.lcd_text import ROM_SAFE, lcd_name, looks_like, name_key
from pysnac.limits import NAME_MAX_CHARS
from pysnac.screen import GLYPH_PHONE
from states._format import line
from tests.test_call_endpoint import A_ADDR, B_ADDR, Net, make_phone

HOSTILE = [
    "šŬũţť",  # low bytes spell "alice"
    "bob\nx",
    "\x00\x01\x02\x07bob",
    "a\rb\tc\x1b[2J",
    "\u202ebob",  # right-to-left override
    "b\u200bob",  # zero-width space
    "電話☎",
    "x" * 200,
    "",
    "\\~",
]


@pytest.mark.parametrize("name", HOSTILE)
def test_every_name_maps_to_rom_characters_only(name: str) -> None:
    shown = lcd_name(name)
    assert 0 < len(shown) <= NAME_MAX_CHARS
    assert set(shown) <= ROM_SAFE


def test_common_accents_are_transliterated_and_look_alikes_fold() -> None:
    assert lcd_name("Zoë Ærøskøbing") == "Zoe AEroskobing"
    assert lcd_name("Straße") == "Strasse"
    assert lcd_name("šŬũţť") == "sUutt"  # not "alice"
    assert looks_like("B0B", "bob") and looks_like("ａｌｉｃｅ", "alice")
    assert looks_like("b\u200bob", "bob")
    assert not looks_like("bobby", "bob")
    assert name_key("Ali1") == name_key("alil")


def test_a_hostile_caller_name_reaches_the_plate_as_rom_characters() -> None:
    alice, bob = make_phone("alice", A_ADDR), make_phone("bob", B_ADDR)
    bob.contacts = [alice.contact()]
    net = Net(alice, bob)
    # (control characters cannot even travel: a setup whose name is not printable fails
    # to parse, so the INVITE is refused like any malformed one)
    for hostile in ("ａｌｉｃｅ", "šŬũţť電話"):
        mallory = make_phone(hostile, ("10.0.0.66", 6666))
        net.phones[mallory.addr] = mallory
        bob.events.clear()
        net.act(mallory, "place_call", bob.contact())
        incoming = bob.events[0].data
        assert isinstance(incoming, IncomingCall) and not incoming.known
        assert set(incoming.peer_name) <= ROM_SAFE
        board = PlateEmulator()  # the HD44780 behind the MCP23017, decoded cell by cell
        plate = PlateLcd(board, sleep=board.sleep)
        plate.show((line(GLYPH_PHONE + "?" + incoming.peer_name), line(incoming.fingerprint)))
        cells = "".join(board.lines())
        assert set(cells) <= ROM_SAFE | {GLYPH_PHONE}
        assert cells.count(GLYPH_PHONE) == 1  # the only custom glyph is the screen's own
        net.act(bob, "reject_call")
        net.advance(2.0)
    first = "ａｌｉｃｅ"
    assert looks_like(first, "alice")  # so it rang as "?alice" (plus the ringing "?")


def test_a_look_alike_caller_is_marked() -> None:
    alice, bob = make_phone("alice", A_ADDR), make_phone("bob", B_ADDR)
    bob.contacts = [alice.contact()]
    net = Net(alice, bob)
    mallory = make_phone("ALlCE", ("10.0.0.66", 6666))
    net.phones[mallory.addr] = mallory
    net.act(mallory, "place_call", bob.contact())
    incoming = bob.events[0].data
    assert incoming.peer_name == "?ALlCE" and not incoming.known
