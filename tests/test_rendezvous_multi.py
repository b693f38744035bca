"""Several backends at once (`open_rendezvous`): the freshest record wins, a dead backend
does not stop the others, watchers see each record once. Firebase here is the real
pyrebase4 client against tests/firebase_server.py (a protocol test server)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from drivers.rendezvous import open_rendezvous
from drivers.rendezvous.base import RendezvousError
from drivers.rendezvous.firebase import FirebaseRendezvous
from drivers.rendezvous.multi import MultiRendezvous
from drivers.rendezvous.static import StaticRendezvous
from pysnac.channel.identity import Identity
from pysnac.contacts import Contact
from tests.test_rendezvous_contract import WAIT_S, Watcher, collector, is_status, wait_event
from tests.test_rendezvous_firebase import Project, _wait_published

OLD = ("192.0.2.1", 47000)
NEW = ("198.51.100.7", 47001)


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = Project(tmp_path)
    yield project
    project.server.stop()


def test_freshest_record_wins_and_a_dead_backend_is_survived(project: Project) -> None:
    alice_id = Identity.generate()
    alice = project.open(project.device("alice", alice_id))
    events, post = collector()
    bob = open_rendezvous(
        ["static", "firebase"],
        report=post,
        contacts=[Contact("alice", alice_id.signing_public, OLD)],
        firebase_config=project.device("bob"),
    )
    try:
        assert isinstance(bob, MultiRendezvous)
        assert bob.lookup(alice_id.signing_public, WAIT_S).addresses == [OLD]  # static only
        alice.start(alice_id, "alice", [NEW])
        _wait_published(project, alice_id)
        assert bob.lookup(alice_id.signing_public, WAIT_S).addresses == [NEW]  # she moved
        wait_event(events, is_status("firebase", True))
        project.server.stop()
        record = bob.lookup(alice_id.signing_public, WAIT_S)
        assert record is not None and record.addresses == [OLD]  # static still answers
        assert bob.status() == {"static": True, "firebase": False}
        wait_event(events, is_status("firebase", False))
    finally:
        alice.stop()
        bob.stop()


def test_a_hung_backend_costs_only_the_timeout(project: Project, tmp_path: Path) -> None:
    """A database that accepts connections and never answers: the lookup returns the
    other backends' answer when its timeout is up."""
    hung = socket.socket()
    hung.bind(("127.0.0.1", 0))
    hung.listen(8)  # never accepted: connects succeed, reads hang
    host, port = hung.getsockname()
    config = project.device("bob")
    key = Identity.generate().signing_public
    static = StaticRendezvous([Contact("alice", key, OLD)])
    from drivers.rendezvous.firebase_auth import load_firebase_config

    fb_config = load_firebase_config(config, database_url=f"http://{host}:{port}")
    fb_config = type(fb_config)(**{**fb_config.__dict__, "auth_emulator_host": f"{host}:{port}"})
    firebase = FirebaseRendezvous(fb_config, retry_min_s=5.0, http_timeout_s=1.0)
    multi = MultiRendezvous([static, firebase])
    try:
        started = time.monotonic()
        record = multi.lookup(key, 0.5)
        elapsed = time.monotonic() - started
        assert record is not None and record.addresses == [OLD]
        assert elapsed < 2.0, elapsed
        assert multi.status() == {"static": True, "firebase": False}
    finally:
        multi.stop()
        hung.close()


def test_watchers_get_each_record_once_across_backends(project: Project) -> None:
    alice_id = Identity.generate()
    alice = project.open(project.device("alice", alice_id))
    bob = MultiRendezvous(
        [project.open(project.device("bob1")), project.open(project.device("bob2"))]
    )
    watcher = Watcher()
    try:
        bob.watch(alice_id.signing_public, watcher)
        alice.start(alice_id, "alice", [OLD])
        watcher.wait_for(lambda r: r.addresses == [OLD])
        alice.update([NEW])
        watcher.wait_for(lambda r: r.addresses == [NEW])
    finally:
        alice.stop()
        bob.stop()  # joins every backend thread: no delivery can follow
    stamps = [r.timestamp_ms for r in watcher.records]
    assert stamps == sorted(set(stamps)), "a record was delivered twice or out of order"


def test_open_rendezvous_checks_its_arguments(tmp_path: Path) -> None:
    with pytest.raises(RendezvousError, match="unknown rendezvous backend carrier-pigeon"):
        open_rendezvous(["static", "carrier-pigeon"])
    with pytest.raises(RendezvousError, match="--firebase-config"):
        open_rendezvous(["firebase"])
    single = open_rendezvous(["static", "static"])
    assert isinstance(single, StaticRendezvous)
    single.stop()
