"""Phones in two homes (root; namespaces the tests build with demo/netns.py): a hostile
directory, the relay down, the published candidates, and a phone whose network comes late.

The directory is the Firebase protocol test server in the rig's internet namespace; the
test takes it over after both phones are online and plays the attacker with the
project's own code: it forges bob's call answer (candidates pointing at a socket of its
own, "signed" with its own key while claiming to be bob), replays bob's genuine answer
from an earlier call, and files a validly signed record of its own under bob's node. No
phone with bob's pinned key answers at its address, so alice must never send it a
single datagram: the call fails with a clear reason and every forgery is counted as
dropped in alice's log.
"""

from __future__ import annotations

import contextlib
import json
import secrets
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from nacl.public import PublicKey, SealedBox

from demo.netns import INTERNET_IP2, missing_requirements, run_in
from demo.network import NetworkDirectory, network_directory
from demo.phones import STDERR_NAME, PhoneProcess
from demo.run import ALICE_CLIP, _script, prepare
from drivers.rendezvous.record import key_id, sign_record, to_text, verify_text
from pysnac.call.offer import _HEADER, KIND_ANSWER, MAGIC, SIGNING_CONTEXT
from pysnac.call.offer import to_text as offer_text
from pysnac.channel.identity import Identity, static_public_from_signing

REASON = missing_requirements()
pytestmark = [
    pytest.mark.netns,
    pytest.mark.skipif(REASON is not None, reason=REASON or ""),
    pytest.mark.timeout(180),
]
STEP_S = 30.0


class Homes:
    def __init__(self, directory: NetworkDirectory, alice: PhoneProcess, bob: PhoneProcess):
        self.directory, self.alice, self.bob = directory, alice, bob
        self.server = directory.server


@contextlib.contextmanager
def two_homes(
    tmp_path: Path, kinds: tuple[str, str], unplugged: tuple[str, ...] = ()
) -> Iterator[Homes]:
    """Both phones started (those in `unplugged` with no network) and ready."""
    with network_directory(kinds[0], lambda _line: None, kinds[1]) as directory:
        assert directory.rig is not None
        alice_spec, bob_spec = prepare(tmp_path / "phones", tmp_path / "out", ALICE_CLIP, directory)
        for name in unplugged:
            directory.rig.unplug(name)
        alice = PhoneProcess(alice_spec, prefix=directory.prefix("alice"))
        bob = PhoneProcess(bob_spec, prefix=directory.prefix("bob"))
        try:
            directory.wait_online([p for p in (alice, bob) if p.name not in unplugged])
            alice.wait_ready(STEP_S)
            bob.wait_ready(STEP_S)
            yield Homes(directory, alice, bob)
        finally:
            for phone in (alice, bob):
                phone.quit()


@pytest.fixture
def homes(tmp_path: Path, request: pytest.FixtureRequest) -> Iterator[Homes]:
    with two_homes(tmp_path, getattr(request, "param", ("nat", "nat"))) as found:
        yield found


def dial(alice: PhoneProcess) -> int:
    """Select on the home screen (it shows bob: one press calls him); the record index
    before the call."""
    mark = alice.mark
    alice.press("select")
    return mark


def forged_answer(mallory: Identity, victim: bytes, claimed: bytes, token: bytes, to: tuple) -> str:
    """An answer claiming to be from `claimed`, with mallory's candidate, signed by mallory."""
    params = {
        "direct": {
            "ufrag": "mllr",
            "pwd": "m" * 22,
            "candidates": [f"candidate:1 1 UDP 2130706431 {to[0]} {to[1]} typ host"],
        }
    }
    body = json.dumps(params).encode()
    signed = _HEADER.pack(
        MAGIC, KIND_ANSWER, claimed, victim, token, int(time.time() * 1000), len(body)
    )
    signed += body
    plaintext = signed + mallory.sign(SIGNING_CONTEXT + signed)
    sealed = SealedBox(PublicKey(static_public_from_signing(victim))).encrypt(plaintext)
    return offer_text(sealed)


