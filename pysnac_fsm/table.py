"""THE state table of the phone: every state, trigger, source, destination, condition and
callback, as data. The runtime machine, the tests and `make diagram` all read it.

Theory of operation. The phone sits in `idle` (the home screen, which is also the dial:
it shows the contact Select calls, and Up/Down step through the contacts in place) or one
of the menu states reached from it. An outgoing call goes dialing -> key_exchange -> in_call; an
incoming one ringing -> key_exchange -> in_call. Every call, however it ends, passes
through `hangup` (reason and duration on screen for HANGUP_SCREEN_S) or goes straight
back to `idle` when the user ends it before it connects. Triggers are of three kinds:
call-service and rendezvous events (the `EventName` values), button triggers (each
state's module in `states/` maps a `Button` to one of them), and `timeout`/`tick`, posted
by the timer thread from `STATE_TIMERS`. Stopping the phone is a trigger too: `shut_down`
leads from every state to the final `off` state, so the exit hooks run and a call in
progress is ended and recorded like any other. A trigger with no entry for the current state
is simply not in the table: the runtime logs it and ignores it (as h11 does).

Pairing asks before it trusts: a phone found nearby is offered (`confirm_contact`) only
over the home screen, and re-pairing a contact (`repair_old_key`, `repair_new_key`) shows
both keys and asks twice. No pairing screen takes an answer until it has been shown
OFFER_ARM_S, so a press meant for the screen before cannot answer it.

Callbacks are model method names (`pysnac_fsm.phone.PhoneModel`); transitions with
`"dest": None` are internal (no exit/entry hooks run).
"""

from __future__ import annotations

from typing import Any

from pysnac.call_events import EventName as E

# States.
IDLE = "idle"
MENU = "menu"
CONTACTS = "contacts"
RECENT_CALLS = "recent_calls"
THIS_DEVICE = "this_device"
EDIT_DEVICE_NAME = "edit_device_name"
EDIT_CONTACT_NAME = "edit_contact_name"
CONFIRM_CONTACT = "confirm_contact"
REPAIR_OLD_KEY = "repair_old_key"  # re-pair, page 1: the pinned key about to be replaced
REPAIR_NEW_KEY = "repair_new_key"  # re-pair, page 2: the key that would replace it
CONFIRM_SHUTDOWN = "confirm_shutdown"
DIALING = "dialing"
RINGING = "ringing"
KEY_EXCHANGE = "key_exchange"
IN_CALL = "in_call"
HANGUP = "hangup"
OFF = "off"  # final: the phone is stopping; nothing leaves it

# Per-state timeouts, in seconds.
NO_ANSWER_S = 30.0  # dialing: give up, "No answer"
RING_S = 30.0  # ringing: reject, "Missed call"
KEY_EXCHANGE_S = 10.0  # handshake not done: "Handshake failed"
HANGUP_SCREEN_S = 4.0  # the hang-up summary stays this long
MENU_IDLE_S = 60.0  # a menu left untouched returns home
CONFIRM_CONTACT_S = 60.0  # an unanswered pairing offer is refused
OFFER_ARM_S = 1.0  # a pairing screen takes no answer until it has been shown this long
IN_CALL_TICK_S = 1.0  # call time and link bars refresh

# Timer triggers.
TIMEOUT = "timeout"
TICK = "tick"
# Posted by the model when a call-service method raised (`PhoneModel.on_machine_exception`).
FAULT = "fault"
# Posted by the runtime when the phone stops (`StateMachineLoop.stop`).
SHUT_DOWN = "shut_down"
# Select on the "Shut down?" screen: shut down, then the runtime powers the machine off.
POWER_OFF = "power_off"

