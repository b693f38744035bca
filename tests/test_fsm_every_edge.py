"""Every edge of the state table, taken through the public event interface: for each
(source, dest, trigger), a fresh phone is driven to `source` by buttons and events, the
trigger is fired the way the real world would fire it (its button in that state's map,
its call-service event, its timer), and the phone must land in `dest`."""

from __future__ import annotations

from pathlib import Path

import pytest

import states
from pysnac.call_events import (
    DirectoryStatus,
    Discovered,
    Established,
    EventName,
    Failure,
    IncomingCall,
)
from pysnac.contacts import Contact
from pysnac.history import CallRecord
from pysnac.screen import Button
from pysnac_fsm import table
from tests.fake_call_service import SyncPhone

S, U, D, L, R = Button.SELECT, Button.UP, Button.DOWN, Button.LEFT, Button.RIGHT


class BobsNewKey:
    """The rendezvous saw a phone named bob publish another key (a `Directory` stand-in)."""

    def new_key_for(self, name: str) -> tuple[bytes, str] | None:
        return (bytes([9]) * 32, "NNNN-NNNN-NNNN") if name == "bob" else None

    def forget_new_key(self, name: str) -> None:
        pass


def bob_has_a_new_key(phone: SyncPhone) -> None:
    phone.model.new_keys = BobsNewKey()


def arm(phone: SyncPhone) -> None:
    """Let a pairing screen be shown long enough to take an answer."""
    phone.advance(table.OFFER_ARM_S)


DATA = {
    EventName.INCOMING_CALL: IncomingCall("carol", bytes(range(1, 33)), True, "C"),
    EventName.CALL_ESTABLISHED: Established("ab12", "bob"),
    EventName.CONTACT_DISCOVERED: Discovered(Contact("dave", bytes([4]) * 32), "D"),
    EventName.DIRECTORY_STATUS: DirectoryStatus("lan", True),
}
REACH: dict[str, list] = {
    table.IDLE: [],
    table.MENU: [R],
    table.CONTACTS: [R, S],
    table.RECENT_CALLS: [R, D, S],
    table.THIS_DEVICE: [R, D, D, S],
    table.EDIT_DEVICE_NAME: [R, D, D, S, R],
    table.EDIT_CONTACT_NAME: [R, S, R],
    table.CONFIRM_CONTACT: [EventName.CONTACT_DISCOVERED],
    table.REPAIR_OLD_KEY: [R, S, bob_has_a_new_key, R],
    table.REPAIR_NEW_KEY: [R, S, bob_has_a_new_key, R, arm, S],
    table.CONFIRM_SHUTDOWN: [R, U, S],
    table.DIALING: [S],
    table.RINGING: [EventName.INCOMING_CALL],
    table.KEY_EXCHANGE: [S, EventName.REMOTE_ACCEPTED],
    table.IN_CALL: [S, EventName.REMOTE_ACCEPTED, EventName.CALL_ESTABLISHED],
    table.HANGUP: [S, EventName.REMOTE_BUSY],
}


def bob_called_before(phone: SyncPhone) -> None:
    phone.history.add(CallRecord("out", "bob", 0.0, "Busy"))
    phone.press(L, S)  # back to the menu and into Recent calls again: the list reloads


# Extra steps some conditional edges need once in their source state.
PREPARE: dict[tuple[str, str, str], list] = {
    (table.CONTACTS, table.REPAIR_OLD_KEY, "rename"): [bob_has_a_new_key],
    (table.CONFIRM_CONTACT, table.IDLE, "accept"): [arm],
    (table.CONFIRM_CONTACT, table.IDLE, "refuse"): [arm],
    (table.REPAIR_OLD_KEY, table.REPAIR_NEW_KEY, "accept"): [arm],
    (table.REPAIR_NEW_KEY, table.IDLE, "accept"): [arm],
    (table.MENU, table.RECENT_CALLS, "open_item"): [D],
    (table.RECENT_CALLS, table.DIALING, "call_back"): [bob_called_before],
    (table.MENU, table.THIS_DEVICE, "open_item"): [D, D],
    (table.MENU, table.CONFIRM_SHUTDOWN, "open_item"): [U],
    (table.EDIT_DEVICE_NAME, table.EDIT_DEVICE_NAME, "cursor_left"): [R],
    (table.EDIT_CONTACT_NAME, table.EDIT_CONTACT_NAME, "cursor_left"): [R],
}


def act(phone: SyncPhone, step: object) -> None:
    if callable(step):
        step(phone)
    elif isinstance(step, Button):
        phone.press(step)
    else:
        phone.event(step, DATA.get(step))


def fire(phone: SyncPhone, source: str, trigger: str) -> None:
    event_names = {name.value: name for name in EventName}
    if trigger in event_names:
        name = event_names[trigger]
        phone.event(name, DATA.get(name, Failure("Oops")))
    elif trigger in (table.TIMEOUT, table.TICK):
        seconds = next(s for s, t, _ in table.STATE_TIMERS[source] if t == trigger)
        phone.advance(seconds)
    elif trigger == table.FAULT:
        phone.loop.post_internal(table.FAULT, Failure("Broke"))
        phone.drain()
    elif trigger == table.SHUT_DOWN:
        phone.loop.shut_down()  # what the runtime does when the phone stops
    else:
        buttons = [b for b, t in states.STATE_MODULES[source].BUTTONS.items() if t == trigger]
        assert buttons, f"no button fires {trigger} in {source}"
        phone.press(buttons[0])


@pytest.mark.parametrize(
    ("source", "dest", "trigger"), sorted(table.edges()), ids=lambda value: str(value)
)
def test_edge(tmp_path: Path, source: str, dest: str, trigger: str) -> None:
    phone = SyncPhone(tmp_path)
    for step in REACH[source] + PREPARE.get((source, dest, trigger), []):
        act(phone, step)
    assert phone.state == source
    ignored = phone.loop.ignored
    fire(phone, source, trigger)
    assert phone.state == dest
    assert phone.loop.ignored == ignored  # the trigger was accepted, not dropped
    assert phone.service.media_running == (dest == table.IN_CALL)
    assert phone.service.violations == []
