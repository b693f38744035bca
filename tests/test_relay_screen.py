"""The in-call screen says when a relay carries the call (an R after the SAS)."""

from __future__ import annotations

from pysnac.screen import LCD_COLUMNS
from pysnac_fsm.screen_context import ScreenContext
from states import in_call


def test_relayed_call_shows_r_after_the_sas() -> None:
    context = ScreenContext(state="in_call", peer="bob", sas="4WT3", volume=7, relayed=True)
    assert in_call.screen(context)[1] == "SAS 4WT3 R Vol 7"
    assert len(in_call.screen(context)[1]) == LCD_COLUMNS


def test_direct_call_shows_no_r() -> None:
    context = ScreenContext(state="in_call", peer="bob", sas="4WT3", volume=7)
    assert in_call.screen(context)[1] == "SAS 4WT3   Vol 7"