# state -> [(seconds, trigger, repeats)]: armed on entry, cancelled on exit.
STATE_TIMERS: dict[str, list[tuple[float, str, bool]]] = {
    MENU: [(MENU_IDLE_S, TIMEOUT, False)],
    CONTACTS: [(MENU_IDLE_S, TIMEOUT, False)],
    RECENT_CALLS: [(MENU_IDLE_S, TIMEOUT, False)],
    THIS_DEVICE: [(MENU_IDLE_S, TIMEOUT, False)],
    EDIT_DEVICE_NAME: [(MENU_IDLE_S, TIMEOUT, False)],
    EDIT_CONTACT_NAME: [(MENU_IDLE_S, TIMEOUT, False)],
    CONFIRM_CONTACT: [(CONFIRM_CONTACT_S, TIMEOUT, False)],
    REPAIR_OLD_KEY: [(CONFIRM_CONTACT_S, TIMEOUT, False)],
    REPAIR_NEW_KEY: [(CONFIRM_CONTACT_S, TIMEOUT, False)],
    CONFIRM_SHUTDOWN: [(MENU_IDLE_S, TIMEOUT, False)],
    DIALING: [(NO_ANSWER_S, TIMEOUT, False)],
    RINGING: [(RING_S, TIMEOUT, False)],
    KEY_EXCHANGE: [(KEY_EXCHANGE_S, TIMEOUT, False)],
    IN_CALL: [(IN_CALL_TICK_S, TICK, True)],
    HANGUP: [(HANGUP_SCREEN_S, TIMEOUT, False)],
}

HOME_STATES = [
    IDLE,
    MENU,
    CONTACTS,
    RECENT_CALLS,
    THIS_DEVICE,
    EDIT_DEVICE_NAME,
    EDIT_CONTACT_NAME,
    CONFIRM_CONTACT,
    REPAIR_OLD_KEY,
    REPAIR_NEW_KEY,
    CONFIRM_SHUTDOWN,
]
MENU_STATES = [s for s in HOME_STATES if s != IDLE]
CALL_STATES = [DIALING, RINGING, KEY_EXCHANGE, IN_CALL]
STATES_IN_ORDER = [*HOME_STATES, DIALING, RINGING, KEY_EXCHANGE, IN_CALL, HANGUP]
ALL_STATES = [*STATES_IN_ORDER, OFF]
# Incoming calls ring in these states (during a call the call service answers busy).
CAN_RING = [*HOME_STATES, HANGUP]

STATES: list[dict[str, Any]] = [
    {"name": IDLE, "on_enter": ["forget_call"]},
    {"name": MENU},
    {"name": CONTACTS},
    {"name": RECENT_CALLS, "on_enter": ["load_recent_calls"]},
    {"name": THIS_DEVICE},
    {"name": EDIT_DEVICE_NAME, "on_enter": ["begin_device_name_edit"]},
    {"name": EDIT_CONTACT_NAME, "on_enter": ["begin_contact_name_edit"]},
    {"name": CONFIRM_CONTACT, "on_enter": ["arm_confirmation"]},
    {"name": REPAIR_OLD_KEY, "on_enter": ["arm_confirmation"]},
    {"name": REPAIR_NEW_KEY, "on_enter": ["arm_confirmation"]},
    {"name": CONFIRM_SHUTDOWN},
    {"name": DIALING, "on_enter": ["place_call"], "on_exit": ["stop_tone"]},
    {"name": RINGING, "on_enter": ["start_ring"], "on_exit": ["stop_tone"]},
    {"name": KEY_EXCHANGE},
    {"name": IN_CALL, "on_enter": ["start_media"], "on_exit": ["stop_media"]},
    {"name": HANGUP, "on_enter": ["record_call"]},
    {"name": OFF, "final": True},
]


def _t(trigger: str, source: str | list[str], dest: str | None, **callbacks: Any) -> dict:
    row: dict[str, Any] = {"trigger": trigger, "source": source, "dest": dest}
    for key in ("conditions", "unless", "before", "after"):
        if key in callbacks:
            value = callbacks.pop(key)
            row[key] = [value] if isinstance(value, str) else list(value)
    if callbacks:
        raise TypeError(f"unknown transition keys {sorted(callbacks)}")
    return row


def _call_ends(events: list[E], source: str) -> list[dict]:
    """The failure paths of a call state: each goes to `hangup` with the event's reason."""
    return [_t(event.value, source, HANGUP, before="take_failure") for event in events]


FAILURES_BEFORE_CONNECT = [
    E.REMOTE_BUSY,
    E.REMOTE_REJECTED,
    E.REMOTE_HUNG_UP,
    E.HANDSHAKE_FAILED,
    E.KEY_CHANGED,
    E.PEER_LOST,
    E.AUDIO_FAILED,
    E.UNREACHABLE,
]
FAILURES_IN_CALL = [E.REMOTE_HUNG_UP, E.PEER_LOST, E.AUDIO_FAILED, E.KEY_CHANGED]

