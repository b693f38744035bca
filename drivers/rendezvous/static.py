"""The `static` rendezvous: addresses written by hand in the config's contacts.

Nothing is published or signed: the address comes from our own config, which we trust as
much as the pinned key beside it. A static answer is dated 0 so that any fresher signed
record from another backend (a phone that moved) wins when several run at once; it never
expires and never changes, so `watch` has nothing to report.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

from drivers.rendezvous.base import Address, OfferWatcher, PeerRecord, SigningIdentity
from pysnac.contacts import Contact

NAME = "static"
STATIC_TIMESTAMP_MS = 0  # older than any signed record
STATIC_EXPIRES_MS = 2**63 - 1  # never


class StaticRendezvous:
    """Answers lookups from `contacts` (a callable, so a phonebook edit is seen at once)."""

    def __init__(self, contacts: Callable[[], Iterable[Contact]] | Iterable[Contact]) -> None:
        if callable(contacts):
            self._contacts = contacts
        else:
            frozen = tuple(contacts)
            self._contacts = lambda: frozen

    def start(self, identity: SigningIdentity, name: str, addresses: list[Address]) -> None:
        """Nothing to publish: the peer has our address in its own config."""

    def update(self, addresses: list[Address], name: str | None = None) -> None:
        """Nothing to publish."""

    def lookup(self, public_key: bytes, timeout_s: float) -> PeerRecord | None:
        for contact in self._contacts():
            if contact.public_key == public_key and contact.address is not None:
                return PeerRecord(
                    name=contact.name,
                    public_key=contact.public_key,
                    addresses=[contact.address],
                    timestamp_ms=STATIC_TIMESTAMP_MS,
                    expires_ms=STATIC_EXPIRES_MS,
                )
        return None

    def watch(self, public_key: bytes, on_change: Callable[[PeerRecord], None]) -> None:
        """Static addresses never change while running."""

    def publish_offer(self, text: str) -> bool:
        return False  # no place a peer behind a NAT could read it from: peers call directly

    def watch_offers(self, on_offer: OfferWatcher) -> None:
        pass

    def status(self) -> dict[str, bool]:
        return {NAME: True}

    def stop(self) -> None:
        """No threads, no sockets."""
