"""The home screen is the phone's dial: it names the contact Select calls, Up/Down step
through the contacts in place, and one press calls. Driven through the public event
interface (buttons on the LCD twin, CallEvents from the service)."""

from __future__ import annotations

from pathlib import Path

from pysnac.call_events import EventName, IncomingCall
from pysnac.screen import Button
from pysnac_fsm import table
from tests.fake_call_service import BOB, CAROL, SyncPhone

S, U, D, L, R = Button.SELECT, Button.UP, Button.DOWN, Button.LEFT, Button.RIGHT
BOB_CALLS = IncomingCall("bob", BOB.public_key, True, "BBBB-BBBB-BBBB")


def test_one_contact_select_on_idle_dials_it(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path, contacts=(CAROL,))
    assert phone.lines[0] == "\x01carol          "  # no position: there is only carol
    phone.press(S)
    assert phone.state == table.DIALING
    assert phone.service.calls == [("place_call", (CAROL,))]


def test_up_down_step_in_place_then_select_dials_the_one_shown(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    assert phone.lines[0] == "\x01bob         1/2"
    phone.press(D)
    assert phone.state == table.IDLE  # no list state: the home screen itself changes
    assert phone.lines[0] == "\x01carol       2/2"
    assert phone.lines[1].rstrip() == "Sel:call >menu"
    phone.press(D)
    assert phone.lines[0].startswith("\x01bob")  # wraps
    phone.press(U)
    assert phone.lines[0].startswith("\x01carol")  # wraps back
    phone.press(S)
    assert phone.state == table.DIALING
    assert phone.service.calls == [("place_call", (CAROL,))]


def test_right_opens_the_menu_and_left_does_nothing_at_home(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(L)
    assert phone.state == table.IDLE
    phone.press(R)
    assert phone.state == table.MENU


def test_most_recent_peer_is_shown_after_an_outgoing_call(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(D, S)  # call carol
    phone.event(EventName.REMOTE_BUSY)
    phone.advance(table.HANGUP_SCREEN_S)
    assert phone.state == table.IDLE
    assert phone.lines[0].startswith("\x01carol")
    phone.press(S)  # calling back is one press
    assert phone.service.calls[-1] == ("place_call", (CAROL,))


def test_most_recent_peer_is_shown_after_an_incoming_call(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.press(D)  # carol shown
    phone.event(EventName.INCOMING_CALL, BOB_CALLS)
    phone.press(L)  # reject bob: he was still heard from
    assert phone.state == table.IDLE
    assert phone.lines[0].startswith("\x01bob")
    phone.press(D)
    phone.event(EventName.INCOMING_CALL, BOB_CALLS)
    phone.event(EventName.REMOTE_HUNG_UP)  # missed
    phone.advance(table.HANGUP_SCREEN_S)
    assert phone.lines[0].startswith("\x01bob")


def test_most_recent_peer_is_shown_first_at_power_on(tmp_path: Path) -> None:
    first = SyncPhone(tmp_path)
    first.press(D, S)  # carol
    first.press(S)  # cancel: still a recent call
    assert first.history.records()[0].peer == "carol"
    again = SyncPhone(tmp_path)  # same history file: the phone restarted
    assert again.lines[0].startswith("\x01carol")


def test_no_contacts_the_home_screen_says_how_to_add_one_and_select_stays_home(
    tmp_path: Path,
) -> None:
    phone = SyncPhone(tmp_path, contacts=())
    assert phone.lines == ("No contact >menu", "Pair one nearby ")
    phone.press(S, U, D)
    assert phone.state == table.IDLE
    assert phone.service.calls == []
    assert phone.history.records() == []
    assert phone.lines == ("No contact >menu", "Pair one nearby ")
