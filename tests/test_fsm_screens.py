"""Every state's screen function is pure and fits the 16x2 display for any context,
however long the names, reasons, SAS or fingerprints the network hands it."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

import states
from pysnac.history import CallRecord
from pysnac.screen import GLYPH_CUT, LCD_COLUMNS
from pysnac_fsm import table
from pysnac_fsm.screen_context import ScreenContext
from states._format import clock, line

TEXT = st.text(max_size=40)
RECORDS = st.builds(
    CallRecord,
    direction=st.sampled_from(["in", "out"]),
    peer=TEXT,
    duration_s=st.floats(0, 1e6),
    outcome=TEXT,
)
CONTEXTS = st.builds(
    ScreenContext,
    state=st.sampled_from(table.ALL_STATES),
    device_name=TEXT,
    fingerprint=TEXT,
    directory_online=st.sampled_from([None, True, False]),
    menu_index=st.integers(0, 100),
    contact_names=st.lists(TEXT, max_size=5).map(tuple),
    contact_index=st.integers(0, 10),
    recent_calls=st.lists(RECORDS, max_size=10).map(tuple),
    recent_index=st.integers(0, 12),
    edit_text=TEXT,
    edit_cursor=st.integers(0, 20),
    peer=TEXT,
    peer_known=st.booleans(),
    peer_fingerprint=TEXT,
    sas=TEXT,
    call_s=st.floats(0, 1e6),
    volume=st.integers(0, 10),
    muted=st.booleans(),
    link_bars=st.integers(-3, 9),
    reconnecting_s=st.one_of(st.none(), st.floats(0, 1e6)),
    reason=TEXT,
    duration_s=st.floats(0, 1e6),
)


@settings(max_examples=400, deadline=None)
@given(CONTEXTS)
def test_every_screen_fits(ctx: ScreenContext) -> None:
    first, second = states.render(ctx)
    assert len(first) == len(second) == LCD_COLUMNS
    assert states.render(ctx) == (first, second)  # pure: same context, same screen


def test_line_and_clock_helpers() -> None:
    assert line("abc", "1/2") == "abc          1/2"
    assert line("x" * 20, "end") == "x" * 11 + GLYPH_CUT + " end"  # a visible cut, a gap
    assert line("Grandma Rosalind", "2/7") == "Grandma Ros" + GLYPH_CUT + " 2/7"
    assert line("x" * 12, "end") == "x" * 12 + " end"  # fits: no cut
    assert line("x" * 17) == "x" * 15 + GLYPH_CUT
    assert clock(65.9) == "1:05"
    assert clock(3725) == "1:02:05"
    assert clock(-3) == "0:00"


def test_in_call_shows_an_outage_and_its_seconds() -> None:
    ctx = ScreenContext(state=table.IN_CALL, peer="bob", sas="K7QX", volume=7, call_s=75.0)
    assert states.render(ctx)[1] == "Code K7QX  Vol 7"
    first, second = states.render(ScreenContext(**{**ctx.__dict__, "reconnecting_s": 4.6}))
    assert second == "Reconnecting  5s" and first.startswith("bob")
    long = ScreenContext(**{**ctx.__dict__, "reconnecting_s": 599.0})
    assert states.render(long)[1] == "Reconnecti" + GLYPH_CUT + " 599s"  # the seconds always show
