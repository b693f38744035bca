"""The phone's directory: the rendezvous backends joined to the phonebook and the LCD.

A `Directory` opens the configured rendezvous backends (`[rendezvous] backends`, one at
a time, so a backend that cannot even be set up -- a missing Firebase file -- is shown
offline while the others run), publishes this device's signed record, and watches every
pinned contact's key so it always knows the freshest verified address of each. It never
decides trust (docs/rendezvous.md): it only answers "where is the phone holding this
pinned key?". What the backends report passes through `_on_backend_report`, which turns it
into the state machine's events:

- a BackendStatus becomes DIRECTORY_STATUS (the Idle screen's indicator); the directory posts
  each backend's first status itself, before starting it, so a backend that is offline
  from the start shows as offline.
- a PhoneFound (a phone whose key is not pinned) becomes CONTACT_DISCOVERED, a trust-on-first-use
  offer, without its address (the rendezvous finds it again; a LAN address is no fixed
  address), unless its name is that of a pinned contact: then it is a KEY CHANGE. It is
  NOT offered (accepting a new key for a known name must be the user's own act); it is
  kept as the contact's "new key", which the Contacts screen flags and the re-pair screen
  shows with its fingerprint (`new_key_for`, `forget_new_key`).

Thread-safe: backend threads deliver records and events, the state machine thread and the
call lookups read. `stop()` joins every backend thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import replace
from typing import TYPE_CHECKING

from drivers.rendezvous.base import BackendStatus, PhoneFound
from pysnac.call_events import (
    CallEvent,
    DirectoryStatus,
    Discovered,
    EventName,
    Failure,
    PostEvent,
)
from pysnac.contacts import Contact

if TYPE_CHECKING:
    from drivers.rendezvous.base import Address, PeerRecord, Rendezvous, Report, SigningIdentity
    from pysnac.config import Config
    from pysnac.phonebook import Phonebook

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 2.0  # a call to a contact with no known address waits this long for one
STATIC_BACKEND = "static"  # has no reachability of its own: never shown on the LCD

# kind, report, phonebook -> one backend (raises RendezvousError/ConfigError on bad set-up)
RendezvousOpener = Callable[[str, "Report", "Phonebook"], "Rendezvous"]


def config_rendezvous_opener(config: Config) -> RendezvousOpener:
    """Backends as the config says: static from the phonebook, firebase from its JSON."""

    def opener(kind: str, report: Report, phonebook: Phonebook) -> Rendezvous:
        from drivers.rendezvous import open_rendezvous

        return open_rendezvous(
            [kind],
            report=report,
            contacts=phonebook.contacts,
            is_known=lambda key: phonebook.find_by_key(key) is not None,
            firebase_config=config.rendezvous.firebase_config,
        )

    return opener


class Directory:
    """Rendezvous for one phone: `start(post, identity, name, addresses)`, then
    `address_for`/`lookup` per call, `new_key_for` for re-pairing, `stop()`."""

    def __init__(
        self,
        kinds: list[str] | tuple[str, ...],
        opener: RendezvousOpener,
        phonebook: Phonebook,
        *,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.kinds = list(kinds)
        self._opener = opener
        self.phonebook = phonebook
        self._clock = clock
        self._lock = threading.Lock()
        self._post: PostEvent | None = None
        self.rendezvous: Rendezvous | None = None
        self.failed: dict[str, str] = {}  # backend -> why it could not be set up
        self._records: dict[bytes, PeerRecord] = {}  # newest verified record per key
        self._watched: set[bytes] = set()
        self._new_keys: dict[str, tuple[bytes, str]] = {}  # casefolded name -> (key, fp)
        self._changed = threading.Condition()  # a record or a new key arrived

    # ---- lifecycle --------------------------------------------------------------------

    def start(
        self, post: PostEvent, identity: SigningIdentity, name: str, addresses: list[Address]
    ) -> None:
        """Open the backends, show their status, publish, watch the pinned contacts."""
        self._post = post
        backends: list[Rendezvous] = []
        for kind in self.kinds:
            try:
                backends.append(self._opener(kind, self._on_backend_report, self.phonebook))
            except Exception as exc:  # a rendezvous fault never stops the phone
                self.failed[kind] = str(exc)
                log.error("rendezvous %s not started: %s", kind, exc)
                post(CallEvent(EventName.DIRECTORY_STATUS, DirectoryStatus(kind, False)))
        if not backends:
            return
        if len(backends) == 1:
            rendezvous = backends[0]
        else:
            from drivers.rendezvous.multi import MultiRendezvous

            rendezvous = MultiRendezvous(backends)
        for backend, online in rendezvous.status().items():
            if backend != STATIC_BACKEND:
                post(CallEvent(EventName.DIRECTORY_STATUS, DirectoryStatus(backend, online)))
        self.rendezvous = rendezvous
        try:
            rendezvous.start(identity, name, addresses)
        except Exception:
            log.exception("rendezvous start failed")
        for contact in self.phonebook.contacts():
            self._watch(contact.public_key)

    def stop(self) -> None:
        """Withdraw our record where possible; join every backend thread."""
        rendezvous, self.rendezvous = self.rendezvous, None
        if rendezvous is not None:
            try:
                rendezvous.stop()
            except Exception:
                log.exception("rendezvous stop failed")

    def status(self) -> dict[str, bool]:
        status = {kind: False for kind in self.failed}
        if self.rendezvous is not None:
            status.update(self.rendezvous.status())
        return status

    # ---- where a contact is -----------------------------------------------------------

    def address_for(self, contact: Contact) -> Address | None:
        """At once, no network: the freshest unexpired signed record's address, else the
        contact's static address, else None (then `lookup`)."""
        self._watch(contact.public_key)
        with self._lock:
            record = self._records.get(contact.public_key)
        if record is not None and record.timestamp_ms > 0 and self._fresh(record):
            return record.addresses[0]
        return contact.address

    def lookup(self, contact: Contact, timeout_s: float = LOOKUP_TIMEOUT_S) -> Address | None:
        """Ask the backends (blocks up to `timeout_s`); the freshest record's address."""
        rendezvous = self.rendezvous
        if rendezvous is None:
            return contact.address
        self._watch(contact.public_key)
        try:
            record = rendezvous.lookup(contact.public_key, timeout_s)
        except Exception:
            log.exception("rendezvous lookup failed")
            record = None
        if record is None or not record.addresses:
            return contact.address
        self._keep(record)
        return record.addresses[0]

    def refusal(self, contact: Contact) -> CallEvent | None:
        """KEY_CHANGED when a phone with `contact`'s name publishes another key: the call
        is refused until the user re-pairs (or refuses the new key) on the device."""
        new_key = self.new_key_for(contact.name)
        if new_key is None:
            return None
        detail = f"{contact.name} now publishes key {new_key[1]}; re-pair on the device"
        return CallEvent(EventName.KEY_CHANGED, Failure("KEY CHANGED", detail))

    def unreachable(self, contact: Contact) -> CallEvent:
        """Why a call to `contact` found no address (KEY CHANGED, or not found)."""
        refusal = self.refusal(contact)
        if refusal is not None:
            return refusal
        detail = f"no rendezvous backend knows where {contact.name} is"
        return CallEvent(EventName.UNREACHABLE, Failure("Not found", detail))

    def wait_for(self, predicate: Callable[[], bool], timeout_s: float) -> bool:
        """Block until `predicate()` holds, re-checked whenever a record or a new key
        arrives (tests and benches; the phone itself never waits)."""
        with self._changed:
            return self._changed.wait_for(predicate, timeout=timeout_s)

    def _notify(self) -> None:
        with self._changed:
            self._changed.notify_all()

    # ---- key changes ------------------------------------------------------------------

    def new_key_for(self, name: str) -> tuple[bytes, str] | None:
        """(key, fingerprint) a phone named `name` published instead of the pinned key."""
        with self._lock:
            found = self._new_keys.get(name.casefold())
        contact = self.phonebook.get(name)
        if found is None or contact is None or contact.public_key == found[0]:
            return None
        return found

    def forget_new_key(self, name: str) -> None:
        """After a re-pair (the key is now pinned) or a refusal (it is not trusted)."""
        with self._lock:
            self._new_keys.pop(name.casefold(), None)
        contact = self.phonebook.get(name)
        if contact is not None:
            self._watch(contact.public_key)
        self._notify()

    # ---- from the backends ------------------------------------------------------------

    def _on_backend_report(self, report: BackendStatus | PhoneFound) -> None:
        post = self._post
        if post is None:
            return
        if isinstance(report, BackendStatus):
            status = DirectoryStatus(report.backend, report.online)
            post(CallEvent(EventName.DIRECTORY_STATUS, status))
            return
        if isinstance(report, PhoneFound):
            found = report.contact
            if self.phonebook.find_by_key(found.public_key) is not None:
                return  # pinned meanwhile
            wanted = found.name.casefold()
            pinned = next(
                (c for c in self.phonebook.contacts() if c.name.casefold() == wanted), None
            )
            if pinned is not None:
                log.warning(
                    "KEY CHANGED: a phone named %s publishes key %s, not the pinned one",
                    found.name,
                    report.fingerprint,
                )
                with self._lock:
                    self._new_keys[wanted] = (found.public_key, report.fingerprint)
                self._notify()
                return
            offer = Discovered(replace(found, address=None), report.fingerprint)
            post(CallEvent(EventName.CONTACT_DISCOVERED, offer))

    def _watch(self, public_key: bytes) -> None:
        rendezvous = self.rendezvous
        if rendezvous is None:
            return
        with self._lock:
            if public_key in self._watched:
                return
            self._watched.add(public_key)
        try:
            rendezvous.watch(public_key, self._keep)
        except Exception:
            log.exception("rendezvous watch failed")

    def _keep(self, record: PeerRecord) -> None:
        with self._lock:
            old = self._records.get(record.public_key)
            if old is None or record.timestamp_ms >= old.timestamp_ms:
                self._records[record.public_key] = record
                if old is not None and old.addresses != record.addresses:
                    log.info("%s moved to %s", record.name, record.addresses)
        self._notify()

    def _fresh(self, record: PeerRecord) -> bool:
        return record.expires_ms > int(self._clock() * 1000)
