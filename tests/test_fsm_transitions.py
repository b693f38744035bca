"""Every transition of the state table, driven through the public event interface
(buttons on the LCD twin, CallEvents from the service, timers from a stepped clock)."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from pysnac.call_events import (
    DirectoryStatus,
    Discovered,
    Established,
    EventName,
    Failure,
    IncomingCall,
)
from pysnac.contacts import Contact
from pysnac.errors import PysnacError
from pysnac.history import CallRecord
from pysnac.runtime.loop import TimerFired
from pysnac.screen import GLYPH_BARS, GLYPH_CHECK, Backlight, Button
from pysnac_fsm import table
from tests.fake_call_service import BOB, SyncPhone

S, U, D, L, R = Button.SELECT, Button.UP, Button.DOWN, Button.LEFT, Button.RIGHT
ALICE_IN = IncomingCall("carol", bytes(range(1, 33)), True, "AAAA-BBBB-CCCC")


@pytest.fixture
def phone(tmp_path: Path) -> SyncPhone:
    return SyncPhone(tmp_path)


def dial_bob(phone: SyncPhone) -> None:
    phone.press(S)  # the home screen shows bob: one press calls him
    assert phone.state == table.DIALING


def connect_out(phone: SyncPhone, sas: str = "k3x9") -> None:
    dial_bob(phone)
    phone.event(EventName.REMOTE_RINGING)
    phone.event(EventName.REMOTE_ACCEPTED)
    phone.event(EventName.CALL_ESTABLISHED, Established(sas, "bob"))
    assert phone.state == table.IN_CALL


def test_idle_home_screen(phone: SyncPhone) -> None:
    assert phone.state == table.IDLE
    assert phone.lines[0] == "\x01bob         1/2"  # the contact Select calls
    assert phone.lines[1].rstrip() == "Sel:call >menu"
    assert phone.lcd.backlight is Backlight.WHITE


def test_contacts_scroll_and_back(phone: SyncPhone) -> None:
    phone.press(R, S)
    assert phone.state == table.CONTACTS
    assert phone.lines[0] == "bob          1/2"
    phone.press(D)
    assert phone.lines[0] == "carol        2/2"
    phone.press(D)
    assert phone.lines[0].startswith("bob")
    phone.press(U)
    assert phone.lines[0].startswith("carol")
    phone.press(L)
    assert phone.state == table.IDLE


def test_menu_opens_each_item(phone: SyncPhone) -> None:
    phone.press(R)
    assert phone.state == table.MENU
    assert phone.lines == ("Menu         1/4", ">Contacts       ")
    phone.press(S)
    assert phone.state == table.CONTACTS
    phone.press(L, R, D, S)
    assert phone.state == table.RECENT_CALLS
    assert phone.lines[0].startswith("No recent calls")
    phone.press(L)
    assert phone.state == table.MENU
    phone.press(U, U, U, S)  # from "Recent calls" up past the top wraps to "This device"
    assert phone.state == table.THIS_DEVICE
    assert phone.lines == ("alice       >ren", "F3KQ-9XMA-7TRE  ")
    phone.press(L, D, D, S)  # past "Shut down" wraps from the bottom to "Contacts"
    assert phone.state == table.CONTACTS
    phone.press(L)
    assert phone.state == table.IDLE


@pytest.mark.parametrize("state_path", [(R,), (R, S), (R, D, S), (R, D, D, S), (R, D, D, S, R)])
def test_menus_time_out_home(phone: SyncPhone, state_path: tuple[Button, ...]) -> None:
    phone.press(*state_path)
    assert phone.state in table.MENU_STATES
    phone.advance(table.MENU_IDLE_S - 1)
    assert phone.state in table.MENU_STATES
    phone.advance(1.5)
    assert phone.state == table.IDLE


def test_rename_device_with_text_entry(phone: SyncPhone) -> None:
    phone.press(R, D, D, S, R)
    assert phone.state == table.EDIT_DEVICE_NAME
    assert phone.lines[0].startswith("alice")
    assert phone.lines[1].startswith("^")
    phone.press(U)  # a -> b
    assert phone.lines[0].startswith("blice")
    phone.press(D, D)  # b -> a -> space
    assert phone.lines[0].startswith(" lice")
    phone.press(U, R, R, R, R, R)  # back to 'a', cursor to a new 6th position
    assert phone.lines[1] == "     ^       Sel"
    for _ in range(2):
        phone.press(U)
    phone.press(S)
    assert phone.state == table.THIS_DEVICE
    assert phone.saved_names == ["aliceb"]
    assert phone.lines[0].startswith("aliceb")


def test_text_entry_left_moves_back_then_cancels(phone: SyncPhone) -> None:
    phone.press(R, D, D, S, R, R, U)
    assert phone.lines[0].startswith("amice")
    phone.press(L)
    assert phone.state == table.EDIT_DEVICE_NAME
    assert phone.lines[1].startswith("^")
    phone.press(L)
    assert phone.state == table.THIS_DEVICE
    assert phone.saved_names == []
    assert phone.lines[0].startswith("alice ")


def test_text_entry_refuses_blank_name(phone: SyncPhone) -> None:
    phone.press(R, D, D, S, R)
    for _ in range(5):
        phone.press(D)  # 'a' steps back to ' ', then wraps to 'Z', 'Y', 'X', 'W'
    phone.press(S)
    assert phone.state == table.THIS_DEVICE  # 'Wlice' is a valid name
    phone.press(R)
    for index in range(len("Wlice")):
        phone.model.edit_chars[index] = " "  # the harness may reach in: a blank buffer
    phone.press(S)
    assert phone.state == table.EDIT_DEVICE_NAME
    assert phone.saved_names == ["Wlice"]


def test_rename_contact_and_duplicate_refused(phone: SyncPhone) -> None:
    phone.press(R, S, R)
    assert phone.state == table.EDIT_CONTACT_NAME
    phone.press(R, R, R, U, S)  # "bob" -> "bob" + 'a'
    assert phone.state == table.CONTACTS
    assert phone.phonebook.get("boba") is not None
    assert phone.lines[0].startswith("boba")
    phone.press(D, R)  # carol -> try to rename to boba: refused
    phone.model.edit_chars[:] = list("boba")
    phone.press(S)
    assert phone.state == table.EDIT_CONTACT_NAME


def test_outgoing_call_happy_path(phone: SyncPhone) -> None:
    dial_bob(phone)
    assert phone.service.calls[0] == ("place_call", (BOB,))
    assert phone.lines == ("bob             ", "Calling...  <end")
    assert phone.lcd.backlight is Backlight.BLUE
    phone.event(EventName.REMOTE_RINGING)
    assert phone.lines[1].startswith("Ringing...")
    phone.event(EventName.REMOTE_ACCEPTED)
    assert phone.state == table.KEY_EXCHANGE
    assert phone.lines[1].startswith("Securing...")
    phone.event(EventName.CALL_ESTABLISHED, Established("k3x9", "bob"))
    assert phone.state == table.IN_CALL
    assert phone.service.media_running
    assert phone.service.names()[-2:] == ["start_media", "set_volume"]
    assert phone.lines == ("bob        0:00" + GLYPH_BARS[0], "Code k3x9  Vol 7")
    phone.advance(table.IN_CALL_TICK_S)
    assert phone.lines[0] == "bob        0:01" + GLYPH_BARS[3]  # the fake reports 3 bars
    phone.press(U)
    assert phone.service.calls[-1] == ("set_volume", (8,))
    phone.press(D, D)
    assert phone.lines[1].endswith("Vol 6")
    phone.press(L)
    assert phone.service.calls[-1] == ("set_muted", (True,))
    assert phone.lines[1].endswith("MUTE")
    phone.advance(64)
    assert phone.lines[0].startswith("bob        1:05")
    phone.press(S)
    assert phone.state == table.HANGUP
    assert "hang_up" in phone.service.names()
    assert not phone.service.media_running
    assert phone.lines == ("Hung up         ", "bob         1:05")
    assert phone.lcd.backlight is Backlight.RED
    phone.advance(table.HANGUP_SCREEN_S)
    assert phone.state == table.IDLE
    record = phone.history.records()[0]
    assert (record.direction, record.peer, record.outcome) == ("out", "bob", "Hung up")
    assert record.duration_s == pytest.approx(65, abs=0.1)


def test_dialing_cancel_goes_home(phone: SyncPhone) -> None:
    dial_bob(phone)
    phone.press(L)
    assert phone.state == table.IDLE
    assert phone.service.names() == ["place_call", "cancel_call", "stop_tone"]
    assert phone.history.records()[0].outcome == "Cancelled"


def test_dialing_no_answer(phone: SyncPhone) -> None:
    dial_bob(phone)
    phone.event(EventName.REMOTE_RINGING)
    phone.event(EventName.REMOTE_RINGING)  # repeated: still one ring-back
    phone.advance(table.NO_ANSWER_S)
    assert phone.state == table.HANGUP
    assert phone.service.names() == ["place_call", "start_tone", "cancel_call", "stop_tone"]
    assert phone.service.calls[1] == ("start_tone", ("ringback", 7))
    assert phone.lines[0].startswith("No answer")


@pytest.mark.parametrize(
    ("event", "data", "reason"),
    [
        (EventName.REMOTE_BUSY, None, "Busy"),
        (EventName.REMOTE_REJECTED, None, "Rejected"),
        (EventName.UNREACHABLE, Failure("No address"), "No address"),
        (EventName.UNREACHABLE, None, "Unreachable"),
        (EventName.HANDSHAKE_FAILED, None, "Handshake failed"),
        (EventName.KEY_CHANGED, Failure("whatever", "detail"), "KEY CHANGED"),
        (EventName.PEER_LOST, None, "Call lost"),
        (EventName.AUDIO_FAILED, Failure("No mic: USB"), "No mic: USB"),
        (EventName.REMOTE_HUNG_UP, None, "Call ended"),
    ],
)
def test_dialing_failures(phone: SyncPhone, event: EventName, data, reason: str) -> None:
    dial_bob(phone)
    phone.event(event, data)
    assert phone.state == table.HANGUP
    assert phone.lines[0].rstrip() == reason
    assert phone.history.records()[0].outcome == reason
    phone.press(S)
    assert phone.state == table.IDLE


@pytest.mark.parametrize("event", table.FAILURES_BEFORE_CONNECT)
def test_key_exchange_failures(phone: SyncPhone, event: EventName) -> None:
    dial_bob(phone)
    phone.event(EventName.REMOTE_ACCEPTED)
    phone.event(event, Failure("Oops"))
    assert phone.state == table.HANGUP
    assert not phone.service.media_running


def test_incoming_call_answered_then_remote_hangs_up(phone: SyncPhone) -> None:
    phone.event(EventName.INCOMING_CALL, ALICE_IN)
    assert phone.state == table.RINGING
    assert phone.lines == ("\x01carol          ", "Sel:ans <:reject")
    assert phone.lcd.backlight is Backlight.YELLOW
    assert phone.service.calls == [("start_tone", ("ring", 7))]
    phone.press(S)
    assert phone.state == table.KEY_EXCHANGE
    assert phone.service.names() == ["start_tone", "answer_call", "stop_tone"]
    phone.event(EventName.CALL_ESTABLISHED, Established("zz12", "carol"))
    assert phone.state == table.IN_CALL
    phone.advance(3)
    phone.event(EventName.REMOTE_HUNG_UP)
    assert phone.state == table.HANGUP
    assert phone.lines == ("Call ended      ", "carol       0:03")
    assert phone.service.media_starts == phone.service.media_stops == 1
    assert phone.history.records()[0].direction == "in"


def test_unknown_caller_shows_fingerprint(phone: SyncPhone) -> None:
    caller = IncomingCall("mallory", bytes(32), False, "ZZZZ-YYYY-XXXX")
    phone.event(EventName.INCOMING_CALL, caller)
    assert phone.lines == ("\x01?mallory   ZZZZ", "Sel:ans <:reject")


def test_ringing_reject(phone: SyncPhone) -> None:
    phone.event(EventName.INCOMING_CALL, ALICE_IN)
    phone.press(L)
    assert phone.state == table.IDLE
    assert phone.service.names() == ["start_tone", "reject_call", "stop_tone"]
    assert phone.history.records()[0].outcome == "Rejected"


def test_ringing_timeout_is_missed(phone: SyncPhone) -> None:
    phone.event(EventName.INCOMING_CALL, ALICE_IN)
    phone.advance(table.RING_S)
    assert phone.state == table.HANGUP
    assert phone.service.names() == ["start_tone", "reject_call", "stop_tone"]
    assert phone.lines[0].startswith("Missed call")


def test_caller_gives_up_while_ringing(phone: SyncPhone) -> None:
    phone.event(EventName.INCOMING_CALL, ALICE_IN)
    phone.event(EventName.REMOTE_HUNG_UP)
    assert phone.lines[0].startswith("Missed call")
    assert phone.service.names() == ["start_tone", "stop_tone"]


@pytest.mark.parametrize(("outgoing", "expected"), [(True, "cancel_call"), (False, "reject_call")])
def test_key_exchange_timeout(phone: SyncPhone, outgoing: bool, expected: str) -> None:
    if outgoing:
        dial_bob(phone)
        phone.event(EventName.REMOTE_ACCEPTED)
    else:
        phone.event(EventName.INCOMING_CALL, ALICE_IN)
        phone.press(S)
    phone.advance(table.KEY_EXCHANGE_S)
    assert phone.state == table.HANGUP
    assert phone.service.names()[-1] == expected
    assert phone.lines[0].startswith("Handshake failed")


def test_key_exchange_cancel(phone: SyncPhone) -> None:
    dial_bob(phone)
    phone.event(EventName.REMOTE_ACCEPTED)
    phone.press(L)
    assert phone.state == table.HANGUP
    assert phone.lines[0].startswith("Cancelled")


@pytest.mark.parametrize(
    ("event", "reason"),
    [
        (EventName.PEER_LOST, "Call lost"),
        (EventName.AUDIO_FAILED, "Audio failed"),
        (EventName.KEY_CHANGED, "KEY CHANGED"),
        (EventName.REMOTE_HUNG_UP, "Call ended"),
    ],
)
def test_in_call_failures(phone: SyncPhone, event: EventName, reason: str) -> None:
    connect_out(phone)
    phone.event(event)
    assert phone.state == table.HANGUP
    assert phone.lines[0].rstrip() == reason
    assert not phone.service.media_running


def test_start_media_failure_ends_call_with_its_reason(phone: SyncPhone) -> None:
    class NoMic(PysnacError):
        @property
        def reason(self) -> str:
            return "No mic: hw:1"

    phone.service.fail["start_media"] = NoMic("device gone")
    dial_bob(phone)
    phone.event(EventName.REMOTE_ACCEPTED)
    phone.event(EventName.CALL_ESTABLISHED, Established("k3x9", "bob"))
    assert phone.state == table.HANGUP
    assert phone.lines[0].rstrip() == "No mic: hw:1"
    assert phone.service.media_starts == phone.service.media_stops == 1


def test_service_error_outside_call_is_not_fatal(phone: SyncPhone) -> None:
    phone.service.fail["place_call"] = RuntimeError("socket closed")
    phone.press(S)
    assert phone.state == table.HANGUP
    assert phone.lines[0].startswith("place_call faile")


def test_hangup_dismissed_and_rings_again(phone: SyncPhone) -> None:
    connect_out(phone)
    phone.press(S)
    phone.event(EventName.INCOMING_CALL, ALICE_IN)
    assert phone.state == table.RINGING
    phone.press(L)
    assert phone.state == table.IDLE


DAVE = Contact("dave", bytes([7]) * 32)
DAVE_FOUND = Discovered(DAVE, "DDDD-EEEE-FFFF")


def test_contact_discovered_pin_refuse_and_timeout(phone: SyncPhone) -> None:
    phone.event(EventName.CONTACT_DISCOVERED, DAVE_FOUND)
    assert phone.state == table.CONFIRM_CONTACT
    assert phone.lines == ("Add dave       ?", "DDDD-EEEE-FFFF  ")
    phone.advance(table.OFFER_ARM_S)
    phone.press(L)
    assert phone.state == table.IDLE
    assert phone.phonebook.get("dave") is None
    phone.event(EventName.CONTACT_DISCOVERED, DAVE_FOUND)
    phone.advance(table.CONFIRM_CONTACT_S)
    assert phone.state == table.IDLE
    assert phone.phonebook.get("dave") is None
    phone.event(EventName.CONTACT_DISCOVERED, DAVE_FOUND)
    phone.advance(table.OFFER_ARM_S)
    phone.press(S)
    assert phone.state == table.IDLE
    assert phone.phonebook.get("dave") == DAVE


def test_an_offer_cannot_take_the_select_meant_to_call(phone: SyncPhone) -> None:
    """The offer comes up on Idle just as the user presses Select to call bob: that press
    (and a Left, and any press within OFFER_ARM_S) does nothing to the offer."""
    phone.event(EventName.CONTACT_DISCOVERED, DAVE_FOUND)
    phone.advance(table.OFFER_ARM_S * 0.9)
    phone.press(S, L, S)
    assert phone.state == table.CONFIRM_CONTACT
    assert phone.phonebook.get("dave") is None
    assert phone.service.calls == []  # nor did it call anyone
    phone.advance(table.OFFER_ARM_S * 0.1)  # shown OFFER_ARM_S: now it takes an answer
    phone.press(S)
    assert phone.phonebook.get("dave") == DAVE


def test_a_select_before_the_offer_calls_and_the_offer_is_dropped(phone: SyncPhone) -> None:
    phone.press(S)  # the press reached the phone first: it calls bob
    phone.event(EventName.CONTACT_DISCOVERED, DAVE_FOUND)
    assert phone.state == table.DIALING
    assert phone.loop.ignored == 1  # the offer is not shown over the call
    phone.press(L)  # cancel
    assert phone.state == table.IDLE
    assert phone.phonebook.get("dave") is None


@pytest.mark.parametrize("state", sorted(set(table.ALL_STATES) - {table.IDLE}))
def test_offers_are_taken_on_the_home_screen_only(state: str) -> None:
    assert EventName.CONTACT_DISCOVERED.value not in table.triggers_from(state)


def test_an_offer_in_a_menu_is_ignored(phone: SyncPhone) -> None:
    phone.press(R, S)  # Contacts, where Select dials
    phone.event(EventName.CONTACT_DISCOVERED, DAVE_FOUND)
    assert phone.state == table.CONTACTS
    assert phone.loop.ignored == 1
    phone.press(S)
    assert phone.state == table.DIALING
    assert phone.phonebook.get("dave") is None


def test_directory_indicator(phone: SyncPhone) -> None:
    """The mark sits at the end of the home screen's second line (the first names the
    contact Select calls)."""
    assert phone.lines[1][-1] == " "
    phone.event(EventName.DIRECTORY_STATUS, DirectoryStatus("lan", True))
    assert phone.lines[1][-1] == GLYPH_CHECK
    phone.event(EventName.DIRECTORY_STATUS, DirectoryStatus("lan", False))
    assert phone.lines[1][-1] == "x"


def test_events_in_the_wrong_state_are_ignored(phone: SyncPhone) -> None:
    for name in (EventName.REMOTE_ACCEPTED, EventName.CALL_ESTABLISHED, EventName.PEER_LOST):
        phone.event(name)
    phone.press(L)
    assert phone.state == table.IDLE
    assert phone.loop.ignored == 4
    assert phone.service.calls == []


def test_stale_timer_is_dropped(phone: SyncPhone) -> None:
    dial_bob(phone)
    stale = phone.loop.generation
    phone.event(EventName.REMOTE_ACCEPTED)
    phone.loop.post(TimerFired(table.TIMEOUT, stale))  # raced the state change
    phone.drain()
    assert phone.state == table.KEY_EXCHANGE
    assert phone.loop.ignored == 1


def test_history_survives_restart(tmp_path: Path) -> None:
    first = SyncPhone(tmp_path)
    dial_bob(first)
    first.event(EventName.REMOTE_BUSY)
    second = SyncPhone(tmp_path)
    second.press(R, D, S)
    when = time.strftime("%a %d %b %H:%M", time.localtime(1.7e9))
    assert second.lines == (">bob        busy", when)
    second.press(S)  # call back
    assert second.state == table.DIALING
    assert second.service.calls[-1] == ("place_call", (BOB,))


def test_call_back_only_a_pinned_contact(tmp_path: Path) -> None:
    phone = SyncPhone(tmp_path)
    phone.history.add(CallRecord("in", "mallory", 0.0, "Missed call"))
    phone.history.add(CallRecord("in", "Carol", 65.0, "Hung up"))
    phone.press(R, D, S)
    assert phone.lines[0] == "<Carol      1:05"
    phone.press(S)  # names match ignoring case: carol is called back
    assert phone.state == table.DIALING and phone.model.call.peer == "carol"
    again = SyncPhone(tmp_path)
    again.press(R, D, S, D)
    assert again.lines[0] == "<mallory  missed"
    again.press(S)  # not pinned: nothing to call
    assert again.state == table.RECENT_CALLS


def test_a_failing_callback_is_logged_not_fatal(phone: SyncPhone) -> None:
    def broken(name: str, new_name: str) -> None:
        raise OSError("disk full")

    phone.phonebook.rename = broken  # type: ignore[method-assign]
    phone.press(R, S, R, R, U, S)  # try to save a renamed contact
    assert phone.state == table.EDIT_CONTACT_NAME  # the transition did not happen
    phone.press(L, L)  # still responsive: back to the list
    assert phone.state == table.CONTACTS


def test_a_pinned_contact_calling_with_another_key_is_shown_refused(phone: SyncPhone) -> None:
    """The call service refuses it; the screen says so and names who it claimed to be."""
    phone.press(R, S)  # even from a menu
    assert phone.state == table.CONTACTS
    claimed = Failure("Key changed", "bob called with key XXXX, not the pinned one", peer="bob")
    phone.event(EventName.KEY_CHANGED, claimed)
    assert phone.state == table.HANGUP
    assert phone.lines[0].rstrip() == "KEY CHANGED"
    assert phone.lines[1].startswith("bob")
    assert not phone.service.media_running
    phone.advance(table.HANGUP_SCREEN_S)
    assert phone.state == table.IDLE
    (record,) = phone.model.history.records()
    assert (record.direction, record.peer, record.outcome) == ("in", "bob", "KEY CHANGED")


def test_a_caller_answered_busy_is_in_the_recent_calls(phone: SyncPhone) -> None:
    dial_bob(phone)
    phone.event(EventName.REMOTE_ACCEPTED)
    phone.event(EventName.CALL_ESTABLISHED, Established("zz12", "bob"))
    phone.event(EventName.CALLER_TURNED_AWAY, Failure("Missed (busy)", peer="carol"))
    assert phone.state == table.IN_CALL  # the call goes on
    record = phone.history.records()[0]
    assert (record.direction, record.peer, record.outcome) == ("in", "carol", "Missed (busy)")


def test_this_device_explains_the_home_screen_marks(phone: SyncPhone) -> None:
    phone.press(R, D, D, S)
    assert phone.state == table.THIS_DEVICE
    phone.press(D)
    assert phone.lines == (GLYPH_CHECK + "=online  x=off ", "Dir: no answer  ")
    phone.event(EventName.DIRECTORY_STATUS, DirectoryStatus("lan", False))
    assert phone.lines[1] == "Dir: offline    "
    phone.press(D)
    assert phone.lines == ("Sound device    ", "Sound OK        ")
    phone.event(EventName.AUDIO_STATUS, Failure("No pysnac_mic"))
    assert phone.lines[1] == "No pysnac_mic   "
    phone.press(D)
    assert phone.lines == ("alice       >ren", "F3KQ-9XMA-7TRE  ")


def test_call_screen_shows_a_whole_five_character_code_at_full_volume(phone: SyncPhone) -> None:
    dial_bob(phone)
    phone.event(EventName.REMOTE_ACCEPTED)
    phone.event(EventName.CALL_ESTABLISHED, Established("k3x9q", "bob"))
    phone.model.volume = 10
    phone.advance(1.0)  # the tick redraws
    assert phone.lines[1] == "Code k3x9q Vol10"
