"""The LAN backend follows the network, without a restart: whole phones (`build_phone`,
the real UDP call service, real mDNS) in two network namespaces joined by a veth pair
that this module creates and deletes -- never the host's network; skipped without root.

bob boots before his network is up (his only link has no address yet, as before a
DHCP lease): once the address arrives he is found on the LAN and called; then his
address changes (a new lease) and alice follows it to the new one and calls him there.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.test_e2e_rendezvous import WAIT_S, Rig
from tests.test_rendezvous_lan import inside, veth_namespaces

pytestmark = pytest.mark.netns

PID = os.getpid()
NS_A, NS_B = f"pysnac-lanlate-a-{PID}", f"pysnac-lanlate-b-{PID}"
DEV_A, DEV_B = f"lla{PID % 100000}", f"llb{PID % 100000}"  # IFNAMSIZ: 15 characters
IP_A, IP_B, IP_B2 = "10.233.0.1", "10.233.0.2", "10.233.0.3"
LAN = {"backends": ("lan",), "bind": "0.0.0.0"}  # every address the phone has, as it changes


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


@pytest.fixture
def link() -> Iterator[None]:
    """alice's namespace with its address; bob's with the link up but no address yet."""
    with veth_namespaces(((NS_A, DEV_A), (NS_B, DEV_B)), {NS_A: f"{IP_A}/24"}):
        yield


class TwoNamespaceRig(Rig):
    """The end-to-end rig with each phone in its own namespace."""

    def __init__(self, root: Path, namespaces: dict[str, str]) -> None:
        super().__init__(root)
        self.namespaces = namespaces

    def start(self, key: str, peers: list, **options: object):  # type: ignore[no-untyped-def]
        self.namespace = self.namespaces[key]
        return super().start(key, peers, **options)


@pytest.fixture
def rig(tmp_path: Path, link: None) -> Iterator[TwoNamespaceRig]:
    rig = TwoNamespaceRig(tmp_path, {"alice": NS_A, "bob": NS_B})
    try:
        yield rig
    finally:
        rig.close()  # before the namespaces go


def test_a_phone_whose_network_comes_late_is_found_called_and_followed(
    rig: TwoNamespaceRig,
) -> None:
    alice, bob = rig.spec("alice"), rig.spec("bob")
    rig.start("alice", [bob], **LAN)
    rig.start("bob", [alice], **LAN)
    rig.wait_online("alice")
    directory = rig.phone("alice").directory
    bob_directory = rig.phone("bob").directory
    assert directory is not None and bob_directory is not None
    assert not any(bob_directory.status().values())  # no address: nothing to publish yet
    contact = rig.phone("alice").model.phonebook.get("bob")
    assert contact is not None

    def bob_at(ip: str) -> bool:
        found = directory.address_for(contact)
        return found is not None and found[0] == ip

    # the lease arrives: bob publishes himself without a restart, and is called there
    _ip("-n", NS_B, "addr", "add", f"{IP_B}/24", "dev", DEV_B)
    rig.wait_online("bob")
    assert directory.wait_for(lambda: bob_at(IP_B), WAIT_S), directory.address_for(contact)
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")
    # a new lease: the old address is gone, alice follows bob to the new one
    _ip("-n", NS_B, "addr", "del", f"{IP_B}/24", "dev", DEV_B)
    _ip("-n", NS_B, "addr", "add", f"{IP_B2}/24", "dev", DEV_B)
    assert directory.wait_for(lambda: bob_at(IP_B2), WAIT_S), directory.address_for(contact)
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")


def test_the_backend_opens_in_its_own_namespace(link: None) -> None:
    """The worker (and every zeroconf it reopens) lists the addresses of the namespace
    the backend was made in, not those of the thread that calls start()."""
    from drivers.rendezvous.lan import LanRendezvous

    with inside(NS_A):
        lan = LanRendezvous()
    try:
        assert lan._network == (IP_A,)
    finally:
        lan.stop()


ULA_A, ULA_B = "fd00:5a:ce::1", "fd00:5a:ce::2"


def test_an_ipv6_only_link_carries_a_call(rig: TwoNamespaceRig) -> None:
    """No IPv4 between the phones, only unique local IPv6 addresses: bound to `::`,
    each calls the other at its IPv6 address."""
    _ip("-n", NS_A, "addr", "flush", "dev", DEV_A)
    for ns, dev, ula in ((NS_A, DEV_A, ULA_A), (NS_B, DEV_B, ULA_B)):
        _ip("-n", ns, "addr", "add", f"{ula}/64", "dev", dev, "nodad")
    alice, bob = rig.spec("alice"), rig.spec("bob")
    where = {"alice": (ULA_A, alice.port), "bob": (ULA_B, bob.port)}
    options = {"backends": ("static",), "bind": "::", "addresses": where}
    rig.start("alice", [bob], **options)
    rig.start("bob", [alice], **options)
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")
    rig.dial("bob", "alice")
    rig.rings_and_connects("bob", "alice")


def test_an_ipv6_only_lan_finds_and_calls(rig: TwoNamespaceRig) -> None:
    """mDNS over IPv6 and a record that offers the phone's IPv6 address (bound to `::`,
    it offers no IPv4 one): found on an IPv6-only link and called there."""
    _ip("-n", NS_A, "addr", "flush", "dev", DEV_A)
    for ns, dev, ula in ((NS_A, DEV_A, ULA_A), (NS_B, DEV_B, ULA_B)):
        _ip("-n", ns, "addr", "add", f"{ula}/64", "dev", dev, "nodad")
    alice, bob = rig.spec("alice"), rig.spec("bob")
    rig.start("alice", [bob], backends=("lan",), bind="::")
    rig.start("bob", [alice], backends=("lan",), bind="::")
    rig.wait_online("alice")
    rig.wait_online("bob")
    directory = rig.phone("alice").directory
    contact = rig.phone("alice").model.phonebook.get("bob")
    assert directory is not None and contact is not None
    found = directory.wait_for(lambda: directory.address_for(contact) == (ULA_B, bob.port), WAIT_S)
    assert found, directory.address_for(contact)
    rig.dial("alice", "bob")
    rig.rings_and_connects("alice", "bob")


def test_ice_gathers_and_connects_over_ipv6_alone(link: None) -> None:
    """ICE (the path of calls between homes) offers a global/unique local IPv6 host
    candidate and connects over it when there is no IPv4 between the phones."""
    import queue
    import secrets

    from pysnac.call.offer import KIND_ANSWER, KIND_OFFER, CallOffer
    from pysnac.runtime.ice import IceAgent, IceSettings

    _ip("-n", NS_A, "addr", "flush", "dev", DEV_A)
    for ns, dev, ula in ((NS_A, DEV_A, ULA_A), (NS_B, DEV_B, ULA_B)):
        _ip("-n", ns, "addr", "add", f"{ula}/64", "dev", dev, "nodad")
    got: dict[str, queue.Queue[tuple[bytes, tuple[str, int]]]] = {
        "alice": queue.Queue(),
        "bob": queue.Queue(),
    }
    agents: dict[str, IceAgent] = {}
    try:
        for name, ns in (("alice", NS_A), ("bob", NS_B)):
            with inside(ns):  # the agent's loop thread, and every socket it opens, stay there
                agents[name] = IceAgent(
                    IceSettings(), lambda data, source, q=got[name]: q.put((data, source))
                ).start()
        alice, bob = agents["alice"].prepare(True), agents["bob"].prepare(False)
        params = {"alice": alice.local_params()[0], "bob": bob.local_params()[0]}
        for name, ula in (("alice", ULA_A), ("bob", ULA_B)):
            hosts = [c for c in params[name].candidates if " typ host" in c]
            assert any(f" {ula} " in c for c in hosts), params[name].candidates
        token = secrets.token_bytes(16)

        def offer(kind: int, who: str) -> CallOffer:
            return CallOffer(kind, b"", b"", token, 0, params[who], None)

        agents["alice"].connect(alice, offer(KIND_ANSWER, "bob"))
        agents["bob"].connect(bob, offer(KIND_OFFER, "alice"))
        assert agents["alice"].wait(alice, WAIT_S) and agents["bob"].wait(bob, WAIT_S)
        assert alice.address is not None and alice.address[0] == ULA_B
        assert agents["alice"].send(b"hello over IPv6", alice.address)
        data, source = got["bob"].get(timeout=WAIT_S)
        assert data == b"hello over IPv6" and source[0] == ULA_A
    finally:
        for agent in agents.values():
            agent.close()
