"""Firebase records judged without trusting two phones' clocks to agree, with the REAL
pyrebase4 client against tests/firebase_server.py: the server's own time of each write
(the `{".sv": "timestamp"}` server value) says how old a record is, and the record's
signed timestamp, kept growing by its publisher, orders records so a replay cannot roll
an address back."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from drivers.rendezvous.base import PeerRecord
from drivers.rendezvous.firebase import FirebaseRendezvous
from drivers.rendezvous.record import key_id
from pysnac.channel.identity import Identity
from tests.test_rendezvous_contract import WAIT_S, collector, is_status, wait_event
from tests.test_rendezvous_firebase import Project

DAY_S = 86_400.0
ALICE_AT = [("198.51.100.4", 47000)]
ALICE_MOVED = [("198.51.100.9", 47001)]


class Clock:
    """A settable clock (seconds)."""

    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = Project(tmp_path)
    yield project
    project.server.stop()


def _phone(
    project: Project, name: str, identity: Identity, **kwargs: object
) -> tuple[FirebaseRendezvous, Callable[[], None]]:
    """A started phone; returns once its first record is written (it knows server time)."""
    events, post = collector()
    phone = project.open(project.device(name, identity), report=post, **kwargs)
    phone.start(identity, name, ALICE_AT if name == "alice" else [("203.0.113.5", 47000)])
    wait_event(events, is_status("firebase", True))
    return phone, lambda: wait_event(events, is_status("firebase", True))


def test_phones_whose_clocks_differ_by_a_day_find_each_other(project: Project) -> None:
    import time

    alice_id, bob_id = Identity.generate(), Identity.generate()
    alice, _ = _phone(project, "alice", alice_id, clock=lambda: time.time() + DAY_S)
    bob, _ = _phone(project, "bob", bob_id, clock=lambda: time.time() - DAY_S)
    try:
        found = bob.lookup(alice_id.signing_public, WAIT_S)
        assert found is not None and found.addresses == ALICE_AT
        assert alice.lookup(bob_id.signing_public, WAIT_S) is not None
        seen: list[PeerRecord] = []
        bob.watch(alice_id.signing_public, seen.append)
        alice.update(ALICE_MOVED)
        project.server.wait_until(lambda: any(r.addresses == ALICE_MOVED for r in seen))
        assert bob.rejected.snapshot() == {}
    finally:
        alice.stop()
        bob.stop()


def test_a_replayed_older_record_does_not_roll_an_address_back(project: Project) -> None:
    alice_id, bob_id = Identity.generate(), Identity.generate()
    kid = f"phones/{key_id(alice_id.signing_public)}"
    alice, _ = _phone(project, "alice", alice_id)
    bob, _ = _phone(project, "bob", bob_id)
    try:
        old_text = project.server.get_raw(kid)["record"]
        seen: list[PeerRecord] = []
        bob.watch(alice_id.signing_public, seen.append)
        alice.update(ALICE_MOVED)
        project.server.wait_until(lambda: any(r.addresses == ALICE_MOVED for r in seen))
        # the attacker writes the old signed record back, freshly dated by the server
        project.server.set_raw(kid, {"record": old_text, "at": {".sv": "timestamp"}})
        assert bob.lookup(alice_id.signing_public, WAIT_S) is None
        assert bob.rejected.snapshot().get("replayed", 0) >= 1
        assert seen[-1].addresses == ALICE_MOVED
    finally:
        alice.stop()
        bob.stop()


def test_a_restart_with_the_clock_a_day_behind_still_publishes_newer(project: Project) -> None:
    import time

    alice_id, bob_id = Identity.generate(), Identity.generate()
    alice, _ = _phone(project, "alice", alice_id)
    bob, _ = _phone(project, "bob", bob_id)
    try:
        assert bob.lookup(alice_id.signing_public, WAIT_S) is not None
        alice.stop()
        # alice restarts with no real-time clock: a day behind, and moved meanwhile
        events, post = collector()
        alice = project.open(
            project.device("alice2", alice_id), report=post, clock=lambda: time.time() - DAY_S
        )
        alice.start(alice_id, "alice", ALICE_MOVED)
        wait_event(events, is_status("firebase", True))
        found = bob.lookup(alice_id.signing_public, WAIT_S)
        assert found is not None and found.addresses == ALICE_MOVED
    finally:
        alice.stop()
        bob.stop()


def test_a_record_is_fresh_for_its_lifetime_from_the_servers_time(tmp_path: Path) -> None:
    server_clock = Clock(1_800_000_000.0)
    bob_monotonic = Clock(100.0)
    lifetime_ms = 60_000
    project = Project(tmp_path)
    project.server.clock = server_clock
    alice_id, bob_id = Identity.generate(), Identity.generate()
    alice, _ = _phone(project, "alice", alice_id, lifetime_ms=lifetime_ms)
    alice.stop()  # alice goes away: her record stays in the database
    # bob's wall clock is a day off; only the server's time and bob's monotonic clock count
    bob, _ = _phone(
        project, "bob", bob_id, clock=lambda: server_clock() + DAY_S, monotonic=bob_monotonic
    )
    try:

        def remaining_ms() -> int | None:
            found = bob.lookup(alice_id.signing_public, WAIT_S)
            return None if found is None else found.expires_ms - found.timestamp_ms

        assert remaining_ms() == lifetime_ms
        server_clock.now += 30.0
        bob_monotonic.now += 30.0
        assert remaining_ms() == lifetime_ms - 30_000  # life spent in the database is gone
        server_clock.now += 30.0
        bob_monotonic.now += 30.0
        assert remaining_ms() is None
        assert bob.rejected.snapshot().get("expired", 0) == 1
    finally:
        bob.stop()
        project.server.stop()
