"""The Firebase rendezvous through the contract suite, with the REAL pyrebase4 client.

By default it talks to tests/firebase_server.py, a protocol test server on loopback (not
Firebase). The same contract suite also runs against a real Firebase project when the
environment provides one (skipped otherwise; see docs/rendezvous.md):

    PYSNAC_FIREBASE_CONFIG=/path/device-a.json   # the project JSON with this device's auth
    PYSNAC_FIREBASE_KEY=/path/identity.key       # the identity whose key_id that account may write

Both phones then use that one account (reads need only any signed-in user); the tests
that plant bad records or take the server down run only against the test server.
"""

from __future__ import annotations

import itertools
import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from drivers.rendezvous.firebase import FirebaseRendezvous
from drivers.rendezvous.firebase_auth import FirebaseConfig, load_firebase_config
from drivers.rendezvous.record import key_id, sign_record, to_text
from pysnac.channel.identity import Identity
from pysnac.errors import ConfigError
from tests.conftest import REPO
from tests.firebase_server import FirebaseTestServer
from tests.test_rendezvous_contract import (
    WAIT_S,
    RendezvousContract,
    Rig,
    Watcher,
    collector,
    is_status,
    wait_event,
)

REAL_CONFIG = os.environ.get("PYSNAC_FIREBASE_CONFIG")
REAL_KEY = os.environ.get("PYSNAC_FIREBASE_KEY")
FAST = {"retry_min_s": 0.05, "retry_max_s": 0.5, "stream_read_timeout_s": 5.0}


class Project:
    """A test server with rules like docs/rendezvous.md: a device writes only the node
    its account owns (`owners[uid] == key_id`)."""

    def __init__(self, tmp_path: Path) -> None:
        self.owners: dict[str, str] = {}
        self.server = FirebaseTestServer(keepalive_s=0.3, write_allowed=self._rules).start()
        self.tmp_path = tmp_path

    def _rules(self, uid: str, keys: list[str]) -> bool:
        return len(keys) == 2 and keys[0] == "phones" and self.owners.get(uid) == keys[1]

    def device(
        self, name: str, identity: Identity | None = None, password: str | None = None
    ) -> Path:
        """A user account for `name` owning `identity`'s node; its config file (0600)."""
        uid = f"uid-{name}"
        self.server.add_user(f"{name}@example.test", f"pw-{name}", uid)
        if identity is not None:
            self.owners[uid] = key_id(identity.signing_public)
        auth = {"email": f"{name}@example.test", "password": password or f"pw-{name}"}
        return self.write_config(name, auth)

    def write_config(self, name: str, auth: dict[str, str]) -> Path:
        path = self.tmp_path / f"{name}.json"
        data = {
            "apiKey": self.server.api_key,
            "authDomain": None,
            "databaseURL": self.server.url,
            "storageBucket": None,
            "auth": auth,
            "authEmulatorHost": self.server.auth_host,
        }
        path.write_text(json.dumps(data))
        path.chmod(0o600)
        return path

    def open(self, config: Path, **kwargs: object) -> FirebaseRendezvous:
        return FirebaseRendezvous(load_firebase_config(config), **{**FAST, **kwargs})  # type: ignore[arg-type]


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Project]:
    project = Project(tmp_path)
    yield project
    project.server.stop()


def _plant(project: Project):
    def plant(texts: dict[bytes, str]) -> None:
        for key, text in texts.items():
            node = {"record": text, "at": {".sv": "timestamp"}}
            project.server.set_raw(f"phones/{key_id(key)}", node)

    return plant


