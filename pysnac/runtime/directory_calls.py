"""A `CallService` that finds a contact's address in the directory before calling it.

The state machine asks `place_call(contact)` on its own thread and expects it to return
at once. A contact pinned by key alone (no static address) must first be found: the
freshest record the directory already watches is used at once; otherwise one lookup runs
on a short-lived worker thread (up to LOOKUP_TIMEOUT_S), and then the real call service
places the call -- or, when nothing was found, the worker posts UNREACHABLE "Not found",
or KEY_CHANGED when a phone with the contact's name now publishes another key. A
`cancel_call` (or `close`) while the lookup runs wins: a generation counter, checked under
the lock the worker places the call under, makes the late answer a no-op. A contact whose
name the directory saw with another key is refused at once with KEY_CHANGED (until the
user re-pairs or refuses the new key on the device). Every other request goes straight
to the wrapped service.

With STUN/TURN configured (`ice`), every call first sends a call offer through the
directory and runs ICE (pysnac/runtime/ice_calls.py) on the worker; the INVITE then goes to
the address of the ICE session that connected -- direct or through the relay. When no
answer comes (a peer without ICE, or a directory that cannot carry offers), the call goes
to the record's address as before.
"""

from __future__ import annotations

import logging
import threading
from dataclasses import replace
from typing import TYPE_CHECKING

from pysnac.call_events import CallEvent, CallService, EventName, Failure, LinkStats, PostEvent
from pysnac.contacts import Contact
from pysnac.runtime.directory import LOOKUP_TIMEOUT_S, Directory

if TYPE_CHECKING:
    from pysnac.runtime.ice_calls import IceCalls

log = logging.getLogger(__name__)

WORKER_JOIN_S = LOOKUP_TIMEOUT_S + 12.0  # a lookup, or an ICE offer, answer and checks


class DirectoryCallService:
    """Wraps a `CallService`; only `place_call` changes (it resolves the address)."""

    def __init__(
        self,
        inner: CallService,
        directory: Directory,
        post: PostEvent,
        lookup_timeout_s: float = LOOKUP_TIMEOUT_S,
        ice: IceCalls | None = None,
    ) -> None:
        self.inner = inner
        self.ice = ice  # with STUN/TURN: every call first offers ICE through the directory
        self.directory = directory
        self._post = post
        self.lookup_timeout_s = lookup_timeout_s
        self._lock = threading.Lock()
        self._generation = 0
        self._closed = False
        self._worker: threading.Thread | None = None

    # ---- the one request that changes -------------------------------------------------

    def place_call(self, contact: Contact) -> None:
        with self._lock:
            self._generation += 1
            generation = self._generation
        refusal = self.directory.refusal(contact)
        if refusal is not None:  # its name publishes another key: never call the old one
            self._post(refusal)
            return
        address = self.directory.address_for(contact)
        if address is not None and self.ice is None:
            self.inner.place_call(replace(contact, address=address))
            return
        worker = threading.Thread(
            target=self._find_and_call,
            args=(contact, generation),
            name="directory-lookup",
            daemon=True,
        )
        self._worker = worker
        worker.start()

    def _find_and_call(self, contact: Contact, generation: int) -> None:
        ice_reason = ""
        address: tuple[str, int] | None = None
        if self.ice is not None:  # punch (or relay) first; what the record says otherwise
            path = self.ice.connect(
                contact.public_key, cancelled=lambda: generation != self._generation
            )
            if path is not None:
                address = path.address
            else:
                ice_reason = self.ice.last_reason
        if address is None:
            address = self.directory.address_for(contact) or self.directory.lookup(
                contact, self.lookup_timeout_s
            )
        with self._lock:  # cancel_call takes this lock too: it cannot slip in between
            if generation != self._generation or self._closed:
                log.info("lookup of %s finished after the call was given up", contact.name)
                return
            try:
                if address is not None:
                    self.inner.place_call(replace(contact, address=address))
                    return
                event = self.directory.unreachable(contact)
                if ice_reason and isinstance(event.data, Failure):
                    detail = f"{event.data.detail}; {ice_reason}"
                    event = CallEvent(event.name, Failure(event.data.reason, detail))
            except Exception as exc:  # a bug in the call layer must still end the call
                log.exception("placing the call to %s failed", contact.name)
                event = CallEvent(EventName.UNREACHABLE, Failure("Call failed", str(exc)))
            self._post(event)

    # ---- everything else goes straight through ----------------------------------------

    def start(self) -> DirectoryCallService:
        self.inner.start()
        return self

    def wait_ready(self, timeout_s: float) -> bool:
        return self.inner.wait_ready(timeout_s)

    @property
    def local_address(self) -> tuple[str, int] | None:
        return self.inner.local_address

    def cancel_call(self) -> None:
        with self._lock:
            self._generation += 1
            self.inner.cancel_call()

    def answer_call(self) -> None:
        self.inner.answer_call()

    def reject_call(self) -> None:
        self.inner.reject_call()

    def hang_up(self) -> None:
        self.inner.hang_up()

    def start_media(self) -> None:
        self.inner.start_media()

    def stop_media(self) -> None:
        self.inner.stop_media()

    def set_volume(self, level: int) -> None:
        self.inner.set_volume(level)

    def set_muted(self, muted: bool) -> None:
        self.inner.set_muted(muted)

    def start_tone(self, tone: str, level: int) -> None:
        self.inner.start_tone(tone, level)

    def stop_tone(self) -> None:
        self.inner.stop_tone()

    def link_stats(self) -> LinkStats:
        return self.inner.link_stats()

    def close(self) -> None:
        """Drop a lookup in flight (joined), then close the wrapped service."""
        with self._lock:
            self._closed = True
            self._generation += 1
        worker = self._worker
        if worker is not None:
            worker.join(WORKER_JOIN_S)
        self.inner.close()
