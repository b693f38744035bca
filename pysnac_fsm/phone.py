"""The phone model: every callback the state table names, and the call context.

The `transitions` machine built from `pysnac_fsm.table` attaches `state` and the
trigger methods to a `PhoneModel`; the model's hooks ask the `CallService` to act
(place_call on entering dialing, start_media on entering in_call, stop_media on leaving
it, ...). It owns no thread, socket or clock: each event carries `now` (monotonic
seconds) in its keyword arguments, and anything that must happen later is a timer in the
table. A call-service method that raises does not kill the phone: the error is logged and
a `fault` event ends the call with the error's reason.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from pysnac.call_events import (
    CallService,
    DirectoryStatus,
    Discovered,
    Established,
    EventName,
    Failure,
    IncomingCall,
    LinkStats,
)
from pysnac.contacts import Contact
from pysnac.errors import PysnacError
from pysnac.history import INCOMING, OUTGOING, CallRecord
from pysnac.limits import (
    MENU_ITEMS,
    NAME_MAX_CHARS,
    REASON_MAX_CHARS,
    TEXT_ENTRY_ALPHABET,
    VOLUME_DEFAULT,
    VOLUME_MAX,
    VOLUME_MIN,
)
from pysnac_fsm import table
from pysnac_fsm.screen_context import ScreenContext

log = logging.getLogger(__name__)

# Hang-up reasons (each fits one LCD line) when the event carries none.
DEFAULT_REASONS: dict[str, str] = {
    EventName.REMOTE_BUSY.value: "Busy",
    EventName.REMOTE_REJECTED.value: "Rejected",
    EventName.REMOTE_HUNG_UP.value: "Call ended",
    EventName.HANDSHAKE_FAILED.value: "Handshake failed",
    EventName.KEY_CHANGED.value: "KEY CHANGED",
    EventName.PEER_LOST.value: "Call lost",
    EventName.AUDIO_FAILED.value: "Audio failed",
    EventName.UNREACHABLE.value: "Unreachable",
    table.FAULT: "Error",
}
REASON_HUNG_UP = "Hung up"
REASON_NO_ANSWER = "No answer"
REASON_MISSED = "Missed call"
REASON_CANCELLED = "Cancelled"
REASON_REJECTED = "Rejected"
REASON_HANDSHAKE = "Handshake failed"


class PhonebookLike(Protocol):
    def contacts(self) -> list[Contact]: ...
    def add(self, contact: Contact) -> None: ...
    def rename(self, name: str, new_name: str) -> None: ...
    def replace_key(self, name: str, public_key: bytes) -> None: ...


class NewKeysLike(Protocol):
    """Keys the rendezvous saw published under a pinned contact's name (`Directory`)."""

    def new_key_for(self, name: str) -> tuple[bytes, str] | None: ...
    def forget_new_key(self, name: str) -> None: ...


class HistoryLike(Protocol):
    def records(self) -> list[CallRecord]: ...
    def add(self, record: CallRecord) -> None: ...


@dataclass
class ActiveCall:
    """The call in progress: who, which way, and when it connected (None: not yet)."""

    peer: str
    outgoing: bool
    contact: Contact | None = None
    known: bool = True
    fingerprint: str = ""
    sas: str = ""
    connected_at: float | None = None
    ringback: bool = False


def _now(event: Any) -> float:
    return float(event.kwargs.get("now", 0.0))


def _data(event: Any) -> Any:
    return event.kwargs.get("data")


