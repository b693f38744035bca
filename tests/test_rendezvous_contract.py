"""The rendezvous contract suite, run over every backend by the test_rendezvous_<backend>
files (gpiozero style: one suite, a rig per backend, capabilities declared by the rig).

A rig gives two phones: `alice` publishes, `bob` looks up and watches. Nothing sleeps:
waits are on queues and events with timeouts. This module has no tests of its own.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pytest

from drivers.rendezvous.base import BackendStatus, PeerRecord, PhoneFound, Rendezvous, Report
from drivers.rendezvous.record import MAX_CLOCK_SKEW_MS, RECORD_LIFETIME_MS, sign_record, to_text
from pysnac.channel.identity import Identity

Reported = BackendStatus | PhoneFound  # what a backend reports
WAIT_S = 10.0  # generous: only a failing test waits this long
ABSENT_LOOKUP_S = 0.5  # how long a lookup of a key nobody published may take


@dataclass
class Rig:
    backend: str
    alice: Rendezvous
    bob: Rendezvous
    alice_identity: Identity
    addresses: list[tuple[str, int]]  # what alice publishes first
    new_addresses: list[tuple[str, int]]  # what she moves to
    alice_events: queue.Queue[Reported]
    bob_events: queue.Queue[Reported]
    follows_changes: bool = True
    # plant({key_name_owner: record_text}): put raw record texts where bob will look
    plant: Callable[[dict[bytes, str]], None] | None = None
    # blocks until alice's record is readable where bob looks, for backends whose
    # "online" can come before the first publish (firebase: a reachability probe)
    wait_record_out: Callable[[], None] | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def collector() -> tuple[queue.Queue[Reported], Report]:
    events: queue.Queue[Reported] = queue.Queue()
    return events, events.put


def wait_event(
    events: queue.Queue[Reported], match: Callable[[Reported], bool], timeout_s: float = WAIT_S
) -> Reported:
    deadline = time.monotonic() + timeout_s
    while True:
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            raise AssertionError("expected event never came")
        try:
            event = events.get(timeout=remaining)
        except queue.Empty:
            raise AssertionError("expected event never came") from None
        if match(event):
            return event


def is_status(backend: str, online: bool) -> Callable[[Reported], bool]:
    return lambda e: e == BackendStatus(backend, online)


class Watcher:
    """Collects watched records; `wait_for(pred)` blocks on an event, never sleeps."""

    def __init__(self) -> None:
        self.records: list[PeerRecord] = []
        self._cond = threading.Condition()

    def __call__(self, record: PeerRecord) -> None:
        with self._cond:
            self.records.append(record)
            self._cond.notify_all()

    def wait_for(self, pred: Callable[[PeerRecord], bool], timeout_s: float = WAIT_S) -> PeerRecord:
        with self._cond:
            found: list[PeerRecord] = []

            def ready() -> bool:
                found[:] = [r for r in self.records if pred(r)]
                return bool(found)

            assert self._cond.wait_for(ready, timeout_s), f"no matching record in {self.records}"
            return found[-1]


def bad_records(now_ms: int) -> dict[str, tuple[bytes, str]]:
    """reason -> (key to look up, record text filed under that key), one per fault."""
    out: dict[str, tuple[bytes, str]] = {}
    addr = [("192.0.2.7", 47000)]

    def signed(who: Identity, at_ms: int = now_ms) -> bytes:
        return sign_record(who, "mallory", addr, at_ms)

    m = Identity.generate()
    blob = bytearray(signed(m))
    blob[-70] ^= 0x01  # inside the address, under the signature
    out["bad_signature"] = (m.signing_public, to_text(bytes(blob)))
    m = Identity.generate()
    out["unsigned"] = (m.signing_public, to_text(signed(m)[:-64]))
    m = Identity.generate()
    out["expired"] = (m.signing_public, to_text(signed(m, now_ms - 2 * RECORD_LIFETIME_MS)))
    m = Identity.generate()
    out["future"] = (m.signing_public, to_text(signed(m, now_ms + 2 * MAX_CLOCK_SKEW_MS)))
    m = Identity.generate()
    out["malformed"] = (m.signing_public, to_text(os.urandom(40)))
    victim, m = Identity.generate(), Identity.generate()
    out["wrong_key"] = (victim.signing_public, to_text(signed(m)))
    return out


def publish(rig: Rig) -> None:
    """Alice starts; returns once her backend reports online and her record is out."""
    rig.alice.start(rig.alice_identity, "alice", rig.addresses)
    if not rig.alice.status()[rig.backend]:
        wait_event(rig.alice_events, is_status(rig.backend, True))
    if rig.wait_record_out is not None:
        rig.wait_record_out()


class RendezvousContract:
    """Subclass with a `rig` fixture yielding a `Rig` (and tearing it down)."""

    def test_lookup_finds_published_record(self, rig: Rig) -> None:
        key = rig.alice_identity.signing_public
        publish(rig)
        record = rig.bob.lookup(key, WAIT_S)
        assert record is not None
        assert record.public_key == key
        assert record.name == "alice"
        assert record.addresses == rig.addresses

    def test_lookup_of_unpublished_key_is_none(self, rig: Rig) -> None:
        rig.alice.start(rig.alice_identity, "alice", rig.addresses)
        started = time.monotonic()
        assert rig.bob.lookup(Identity.generate().signing_public, ABSENT_LOOKUP_S) is None
        assert time.monotonic() - started < ABSENT_LOOKUP_S + 2.0  # the timeout is honoured

    def test_watch_follows_an_address_change(self, rig: Rig) -> None:
        if not rig.follows_changes:
            pytest.skip(f"{rig.backend} addresses never change while running")
        key = rig.alice_identity.signing_public
        watcher = Watcher()
        rig.bob.watch(key, watcher)
        rig.alice.start(rig.alice_identity, "alice", rig.addresses)
        first = watcher.wait_for(lambda r: r.addresses == rig.addresses)
        rig.alice.update(rig.new_addresses)
        moved = watcher.wait_for(lambda r: r.addresses == rig.new_addresses)
        assert moved.timestamp_ms > first.timestamp_ms
        # newest-first delivery: never rolled back to the old address afterwards
        assert watcher.records[-1].addresses == rig.new_addresses

    def test_watch_sees_a_rename_at_once(self, rig: Rig) -> None:
        """A renamed phone republishes now: the other phone's record carries the new name."""
        if not rig.follows_changes:
            pytest.skip(f"{rig.backend} records never change while running")
        watcher = Watcher()
        rig.bob.watch(rig.alice_identity.signing_public, watcher)
        publish(rig)
        watcher.wait_for(lambda r: r.name == "alice")
        rig.alice.update(rig.addresses, "Alice K")
        renamed = watcher.wait_for(lambda r: r.name == "Alice K")
        assert renamed.addresses == rig.addresses
        found = rig.bob.lookup(rig.alice_identity.signing_public, WAIT_S)
        assert found is not None and found.name == "Alice K"

    def test_quick_updates_end_at_the_last_address(self, rig: Rig) -> None:
        """An update made while a publish is in flight is not lost."""
        if not rig.follows_changes:
            pytest.skip(f"{rig.backend} addresses never change while running")
        watcher = Watcher()
        rig.bob.watch(rig.alice_identity.signing_public, watcher)
        publish(rig)
        host = rig.addresses[0][0]
        for port in range(47100, 47106):
            rig.alice.update([(host, port)])
        watcher.wait_for(lambda r: r.addresses == [(host, 47105)])

    def test_publisher_goes_online(self, rig: Rig) -> None:
        publish(rig)
        assert rig.alice.status() == {rig.backend: True}

    def test_bad_records_are_dropped_and_counted(self, rig: Rig) -> None:
        if rig.plant is None:
            pytest.skip(f"{rig.backend} carries no records to tamper with")
        cases = bad_records(int(time.time() * 1000))
        if rig.backend in ("lan", "firebase"):  # never judged by our clock (a skewed phone
            del cases["expired"], cases["future"]  # must be found): their own tests
        rig.plant({key: text for key, text in cases.values()})
        for reason, (key, _) in cases.items():
            assert rig.bob.lookup(key, 2.0) is None, reason
        counts = rig.bob.rejected.snapshot()  # type: ignore[attr-defined]
        for reason in cases:
            assert counts.get(reason, 0) >= 1, (reason, counts)
        assert not any(isinstance(e, PhoneFound) for e in list(rig.bob_events.queue)), (
            "a bad record must never be offered to the user"
        )

    def test_stop_joins_threads(self, rig: Rig) -> None:
        publish(rig)
        rig.bob.watch(rig.alice_identity.signing_public, Watcher())
        rig.bob.lookup(rig.alice_identity.signing_public, WAIT_S)
        rig.alice.stop()
        rig.bob.stop()
        leftovers = [t for t in threading.enumerate() if t.name.startswith("rdv-") and t.is_alive()]
        assert leftovers == []
        # pyrebase's own stream threads are non-daemon: none may be left behind
        assert not [t for t in threading.enumerate() if not t.daemon and "start_stream" in t.name]
