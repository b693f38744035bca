"""The in-call screen says when a relay carries the call (an R before the call time)."""

from __future__ import annotations

from pysnac.screen import LCD_COLUMNS
from pysnac_fsm.screen_context import ScreenContext
from states import in_call


def test_relayed_call_shows_r_before_the_call_time() -> None:
    context = ScreenContext(
        state="in_call", peer="bob", sas="7B6CG", volume=10, call_s=8, relayed=True
    )
    top, bottom = in_call.screen(context)
    assert top.startswith("bob") and top[:-1].endswith(" R 0:08")
    assert bottom == "Code 7B6CG Vol10"  # the whole code still shows
    assert len(top) == len(bottom) == LCD_COLUMNS


def test_a_long_name_gives_way_to_the_r() -> None:
    context = ScreenContext(state="in_call", peer="Bartholomew-Jon", sas="7B6CG", relayed=True)
    assert in_call.screen(context)[0][:-1].endswith(" R 0:00")


def test_direct_call_shows_no_r() -> None:
    context = ScreenContext(state="in_call", peer="bob", sas="7B6CG", volume=7, call_s=8)
    assert " R " not in in_call.screen(context)[0]