class PhoneModel:
    """State-machine callbacks and call context; `state` is set by the machine."""

    state: str

    def __init__(
        self,
        service: CallService,
        *,
        post: Callable[[str, Any], None],
        phonebook: PhonebookLike,
        history: HistoryLike,
        device_name: str,
        fingerprint: str,
        save_device_name: Callable[[str], None] | None = None,
        new_keys: NewKeysLike | None = None,
    ) -> None:
        self.service = service
        self.new_keys = new_keys
        self._post = post
        self.phonebook = phonebook
        self.history = history
        self.device_name = device_name
        self.fingerprint = fingerprint
        self._save_device_name = save_device_name
        self.directory: dict[str, bool] = {}
        self.audio_problem = ""
        self.menu_index = 0
        self.contact_index = 0
        self.recent: list[CallRecord] = []
        self.recent_index = 0
        self.edit_chars: list[str] = []
        self.edit_cursor = 0
        self.edit_target = ""
        self.discovered: Discovered | None = None
        self.repairing = False  # the confirm screen offers a new key for a pinned contact
        self.call: ActiveCall | None = None
        self.last_call: ActiveCall | None = None  # kept for the hang-up screen and summary
        self.reason = ""
        self.duration_s = 0.0
        self.volume = VOLUME_DEFAULT
        self.muted = False
        self.link = LinkStats()
        for record in history.records():  # newest first: home shows the last peer
            if self._select_peer(record.peer):
                break

    # --- the screen snapshot -------------------------------------------------------------
    def context(self, now: float) -> ScreenContext:
        call = self.call or self.last_call  # the hang-up screen shows the call just ended
        online = None if not self.directory else all(self.directory.values())
        live = self.call
        call_s = now - live.connected_at if live and live.connected_at is not None else 0.0
        return ScreenContext(
            state=self.state,
            device_name=self.device_name,
            fingerprint=self.fingerprint,
            directory_online=online,
            audio_problem=self.audio_problem,
            menu_index=self.menu_index,
            contact_names=tuple(c.name for c in self.phonebook.contacts()),
            contact_index=self.contact_index,
            recent_calls=tuple(self.recent),
            recent_index=self.recent_index,
            edit_text="".join(self.edit_chars),
            edit_cursor=self.edit_cursor,
            discovered_name=self.discovered.contact.name if self.discovered else "",
            discovered_fingerprint=self.discovered.fingerprint if self.discovered else "",
            discovered_repair=self.repairing,
            contact_new_key=self._new_key_of_selected() is not None,
            peer=call.peer if call else "",
            peer_known=call.known if call else True,
            peer_fingerprint=call.fingerprint if call else "",
            outgoing=call.outgoing if call else True,
            ringback=call.ringback if call else False,
            sas=call.sas if call else "",
            call_s=max(0.0, call_s),
            volume=self.volume,
            muted=self.muted,
            link_bars=self.link.quality_bars,
            reason=self.reason,
            duration_s=self.duration_s,
        )

    # --- calling the service safely ------------------------------------------------------
    def _service(self, method: str, *args: Any) -> bool:
        """Call a CallService method; on error log it and post `fault` (ends the call)."""
        try:
            getattr(self.service, method)(*args)
        except Exception as exc:
            reason = exc.reason if isinstance(exc, PysnacError) else f"{method} failed"
            log.error("call service %s raised: %s", method, exc, exc_info=True)
            self._post(table.FAULT, Failure(reason=reason[:REASON_MAX_CHARS], detail=str(exc)))
            return False
        return True

    def on_machine_exception(self, event: Any) -> None:
        """A callback raised (a bug): log it; the phone carries on (never fatal)."""
        log.error(
            "state machine: %s in %s raised %r",
            event.event.name,
            self.state,
            event.error,
            exc_info=event.error,
        )

    # --- home and menus ------------------------------------------------------------------
    def forget_call(self, event: Any) -> None:
        self.call = None

    def menu_next(self, event: Any) -> None:
        self.menu_index = (self.menu_index + 1) % len(MENU_ITEMS)

    def menu_previous(self, event: Any) -> None:
        self.menu_index = (self.menu_index - 1) % len(MENU_ITEMS)

    def menu_at_contacts(self, event: Any) -> bool:
        return self.menu_index == 0

    def menu_at_recent_calls(self, event: Any) -> bool:
        return self.menu_index == 1

    def menu_at_this_device(self, event: Any) -> bool:
        return self.menu_index == 2

    def has_contacts(self, event: Any) -> bool:
        return bool(self.phonebook.contacts())

    def _step_contact(self, step: int) -> None:
        count = len(self.phonebook.contacts())
        self.contact_index = (self.contact_index + step) % count if count else 0

    def contacts_next(self, event: Any) -> None:
        self._step_contact(1)

    def contacts_previous(self, event: Any) -> None:
        self._step_contact(-1)

    def _select_peer(self, name: str) -> bool:
        """Show `name` on the home screen (the contact last called or heard from); False
        when it is not a contact."""
        names = [c.name for c in self.phonebook.contacts()]
        if name not in names:
            return False
        self.contact_index = names.index(name)
        return True

    def _selected_contact(self) -> Contact | None:
        contacts = self.phonebook.contacts()
        if not contacts:
            return None
        return contacts[min(self.contact_index, len(contacts) - 1)]

    def load_recent_calls(self, event: Any) -> None:
        self.recent = self.history.records()
        self.recent_index = 0

    def recent_next(self, event: Any) -> None:
        if self.recent:
            self.recent_index = (self.recent_index + 1) % len(self.recent)

    def recent_previous(self, event: Any) -> None:
        if self.recent:
            self.recent_index = (self.recent_index - 1) % len(self.recent)

    # --- text entry ----------------------------------------------------------------------
    def _begin_edit(self, text: str) -> None:
        self.edit_chars = list(text[:NAME_MAX_CHARS]) or [TEXT_ENTRY_ALPHABET[1]]
        self.edit_cursor = 0

    def begin_device_name_edit(self, event: Any) -> None:
        self._begin_edit(self.device_name)

    def begin_contact_name_edit(self, event: Any) -> None:
        contact = self._selected_contact()
        self.edit_target = contact.name if contact else ""
        self._begin_edit(self.edit_target)

    def _step_char(self, step: int) -> None:
        current = self.edit_chars[self.edit_cursor]
        index = TEXT_ENTRY_ALPHABET.find(current)
        index = 0 if index < 0 else (index + step) % len(TEXT_ENTRY_ALPHABET)
        self.edit_chars[self.edit_cursor] = TEXT_ENTRY_ALPHABET[index]

    def edit_char_next(self, event: Any) -> None:
        self._step_char(1)

    def edit_char_previous(self, event: Any) -> None:
        self._step_char(-1)

    def edit_cursor_right(self, event: Any) -> None:
        if self.edit_cursor < NAME_MAX_CHARS - 1:
            self.edit_cursor += 1
            if self.edit_cursor == len(self.edit_chars):
                self.edit_chars.append(" ")

    def edit_cursor_left(self, event: Any) -> None:
        self.edit_cursor = max(0, self.edit_cursor - 1)

    def edit_at_first_char(self, event: Any) -> bool:
        return self.edit_cursor == 0

    def edit_text(self) -> str:
        return "".join(self.edit_chars).strip()

    def edit_name_valid(self, event: Any) -> bool:
        name = self.edit_text()
        if not name or len(name) > NAME_MAX_CHARS:
            return False
        if self.state == table.EDIT_CONTACT_NAME:
            taken = {c.name for c in self.phonebook.contacts()} - {self.edit_target}
            return name not in taken
        return True

    def save_device_name(self, event: Any) -> None:
        self.device_name = self.edit_text()
        if self._save_device_name is not None:
            self._save_device_name(self.device_name)

    def save_contact_name(self, event: Any) -> None:
        new_name = self.edit_text()
        if new_name != self.edit_target:
            self.phonebook.rename(self.edit_target, new_name)
            self._select_peer(new_name)  # it may sort elsewhere: keep it selected

    # --- pairing -------------------------------------------------------------------------
    def take_discovery(self, event: Any) -> None:
        self.discovered = _data(event)
        self.repairing = False

    def pin_contact(self, event: Any) -> None:
        if self.discovered is None:
            return
        contact = self.discovered.contact
        try:
            if self.repairing:
                self.phonebook.replace_key(contact.name, contact.public_key)
                log.warning("%s re-paired with key %s", contact.name, self.discovered.fingerprint)
            else:
                self.phonebook.add(contact)
            self._select_peer(contact.name)  # the phone just paired is the one to call
        except (ValueError, PysnacError) as exc:
            log.warning("could not pin %s: %s", contact.name, exc)
        self._end_offer()

    def refuse_contact(self, event: Any) -> None:
        self._end_offer()

    def _end_offer(self) -> None:
        """The offer is answered (or timed out): a refused new key is forgotten too."""
        if self.repairing and self.discovered is not None and self.new_keys is not None:
            self.new_keys.forget_new_key(self.discovered.contact.name)
        self.discovered = None
        self.repairing = False

    def _new_key_of_selected(self) -> tuple[bytes, str] | None:
        contact = self._selected_contact() if self.new_keys is not None else None
        if contact is None or self.new_keys is None:
            return None
        return self.new_keys.new_key_for(contact.name)

    def selected_key_changed(self, event: Any) -> bool:
        """The selected contact's name now publishes another key (re-pair offered)."""
        return self._new_key_of_selected() is not None

    def offer_repair(self, event: Any) -> None:
        """Show the new key's fingerprint; Select pins it in place of the old one."""
        contact = self._selected_contact()
        new_key = self._new_key_of_selected()
        if contact is None or new_key is None:  # guarded by selected_key_changed
            return
        key, fingerprint = new_key
        self.discovered = Discovered(Contact(contact.name, key, contact.address), fingerprint)
        self.repairing = True

    def take_directory_status(self, event: Any) -> None:
        status = _data(event)
        if isinstance(status, DirectoryStatus):
            self.directory[status.backend] = status.online

    def take_audio_status(self, event: Any) -> None:
        status = _data(event)
        self.audio_problem = status.reason if isinstance(status, Failure) else ""

    # --- calls ---------------------------------------------------------------------------
    def choose_contact(self, event: Any) -> None:
        contact = self._selected_contact()
        assert contact is not None  # guarded by has_contacts
        self.call = ActiveCall(peer=contact.name, outgoing=True, contact=contact)
        self.reason = ""

    def place_call(self, event: Any) -> None:
        if self.call is not None and self.call.contact is not None:
            self._service("place_call", self.call.contact)

    def start_ringback(self, event: Any) -> None:
        if self.call is not None:
            self.call.ringback = True

    def take_incoming(self, event: Any) -> None:
        incoming = _data(event)
        if not isinstance(incoming, IncomingCall):
            incoming = IncomingCall(peer_name="?", public_key=b"", known=False, fingerprint="")
        self.discovered = None  # a pending pairing offer is dropped when the phone rings
        self.repairing = False
        self.call = ActiveCall(
            peer=incoming.peer_name,
            outgoing=False,
            known=incoming.known,
            fingerprint=incoming.fingerprint,
        )
        self.reason = ""

    def take_refused_caller(self, event: Any) -> None:
        """A pinned contact called with another key (refused by the call service): the
        hang-up screen and the recent calls name who it claimed to be."""
        failure = _data(event)
        peer = failure.peer if isinstance(failure, Failure) and failure.peer else "?"
        self.discovered = None
        self.repairing = False
        self.call = ActiveCall(peer=peer, outgoing=False)

    def answer_call(self, event: Any) -> None:
        self._service("answer_call")

    def take_established(self, event: Any) -> None:
        established = _data(event)
        if self.call is None:
            self.call = ActiveCall(peer="?", outgoing=True)
        if isinstance(established, Established):
            self.call.sas = established.sas
            if established.peer_name:
                self.call.peer = established.peer_name
        self.call.connected_at = _now(event)
        self.link = LinkStats()

    def start_media(self, event: Any) -> None:
        self.muted = False
        self._service("start_media")
        self._service("set_volume", self.volume)

    def stop_media(self, event: Any) -> None:
        # Leaving in_call must not fail: a failure here is logged, the call still ends.
        try:
            self.link = self.service.link_stats()
        except Exception:
            log.exception("link_stats failed")
        try:
            self.service.stop_media()
        except Exception:
            log.exception("stop_media failed")

    def raise_volume(self, event: Any) -> None:
        self.volume = min(VOLUME_MAX, self.volume + 1)
        self._service("set_volume", self.volume)

    def lower_volume(self, event: Any) -> None:
        self.volume = max(VOLUME_MIN, self.volume - 1)
        self._service("set_volume", self.volume)

    def flip_mute(self, event: Any) -> None:
        self.muted = not self.muted
        self._service("set_muted", self.muted)

    def refresh_link(self, event: Any) -> None:
        try:
            self.link = self.service.link_stats()
        except Exception:
            log.exception("link_stats failed")

    # --- how calls end -------------------------------------------------------------------
    def _end(self, reason: str, now: float) -> None:
        self.reason = reason[:REASON_MAX_CHARS]
        call = self.call
        if call is not None and call.connected_at is not None:
            self.duration_s = max(0.0, now - call.connected_at)
        else:
            self.duration_s = 0.0

    def take_failure(self, event: Any) -> None:
        name = event.event.name
        failure = _data(event)
        reason = DEFAULT_REASONS.get(name, "Call ended")
        if name == EventName.REMOTE_HUNG_UP.value and self.state == table.RINGING:
            reason = REASON_MISSED
        elif name != EventName.KEY_CHANGED.value and isinstance(failure, Failure):
            reason = failure.reason or reason
        if isinstance(failure, Failure) and failure.detail:
            log.warning("call ended (%s): %s", reason, failure.detail)
        self._end(reason, _now(event))

    def cancel_outgoing(self, event: Any) -> None:
        self._service("cancel_call")
        self._end(REASON_CANCELLED, _now(event))
        self.record_call(event)

    def give_up_no_answer(self, event: Any) -> None:
        self._service("cancel_call")
        self._end(REASON_NO_ANSWER, _now(event))

    def reject_incoming(self, event: Any) -> None:
        self._service("reject_call")
        self._end(REASON_REJECTED, _now(event))
        self.record_call(event)

    def miss_incoming(self, event: Any) -> None:
        self._service("reject_call")
        self._end(REASON_MISSED, _now(event))

    def _abort_handshake(self) -> None:
        outgoing = self.call is None or self.call.outgoing
        self._service("cancel_call" if outgoing else "reject_call")

    def abort_key_exchange(self, event: Any) -> None:
        self._abort_handshake()
        self._end(REASON_CANCELLED, _now(event))

    def handshake_timed_out(self, event: Any) -> None:
        self._abort_handshake()
        self._end(REASON_HANDSHAKE, _now(event))

    def hang_up_local(self, event: Any) -> None:
        self._service("hang_up")
        self._end(REASON_HUNG_UP, _now(event))

    def record_call(self, event: Any) -> None:
        """Entering hangup (or ending before connect): one line in the recent calls."""
        call = self.call
        if call is None:
            return
        self.history.add(
            CallRecord(
                direction=OUTGOING if call.outgoing else INCOMING,
                peer=call.peer,
                duration_s=round(self.duration_s, 1),
                outcome=self.reason,
            )
        )
        self._select_peer(call.peer)  # the home screen now offers to call them back
        self.last_call = call
        self.call = None
