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
  address), its name mapped to what the LCD can show (`lcd_text.lcd_name`).
- Pinned by key, never by name. A phone whose name is (or looks like) a pinned contact's
  while that contact's own key is alive (a fresh record of it) is a stranger: it is
  offered as one, its name marked with LOOKALIKE_MARK ("?bob") so it cannot be taken for
  the contact, with its own fingerprint. Only when the pinned key has no fresh record is
  the new key kept as the contact's possible "new key" (KEY CHANGED), which the Contacts
  screen flags and the re-pair screen shows (`new_key_for`, `forget_new_key`); it never
  replaces the pinned key by itself.
- Offers queue (at most MAX_QUEUED_OFFERS) and wait until `ready_for_offer()` (the phone
  is Idle; the app calls `offer_next` on entering Idle); at most one every
  OFFER_MIN_INTERVAL_S, and a key offered once is offered again only after OFFER_AGAIN_S
  (a refused phone can come back later, not at once; a LAN flooding offers cannot keep
  the screen busy).

Records are fresh by when we received them, never by comparing the publisher's clock
with ours: a record is kept for its own lifetime (expires - timestamp, both the
publisher's) from its arrival, and a publisher's records are ordered by its own
timestamps.

Thread-safe: backend threads deliver records and events, the state machine thread and the
call lookups read. `stop()` joins every backend thread.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING

from drivers.rendezvous.base import BackendStatus, OfferWatcher, PhoneFound
from pysnac.call_events import (
    CallEvent,
    DirectoryStatus,
    Discovered,
    EventName,
    Failure,
    PostEvent,
)
from pysnac.contacts import Contact
from pysnac.lcd_text import LOOKALIKE_MARK, lcd_name, looks_like
from pysnac.limits import NAME_MAX_CHARS
from pysnac.runtime.host_addresses import HostAddressWatcher

if TYPE_CHECKING:
    from drivers.rendezvous.base import Address, PeerRecord, Rendezvous, Report, SigningIdentity
    from pysnac.config import Config
    from pysnac.phonebook import Phonebook

log = logging.getLogger(__name__)

LOOKUP_TIMEOUT_S = 2.0  # a call to a contact with no known address waits this long for one
STATIC_BACKEND = "static"  # has no reachability of its own: never shown on the LCD
OFFER_MIN_INTERVAL_S = 30.0  # at most one discovery offer shown per this many seconds
OFFER_AGAIN_S = 600.0  # a key offered and not pinned is offered again only after this
MAX_QUEUED_OFFERS = 8  # offers beyond this are dropped (they come back with the next record)
MAX_REMEMBERED_OFFERS = 1024  # keys whose last offer time is kept

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
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.kinds = list(kinds)
        self._opener = opener
        self.phonebook = phonebook
        self._clock = clock  # monotonic: when records and offers arrived
        self.ready_for_offer: Callable[[], bool] = lambda: True
        self._offers: dict[bytes, Discovered] = {}  # queued, oldest first
        self._offered_at: dict[bytes, float] = {}
        self._last_offer_at = float("-inf")
        self._offer_timer: threading.Timer | None = None
        self._received: dict[bytes, float] = {}  # when the newest record per key arrived
        self._lock = threading.Lock()
        self._post: PostEvent | None = None
        self.rendezvous: Rendezvous | None = None
        self.failed: dict[str, str] = {}  # backend -> why it could not be set up
        self._records: dict[bytes, PeerRecord] = {}  # newest verified record per key
        self._watched: set[bytes] = set()
        self._new_keys: dict[str, tuple[bytes, str]] = {}  # casefolded name -> (key, fp)
        self._changed = threading.Condition()  # a record or a new key arrived
        self._host_watcher: HostAddressWatcher | None = None
        self._on_offer: OfferWatcher | None = None
        self._addresses: list[Address] = []  # what start() published, for rename()

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
        if self._on_offer is not None:
            rendezvous.watch_offers(self._on_offer)
        self._addresses = list(addresses)
        try:
            rendezvous.start(identity, name, addresses)
        except Exception:
            log.exception("rendezvous start failed")
        for contact in self.phonebook.contacts():
            self._watch(contact.public_key)

    def rename(self, name: str) -> None:
        """Republish our record under the device's new name at once (not at the next
        refresh): other phones' watches and lookups see it."""
        rendezvous = self.rendezvous
        if rendezvous is None:
            return
        try:
            rendezvous.update(self._addresses, name)
        except Exception:  # a rendezvous fault never stops the phone
            log.exception("rendezvous rename failed")

    def stop(self) -> None:
        """Withdraw our record where possible; join every backend thread."""
        rendezvous, self.rendezvous = self.rendezvous, None
        with self._lock:
            timer, self._offer_timer = self._offer_timer, None
        if timer is not None:
            timer.cancel()
        watcher, self._host_watcher = self._host_watcher, None
        if watcher is not None:
            watcher.close()
        if rendezvous is not None:
            try:
                rendezvous.stop()
            except Exception:
                log.exception("rendezvous stop failed")

    def follow_host_addresses(self, addresses: list[Address]) -> None:
        """Re-publish `addresses` whenever the host's addresses behind their wildcards
        change (a late network, a new lease), on the `net-hosts` thread until `stop()`.
        For phones without STUN/TURN; with them, the ICE reachability thread does it."""
        from drivers.rendezvous.base import expand_wildcards

        watcher = HostAddressWatcher(addresses, lambda: expand_wildcards(addresses), self.update)
        self._host_watcher = watcher.start()

    def update(self, addresses: list[Address]) -> None:
        """Re-publish our record with new addresses (the network changed)."""
        rendezvous = self.rendezvous
        if rendezvous is None:
            return
        try:
            rendezvous.update(addresses)
        except Exception:
            log.exception("re-publishing our addresses failed")

    def publish_offer(self, text: str) -> bool:
        """Leave a sealed call offer in our node (False: no backend could carry it)."""
        rendezvous = self.rendezvous
        if rendezvous is None:
            return False
        try:
            return rendezvous.publish_offer(text)
        except Exception:
            log.exception("publishing a call offer failed")
            return False

    def watch_offers(self, on_offer: OfferWatcher) -> None:
        """Offers our pinned contacts leave in their nodes go to `on_offer` (set before
        `start`, or at once if started)."""
        self._on_offer = on_offer
        if self.rendezvous is not None:
            self.rendezvous.watch_offers(on_offer)

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
        if record is not None and record.timestamp_ms > 0 and self.alive(contact.public_key):
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
        """(key, fingerprint) a phone named `name` published instead of the pinned key, while
        the pinned key itself has no fresh record (never while it is alive)."""
        with self._lock:
            found = self._new_keys.get(name.casefold())
        contact = self.phonebook.get(name)
        if found is None or contact is None or contact.public_key == found[0]:
            return None
        if self.alive(contact.public_key):
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
            self._on_phone_found(report)

    def _on_phone_found(self, report: PhoneFound) -> None:
        found = report.contact
        if self.phonebook.find_by_key(found.public_key) is not None:
            return  # pinned meanwhile
        name = lcd_name(found.name)
        holder = next((c for c in self.phonebook.contacts() if looks_like(c.name, name)), None)
        if holder is not None and not self.alive(holder.public_key):
            log.warning(
                "a phone named %s publishes key %s; the pinned key has no fresh record",
                name,
                report.fingerprint,
            )
            with self._lock:
                self._new_keys[holder.name.casefold()] = (found.public_key, report.fingerprint)
            self._notify()
            return
        if holder is not None:  # the contact is alive elsewhere: this is a stranger
            log.warning("a stranger (key %s) calls itself %s", report.fingerprint, name)
            name = (LOOKALIKE_MARK + name)[:NAME_MAX_CHARS]
        offer = Discovered(Contact(name, found.public_key, None), report.fingerprint)
        now = self._clock()
        with self._lock:
            key = found.public_key
            if key in self._offers or now < self._offered_at.get(key, -OFFER_AGAIN_S) + (
                OFFER_AGAIN_S
            ):
                return
            if len(self._offers) >= MAX_QUEUED_OFFERS:
                return  # a flood waits its turn; a real phone announces itself again
            self._offers[key] = offer
        self.offer_next()

    def offer_next(self) -> None:
        """Post the oldest queued offer, if the phone is ready and the last offer is at
        least OFFER_MIN_INTERVAL_S old (else a timer retries then)."""
        post = self._post
        if post is None or not self.ready_for_offer():
            return
        now = self._clock()
        with self._lock:
            if not self._offers:
                return
            wait_s = self._last_offer_at + OFFER_MIN_INTERVAL_S - now
            if wait_s > 0:
                if self._offer_timer is None and self._post is not None:
                    self._offer_timer = threading.Timer(wait_s, self._offer_timer_fired)
                    self._offer_timer.daemon = True
                    self._offer_timer.start()
                return
            key = next(iter(self._offers))
            offer = self._offers.pop(key)
            if len(self._offered_at) >= MAX_REMEMBERED_OFFERS:
                del self._offered_at[next(iter(self._offered_at))]
            self._offered_at[key] = now
            self._last_offer_at = now
        if self.phonebook.find_by_key(key) is None:
            post(CallEvent(EventName.CONTACT_DISCOVERED, offer))

    def _offer_timer_fired(self) -> None:
        with self._lock:
            self._offer_timer = None
        self.offer_next()

    def alive(self, public_key: bytes) -> bool:
        """We hold a record of `public_key` within its lifetime, counted from its arrival."""
        with self._lock:
            record = self._records.get(public_key)
            received = self._received.get(public_key)
        if record is None or received is None:
            return False
        lifetime_s = (record.expires_ms - record.timestamp_ms) / 1000.0
        return self._clock() - received < lifetime_s

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
                self._received[record.public_key] = self._clock()
                if old is not None and old.addresses != record.addresses:
                    log.info("%s moved to %s", record.name, record.addresses)
        self._notify()
