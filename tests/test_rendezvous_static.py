"""The static rendezvous (addresses from the config's contacts) through the contract suite."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from drivers.rendezvous.static import STATIC_TIMESTAMP_MS, StaticRendezvous
from pysnac.channel.identity import Identity
from pysnac.contacts import Contact
from tests.test_rendezvous_contract import RendezvousContract, Rig, collector


@pytest.fixture
def rig() -> Iterator[Rig]:
    alice_identity = Identity.generate()
    address = ("192.0.2.10", 47000)
    alice_events, _ = collector()
    bob_events, _ = collector()
    bob = StaticRendezvous([Contact("alice", alice_identity.signing_public, address)])
    rig = Rig(
        "static",
        StaticRendezvous([]),
        bob,
        alice_identity,
        [address],
        [address],
        alice_events,
        bob_events,
        follows_changes=False,
    )
    yield rig
    rig.alice.stop()
    rig.bob.stop()


class TestStatic(RendezvousContract):
    pass


def test_follows_phonebook_edits_and_ignores_contacts_without_address() -> None:
    key = Identity.generate().signing_public
    book: list[Contact] = [Contact("bob", key, None)]
    static = StaticRendezvous(lambda: book)
    assert static.lookup(key, 0.1) is None  # no address configured
    book[:] = [Contact("bob", key, ("198.51.100.1", 5000))]
    record = static.lookup(key, 0.1)
    assert record is not None and record.addresses == [("198.51.100.1", 5000)]
    assert record.timestamp_ms == STATIC_TIMESTAMP_MS  # any signed record is fresher