@pytest.fixture(params=["test-server", "real-project"])
def rig(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Rig]:
    alice_events, alice_post = collector()
    bob_events, bob_post = collector()
    addresses, moved = [("198.51.100.4", 47000)], [("198.51.100.9", 47001), ("10.0.0.4", 47001)]
    if request.param == "real-project":
        if not (REAL_CONFIG and REAL_KEY):
            pytest.skip(
                "set PYSNAC_FIREBASE_CONFIG and PYSNAC_FIREBASE_KEY to run on a real project"
            )
        identity = Identity.load(Path(REAL_KEY))
        alice = FirebaseRendezvous(load_firebase_config(REAL_CONFIG), report=alice_post)
        bob = FirebaseRendezvous(load_firebase_config(REAL_CONFIG), report=bob_post)
        yield Rig(
            "firebase",
            alice,
            bob,
            identity,
            addresses,
            moved,
            alice_events,
            bob_events,
            wait_record_out=lambda: _wait_readable(alice, identity),
        )
    else:
        project = Project(tmp_path)
        identity = Identity.generate()
        alice = project.open(project.device("alice", identity), report=alice_post)
        bob = project.open(project.device("bob"), report=bob_post)
        yield Rig(
            "firebase",
            alice,
            bob,
            identity,
            addresses,
            moved,
            alice_events,
            bob_events,
            plant=_plant(project),
            wait_record_out=lambda: _wait_published(project, identity),
            extra={"project": project},
        )
        project.server.stop()
    alice.stop()
    bob.stop()


class TestFirebase(RendezvousContract):
    pass


# -- faults, against the protocol test server only -------------------------------------


def _wait_published(project: Project, identity: Identity, count: int = 1) -> None:
    kid = key_id(identity.signing_public)
    project.server.wait_until(
        lambda: (
            len(project.server.calls("PATCH", kid)) >= count
            and project.server.get_raw(f"phones/{kid}") is not None
        )
    )


def _wait_readable(reader: FirebaseRendezvous, identity: Identity) -> None:
    """On a real project the server cannot be asked: read until the record is there
    (each attempt is a network round trip, not a sleep)."""
    deadline = time.monotonic() + WAIT_S
    while reader.lookup(identity.signing_public, WAIT_S) is None:
        assert time.monotonic() < deadline, "alice's record never appeared"


def _started(project: Project, name: str, **kwargs: object):
    identity = Identity.generate()
    events, post = collector()
    phone = project.open(project.device(name, identity), report=post, **kwargs)
    return identity, phone, events


def test_every_database_request_carries_a_valid_token(project: Project) -> None:
    alice_id, alice, _ = _started(project, "alice")
    try:
        alice.start(alice_id, "alice", [("198.51.100.4", 47000)])
        _wait_published(project, alice_id)
        assert alice.lookup(alice_id.signing_public, WAIT_S) is not None
        database_calls = [e for e in project.server.log if e[1].endswith(".json")]
        assert database_calls and all(uid == "uid-alice" for _, _, uid, _ in database_calls)
        anonymous = requests.get(f"{project.server.url}/phones.json", timeout=5)
        assert anonymous.status_code == 401
    finally:
        alice.stop()


def test_wrong_password_stays_offline_and_backs_off(project: Project) -> None:
    config = project.device("alice", password="not-her-password")
    alice = project.open(config, retry_min_s=0.1, retry_max_s=10.0)
    try:
        project.server.wait_until(
            lambda: len(project.server.calls("POST", "signInWithPassword")) >= 4
        )
        assert alice.status() == {"firebase": False}
        times = [t for _, _, _, t in project.server.calls("POST", "signInWithPassword")]
        gaps = [b - a for a, b in itertools.pairwise(times)]
        for n, gap in enumerate(gaps[:3]):  # each wait is at least the doubled back-off
            assert gap >= 0.1 * 2**n * 0.9, gaps
    finally:
        alice.stop()


def test_rules_refusing_our_write_keep_us_offline_and_retrying(project: Project) -> None:
    mallory = Identity.generate()
    config = project.device("mallory", Identity.generate())  # owns another node, not hers
    phone = project.open(config)
    try:
        phone.start(mallory, "mallory", [("203.0.113.5", 1)])
        project.server.wait_until(lambda: len(project.server.calls("PATCH", "/phones/")) >= 2)
        assert phone.status() == {"firebase": False}
        assert project.server.get_raw(f"phones/{key_id(mallory.signing_public)}") is None
    finally:
        phone.stop()