TRANSITIONS: list[dict[str, Any]] = [
    # Home (the dial) and menus. With no contact, `has_contacts` fails: Select does nothing.
    _t("dial", [IDLE, CONTACTS], DIALING, conditions="has_contacts", before="choose_contact"),
    _t("next_item", [IDLE, CONTACTS], None, after="contacts_next"),
    _t("previous_item", [IDLE, CONTACTS], None, after="contacts_previous"),
    _t("open_menu", IDLE, MENU),
    _t("next_item", MENU, None, after="menu_next"),
    _t("previous_item", MENU, None, after="menu_previous"),
    _t("open_item", MENU, CONTACTS, conditions="menu_at_contacts"),
    _t("open_item", MENU, RECENT_CALLS, conditions="menu_at_recent_calls"),
    _t("open_item", MENU, THIS_DEVICE, conditions="menu_at_this_device"),
    _t("open_item", MENU, CONFIRM_SHUTDOWN, conditions="menu_at_shut_down"),
    _t("back", CONFIRM_SHUTDOWN, MENU),  # any key but Select cancels
    _t("back", MENU, IDLE),
    # Right on a contact whose key changed re-pairs it (checked first), else renames it.
    _t(
        "rename",
        CONTACTS,
        REPAIR_OLD_KEY,
        conditions=["has_contacts", "selected_key_changed"],
        before="offer_repair",
    ),
    _t("rename", CONTACTS, EDIT_CONTACT_NAME, conditions="has_contacts"),
    _t("back", CONTACTS, IDLE),
    _t("next_item", RECENT_CALLS, None, after="recent_next"),
    _t("previous_item", RECENT_CALLS, None, after="recent_previous"),
    _t("call_back", RECENT_CALLS, DIALING, conditions="recent_is_contact", before="choose_recent"),
    _t("back", RECENT_CALLS, MENU),
    _t("next_item", THIS_DEVICE, None, after="device_page_next"),
    _t("previous_item", THIS_DEVICE, None, after="device_page_previous"),
    _t("rename", THIS_DEVICE, EDIT_DEVICE_NAME),
    _t("back", THIS_DEVICE, MENU),
    # Text entry (device and contact names).
    _t("char_next", [EDIT_DEVICE_NAME, EDIT_CONTACT_NAME], None, after="edit_char_next"),
    _t("char_previous", [EDIT_DEVICE_NAME, EDIT_CONTACT_NAME], None, after="edit_char_previous"),
    _t("cursor_right", [EDIT_DEVICE_NAME, EDIT_CONTACT_NAME], None, after="edit_cursor_right"),
    _t("cursor_left", EDIT_DEVICE_NAME, THIS_DEVICE, conditions="edit_at_first_char"),
    _t("cursor_left", EDIT_CONTACT_NAME, CONTACTS, conditions="edit_at_first_char"),
    _t(
        "cursor_left",
        [EDIT_DEVICE_NAME, EDIT_CONTACT_NAME],
        None,
        unless="edit_at_first_char",
        after="edit_cursor_left",
    ),
    _t(
        "save",
        EDIT_DEVICE_NAME,
        THIS_DEVICE,
        conditions="edit_name_valid",
        before="save_device_name",
    ),
    _t(
        "save",
        EDIT_CONTACT_NAME,
        CONTACTS,
        conditions="edit_name_valid",
        before="save_contact_name",
    ),
    _t(TIMEOUT, MENU_STATES, IDLE, before="refuse_contact"),
    # Pairing a phone found by the rendezvous (trust on first use): offered on the home
    # screen only, and no button answers it until it has been shown OFFER_ARM_S (a press
    # meant for the home screen cannot pin a stranger).
    _t(E.CONTACT_DISCOVERED.value, IDLE, CONFIRM_CONTACT, before="take_discovery"),
    _t("accept", CONFIRM_CONTACT, IDLE, conditions="confirmation_armed", before="pin_contact"),
    _t("refuse", CONFIRM_CONTACT, IDLE, conditions="confirmation_armed", before="refuse_contact"),
    # Re-pairing (a new key replaces a pinned one): the old key's fingerprint, then the
    # new one's; Select on each confirms (once armed), any other key cancels.
    _t("accept", REPAIR_OLD_KEY, REPAIR_NEW_KEY, conditions="confirmation_armed"),
    _t("accept", REPAIR_NEW_KEY, IDLE, conditions="confirmation_armed", before="pin_contact"),
    _t("refuse", [REPAIR_OLD_KEY, REPAIR_NEW_KEY], IDLE, before="refuse_contact"),
    _t(E.DIRECTORY_STATUS.value, STATES_IN_ORDER, None, after="take_directory_status"),
    _t(E.AUDIO_STATUS.value, STATES_IN_ORDER, None, after="take_audio_status"),
    _t(E.CALLER_TURNED_AWAY.value, STATES_IN_ORDER, None, after="record_turned_away"),
    # Outgoing call.
    _t(E.REMOTE_RINGING.value, DIALING, None, after="start_ringback"),
    _t(E.REMOTE_ACCEPTED.value, DIALING, KEY_EXCHANGE),
    _t("cancel", DIALING, IDLE, before="cancel_outgoing"),
    _t(TIMEOUT, DIALING, HANGUP, before="give_up_no_answer"),
    *_call_ends(FAILURES_BEFORE_CONNECT, DIALING),
    # Incoming call.
    _t(E.INCOMING_CALL.value, CAN_RING, RINGING, before="take_incoming"),
    # A pinned contact called with another key: the call service refused it; say so.
    _t(E.KEY_CHANGED.value, HOME_STATES, HANGUP, before=["take_refused_caller", "take_failure"]),
    _t("answer", RINGING, KEY_EXCHANGE, before="answer_call"),
    _t("reject", RINGING, IDLE, before="reject_incoming"),
    _t(TIMEOUT, RINGING, HANGUP, before="miss_incoming"),
    *_call_ends(FAILURES_BEFORE_CONNECT, RINGING),
    # Key exchange (both directions).
    _t(E.CALL_ESTABLISHED.value, KEY_EXCHANGE, IN_CALL, before="take_established"),
    _t("cancel", KEY_EXCHANGE, HANGUP, before="abort_key_exchange"),
    _t(TIMEOUT, KEY_EXCHANGE, HANGUP, before="handshake_timed_out"),
    *_call_ends(FAILURES_BEFORE_CONNECT, KEY_EXCHANGE),
    # In call.
    _t("hang_up", IN_CALL, HANGUP, before="hang_up_local"),
    _t("volume_up", IN_CALL, None, after="raise_volume"),
    _t("volume_down", IN_CALL, None, after="lower_volume"),
    _t("toggle_mute", IN_CALL, None, after="flip_mute"),
    _t(TICK, IN_CALL, None, after="refresh_link"),
    *_call_ends(FAILURES_IN_CALL, IN_CALL),
    # A call-service method raised: end the call with the error's reason.
    _t(FAULT, CALL_STATES, HANGUP, before="take_failure"),
    # Hang-up summary.
    _t(TIMEOUT, HANGUP, IDLE),
    _t("dismiss", HANGUP, IDLE),
    # The phone stops (the runtime stopping it): a call in progress is ended (exit hooks
    # stop media) and recorded. Select on the menu's "Shut down?" screen is the same
    # shut-down that also asks the runtime to power the machine off once stopped.
    _t(SHUT_DOWN, STATES_IN_ORDER, OFF, before="end_for_shutdown"),
    _t(POWER_OFF, CONFIRM_SHUTDOWN, OFF, before=["end_for_shutdown", "request_power_off"]),
]

CALLBACK_KEYS = ("conditions", "unless", "before", "after")


def callback_names() -> set[str]:
    """Every model method the table names (states' hooks and transitions' callbacks)."""
    names: set[str] = set()
    for state in STATES:
        names.update(state.get("on_enter", []))
        names.update(state.get("on_exit", []))
    for row in TRANSITIONS:
        for key in CALLBACK_KEYS:
            names.update(row.get(key, []))
    return names


def edges() -> set[tuple[str, str, str]]:
    """(source, dest, trigger) for every row; an internal transition loops on its source."""
    result: set[tuple[str, str, str]] = set()
    for row in TRANSITIONS:
        sources = row["source"] if isinstance(row["source"], list) else [row["source"]]
        for source in sources:
            result.add((source, row["dest"] or source, row["trigger"]))
    return result


def triggers_from(state: str) -> set[str]:
    """The triggers the table accepts in `state`."""
    return {trigger for source, _dest, trigger in edges() if source == state}