def test_hostile_directory_cannot_redirect_media(homes: Homes) -> None:
    rig = homes.directory.rig
    assert rig is not None
    alice_key, bob_key = homes.alice.spec.public_key, homes.bob.spec.public_key
    alice_node, bob_node = f"phones/{key_id(alice_key)}", f"phones/{key_id(bob_key)}"

    # An honest first call: the directory keeps bob's genuine answer to replay later.
    mark = dial(homes.alice)
    homes.bob.wait_state("ringing", STEP_S)
    homes.bob.press("select")
    homes.alice.wait_state("in_call", STEP_S, mark)
    genuine_answer = homes.server.get_raw(bob_node + "/offer")
    mark = homes.alice.mark
    homes.alice.press("select")
    homes.alice.wait_state("hangup", STEP_S, mark)
    homes.alice.press("select")
    homes.alice.wait_state("idle", STEP_S, mark)
    assert isinstance(genuine_answer, str)

    def listen() -> socket.socket:
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        sock.bind((INTERNET_IP2, 0))
        sock.setblocking(False)
        return sock

    mallory_sock = run_in(rig.internet, listen)
    mallory_at = mallory_sock.getsockname()
    mallory = Identity.generate()
    bob_uid = next(uid for uid, kid in homes.directory.owners.items() if kid == key_id(bob_key))
    honest_rules = homes.server.write_allowed

    def hostile_rules(uid: str, keys: list[str]) -> bool:  # bob's own writes vanish
        return uid != bob_uid and honest_rules(uid, keys)

    def on_write(method: str, keys: list[str]) -> None:
        if keys == alice_node.split("/") and method == "PATCH":  # alice leaves an offer
            token = secrets.token_bytes(16)
            forged = forged_answer(mallory, alice_key, bob_key, token, mallory_at)
            homes.server.set_raw(bob_node + "/offer", forged)
            homes.server.set_raw(bob_node + "/offer", genuine_answer)  # a replay

    homes.server.write_allowed = hostile_rules
    homes.server.on_write = on_write
    mallory_record = to_text(sign_record(mallory, "bob", [mallory_at], int(time.time() * 1000)))
    homes.server.set_raw(bob_node, {"record": mallory_record})

    bob_mark = homes.bob.mark
    mark = dial(homes.alice)
    _, _, ended = homes.alice.wait_state("hangup", STEP_S, mark)
    assert ended.get("reason"), ended  # a clear reason on the screen
    with pytest.raises(BlockingIOError):
        mallory_sock.recv(2048)  # not one datagram reached the directory's address
    mallory_sock.close()
    log = (homes.alice.spec.folder / STDERR_NAME).read_text(encoding="utf-8")
    assert "call offer dropped (bad_signature)" in log
    assert "call offer dropped (unexpected_answer)" in log
    assert not [r for _, r in homes.bob.records[bob_mark:] if r.get("state") == "ringing"]


@pytest.mark.nat_matrix
@pytest.mark.parametrize(
    ("homes", "works"),
    [(("open", "open"), True), (("nat", "nat"), False)],
    indirect=["homes"],
)
def test_relay_down(homes: Homes, works: bool) -> None:
    """coturn gone: open homes still reach each other directly; NATed homes cannot, and
    the caller says why instead of ringing forever."""
    rig = homes.directory.rig
    assert rig is not None
    rig.stop_turn()
    if works:
        timeline = _script(homes.alice, homes.bob, 0.5)
        assert len(set(timeline["sas"].values())) == 1
        return
    mark = dial(homes.alice)
    _, _, ended = homes.alice.wait_state("hangup", 2 * STEP_S, mark)
    assert ended.get("reason"), ended


def test_published_record_carries_the_reflexive_address(homes: Homes) -> None:
    """Each phone's record lists its home address and the address its router maps the
    call socket to (STUN from that very socket), so a peer on either side can use it."""
    rig = homes.directory.rig
    assert rig is not None
    for phone in (homes.alice, homes.bob):
        node = f"phones/{key_id(phone.spec.public_key)}/record"
        home = rig.homes[phone.name]

        def addresses(node: str = node) -> list[tuple[str, int]]:
            text = homes.server.get_raw(node)
            return verify_text(text, int(time.time() * 1000)).addresses if text else []

        homes.server.wait_until(
            lambda a=addresses, h=home: any(host == h.wan_ip for host, _ in a()), STEP_S
        )
        hosts = [host for host, _ in addresses()]
        assert home.ip in hosts and home.wan_ip in hosts


@pytest.mark.nat_matrix
def test_a_phone_whose_network_comes_late_is_found_and_called(tmp_path: Path) -> None:
    """bob boots with no network (no address, no route), then gets one: he publishes
    himself, and alice's call reaches him."""
    with two_homes(tmp_path, ("nat", "nat"), unplugged=("bob",)) as homes:
        rig = homes.directory.rig
        assert rig is not None
        rig.plug("bob")
        homes.directory.wait_online([homes.bob])
        timeline = _script(homes.alice, homes.bob, 0.5)
        assert len(set(timeline["sas"].values())) == 1 and "" not in timeline["sas"].values()


@pytest.mark.parametrize(
    "kinds",
    [
        ("nat", "nat"),
        pytest.param(("symmetric-nat", "symmetric-nat"), marks=pytest.mark.nat_matrix),
    ],
)
def test_an_address_change_during_a_call(tmp_path: Path, kinds: tuple[str, str]) -> None:
    """bob's home network gives him another address in the middle of a call (punched, or
    relayed): his phone notices, restarts ICE through the directory, and the call goes on
    (it would end as lost PEER_LOST_S after the change otherwise)."""
    with two_homes(tmp_path, kinds) as homes:
        rig = homes.directory.rig
        assert rig is not None
        mark = dial(homes.alice)
        homes.bob.wait_state("ringing", STEP_S)
        homes.bob.press("select")
        homes.alice.wait_state("in_call", STEP_S, mark)
        moved_at = homes.alice.mark
        rig.renumber("bob", 3)
        # the in-call screen ticks each second; 8 s after the move the call is still up
        homes.alice.wait_for(
            lambda r: (
                r.get("type") == "screen" and "0:0" in r["lines"][0] and "0:08" in r["lines"][0]
            ),
            3 * STEP_S,
            moved_at,
            what="the call time 0:08",
        )
        assert not [r for _, r in homes.alice.records[moved_at:] if r.get("state") == "hangup"]
        hangup_mark = homes.alice.mark
        homes.alice.press("select")
        homes.alice.wait_state("hangup", STEP_S, hangup_mark)
        log = (homes.bob.spec.folder / STDERR_NAME).read_text(encoding="utf-8")
        assert "ICE restart failed" not in log