def test_server_down_then_back(project: Project) -> None:
    alice_id, alice, _ = _started(project, "alice")
    bob_events, bob_post = collector()
    bob = project.open(project.device("bob"), report=bob_post)
    watcher = Watcher()
    try:
        bob.watch(alice_id.signing_public, watcher)
        alice.start(alice_id, "alice", [("198.51.100.4", 47000)])
        watcher.wait_for(lambda r: r.addresses == [("198.51.100.4", 47000)])
        wait_event(bob_events, is_status("firebase", True))
        port = project.server.port
        project.server.stop()
        wait_event(bob_events, is_status("firebase", False))  # his stream died, probe failed
        assert bob.lookup(alice_id.signing_public, 1.0) is None
        project.server.start(port)
        wait_event(bob_events, is_status("firebase", True))
        alice.update([("198.51.100.4", 47009)])
        watcher.wait_for(lambda r: r.addresses == [("198.51.100.4", 47009)])
        assert bob.stream_failures >= 1
    finally:
        alice.stop()
        bob.stop()


def test_revoked_token_is_refreshed_and_the_stream_resumes(project: Project) -> None:
    alice_id, alice, _ = _started(project, "alice")
    bob = project.open(project.device("bob"))
    watcher = Watcher()
    try:
        bob.watch(alice_id.signing_public, watcher)
        alice.start(alice_id, "alice", [("198.51.100.4", 47000)])
        watcher.wait_for(lambda r: r.addresses == [("198.51.100.4", 47000)])
        project.server.revoke_tokens()  # streams get auth_revoked
        project.server.wait_until(lambda: len(project.server.calls("POST", "securetoken")) >= 1)
        alice.update([("198.51.100.4", 47005)])  # her own 401 is retried with a fresh token
        watcher.wait_for(lambda r: r.addresses == [("198.51.100.4", 47005)])
    finally:
        alice.stop()
        bob.stop()


def test_malformed_stream_events_are_counted_and_survived(project: Project) -> None:
    alice_id, alice, _ = _started(project, "alice")
    bob = project.open(project.device("bob"))
    watcher = Watcher()
    try:
        bob.watch(alice_id.signing_public, watcher)
        alice.start(alice_id, "alice", [("198.51.100.4", 47000)])
        watcher.wait_for(lambda r: r.addresses == [("198.51.100.4", 47000)])
        project.server.send_raw("event: put\ndata: {not json\n\n")
        project.server.send_raw('event: put\ndata: {"data": 1}\n\n')
        project.server.send_raw('event: put\ndata: {"path": "/record", "data": "AAAA"}\n\n')
        alice.update([("198.51.100.4", 47001)])
        watcher.wait_for(lambda r: r.addresses == [("198.51.100.4", 47001)])
        assert bob.rejected.snapshot().get("malformed", 0) >= 3
        assert bob.stream_failures == 0  # the same stream carried on
    finally:
        alice.stop()
        bob.stop()


@pytest.mark.parametrize("node", [17, "text", ["a"], {"record": 5}, {"other": "x"}])
def test_nodes_that_are_not_records_are_malformed(project: Project, node: object) -> None:
    victim = Identity.generate()
    project.server.set_raw(f"phones/{key_id(victim.signing_public)}", node)
    bob = project.open(project.device("bob"))
    try:
        assert bob.lookup(victim.signing_public, WAIT_S) is None
        assert bob.rejected.snapshot() == {"malformed": 1}
        assert bob.status() == {"firebase": True}  # bad data is not an outage
    finally:
        bob.stop()


def test_custom_token_sign_in(project: Project) -> None:
    alice_id = Identity.generate()
    kid = key_id(alice_id.signing_public)
    project.server.add_custom_token("minted-by-admin", kid)  # uid == key_id: the strict rule
    project.owners[kid] = kid
    alice = project.open(project.write_config("alice", {"customToken": "minted-by-admin"}))
    try:
        alice.start(alice_id, "alice", [("198.51.100.4", 47000)])
        _wait_published(project, alice_id)
        assert alice.lookup(alice_id.signing_public, WAIT_S) is not None
        assert project.server.calls("POST", "signInWithCustomToken")
    finally:
        alice.stop()


def test_record_text_is_what_the_database_holds(project: Project) -> None:
    """The node is exactly {"record": <the signed text>, "at": <the server's time of the
    write>}: what the rules validate."""
    alice_id, alice, _ = _started(project, "alice")
    try:
        before_ms = int(project.server.clock() * 1000)
        alice.start(alice_id, "alice", [("198.51.100.4", 47000)])
        kid = key_id(alice_id.signing_public)
        _wait_published(project, alice_id)
        node = project.server.get_raw(f"phones/{kid}")
        assert set(node) == {"record", "at"}
        assert before_ms <= node["at"] <= int(project.server.clock() * 1000)
        assert len(node["record"]) < 1400
        same_shape = to_text(sign_record(alice_id, "alice", [("198.51.100.4", 47000)], 0))
        assert len(node["record"]) == len(same_shape)
    finally:
        alice.stop()


# -- the config file ---------------------------------------------------------------------


def test_config_readable_by_others_is_refused(project: Project) -> None:
    path = project.device("alice")
    path.chmod(0o644)
    with pytest.raises(ConfigError, match="chmod 600"):
        load_firebase_config(path)


@pytest.mark.parametrize(
    ("data", "key"),
    [
        ({"databaseURL": "https://x"}, "apiKey"),
        ({"apiKey": "k"}, "databaseURL"),
        ({"apiKey": "k", "databaseURL": "https://x"}, "auth"),
        ({"apiKey": "k", "databaseURL": "https://x", "auth": {"email": "e"}}, "auth"),
    ],
)
def test_config_problems_name_the_key(tmp_path: Path, data: dict, key: str) -> None:
    path = tmp_path / "f.json"
    path.write_text(json.dumps(data))
    path.chmod(0o600)
    with pytest.raises(ConfigError, match=f"key '{key}'"):
        load_firebase_config(path)


def test_config_repr_hides_secrets(project: Project) -> None:
    config = load_firebase_config(project.device("alice"), database_url="https://other.example")
    assert isinstance(config, FirebaseConfig)
    assert config.database_url == "https://other.example"  # --firebase-url wins
    assert "pw-alice" not in repr(config) and "pw-alice" not in str(config)


def test_pyrebase_and_zeroconf_are_imported_only_when_chosen() -> None:
    code = (
        "import sys; from drivers.rendezvous import open_rendezvous;"
        "r = open_rendezvous(['static']); r.stop();"
        "print('pyrebase' in sys.modules, 'zeroconf' in sys.modules)"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], cwd=REPO, capture_output=True, text=True, timeout=60
    )
    assert out.stdout.split() == ["False", "False"], out.stderr


def test_nothing_to_publish_is_a_retried_fault_not_a_dead_thread(project: Project) -> None:
    alice_id, alice, events = _started(project, "alice")
    try:
        alice.start(alice_id, "alice", [])  # e.g. 0.0.0.0 on a host with no address yet
        project.server.wait_until(lambda: len(project.server.calls("POST", "signIn")) >= 1)
        assert alice.status() == {"firebase": False}
        alice.update([("198.51.100.4", 47000)])
        wait_event(events, is_status("firebase", True))
        _wait_published(project, alice_id)
    finally:
        alice.stop()


def test_an_update_during_a_publish_in_flight_is_published_too(project: Project) -> None:
    """Regression: clearing the 'due' flag after the write lost an update made meanwhile."""
    alice_id, alice, _ = _started(project, "alice")
    bob = project.open(project.device("bob"))
    watcher = Watcher()
    moved = [("198.51.100.4", 47777)]
    fired: list[bool] = []

    def update_while_in_flight(method: str, keys: list[str]) -> None:
        if method == "PATCH" and not fired:  # the record is published with an update
            fired.append(True)
            alice.update(moved)  # arrives while her first write is being served

    project.server.on_write = update_while_in_flight
    try:
        bob.watch(alice_id.signing_public, watcher)
        alice.start(alice_id, "alice", [("198.51.100.4", 47000)])
        watcher.wait_for(lambda r: r.addresses == moved)
    finally:
        alice.stop()
        bob.stop()
