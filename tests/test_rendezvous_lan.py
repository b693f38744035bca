"""The LAN rendezvous (mDNS/DNS-SD via zeroconf) through the contract suite, between two
network namespaces joined by a veth pair -- never on the host's own network.

Each phone's zeroconf opens its sockets while this thread is switched (setns(2)) into
that phone's namespace; sockets and the threads zeroconf starts stay there, and this
thread switches back at once. The namespaces are created and deleted here; without root
(or `ip netns`) the tests skip with the reason.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator

import pytest

from drivers.rendezvous.base import PhoneFound
from drivers.rendezvous.record import sign_record, to_text
from pysnac.channel.identity import Identity, fingerprint
from tests.test_rendezvous_contract import (
    WAIT_S,
    RendezvousContract,
    Rig,
    Watcher,
    collector,
    wait_event,
)

pytestmark = pytest.mark.netns

CLONE_NEWNET = 0x40000000
NS_A, NS_B = f"pysnac-rdv-a-{os.getpid()}", f"pysnac-rdv-b-{os.getpid()}"
IP_A, IP_B = "10.231.0.1", "10.231.0.2"


def _ip(*args: str) -> None:
    subprocess.run(["ip", *args], check=True, capture_output=True, timeout=10)


def _setns(path: str) -> None:
    libc = ctypes.CDLL(None, use_errno=True)
    fd = os.open(path, os.O_RDONLY)
    try:
        if libc.setns(fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), f"setns {path}")
    finally:
        os.close(fd)


@contextlib.contextmanager
def inside(namespace: str) -> Iterator[None]:
    """Run the block with this thread in `namespace`; threads it starts stay there."""
    home = f"/proc/self/task/{threading.get_native_id()}/ns/net"
    home_fd = os.open(home, os.O_RDONLY)
    try:
        _setns(f"/run/netns/{namespace}")
        yield
    finally:
        libc = ctypes.CDLL(None, use_errno=True)
        if libc.setns(home_fd, CLONE_NEWNET) != 0:
            raise OSError(ctypes.get_errno(), "setns back home")
        os.close(home_fd)


@contextlib.contextmanager
def veth_namespaces(
    ends: tuple[tuple[str, str], tuple[str, str]], addresses: dict[str, str]
) -> Iterator[None]:
    """Two namespaces (`ends`: namespace, device) joined by a veth pair, lo and both ends
    up, `addresses` (namespace -> CIDR) set. The test is skipped when they cannot be made
    (not root, no iproute2); they are deleted afterwards. mDNS never on the host's net."""
    if os.geteuid() != 0:
        pytest.skip("needs root to create network namespaces")
    if shutil.which("ip") is None:
        pytest.skip("needs iproute2 (`ip netns`)")
    (ns_a, dev_a), (ns_b, dev_b) = ends

    def delete() -> None:
        for ns in (ns_a, ns_b):
            subprocess.run(["ip", "netns", "del", ns], capture_output=True, timeout=10)

    try:
        _ip("netns", "add", ns_a)
        _ip("netns", "add", ns_b)
        _ip(
            "link",
            "add",
            dev_a,
            "netns",
            ns_a,
            "type",
            "veth",
            "peer",
            "name",
            dev_b,
            "netns",
            ns_b,
        )
        for ns, dev in ends:
            _ip("-n", ns, "link", "set", "lo", "up")
            _ip("-n", ns, "link", "set", dev, "up")
            if ns in addresses:
                _ip("-n", ns, "addr", "add", addresses[ns], "dev", dev)
    except subprocess.CalledProcessError as exc:
        delete()
        pytest.skip(f"cannot create network namespaces: {exc.stderr.decode().strip()}")
    try:
        yield
    finally:
        delete()


@pytest.fixture(scope="module")
def namespaces() -> Iterator[None]:
    ends = ((NS_A, "rdvA"), (NS_B, "rdvB"))
    with veth_namespaces(ends, {NS_A: f"{IP_A}/24", NS_B: f"{IP_B}/24"}):
        yield


def _lan(namespace: str, **kwargs: object):  # -> LanRendezvous
    from drivers.rendezvous.lan import LanRendezvous

    with inside(namespace):
        return LanRendezvous(**kwargs)  # type: ignore[arg-type]


def _planter(namespace: str, stack: contextlib.ExitStack):
    """plant(): mallory's zeroconf registers raw record texts under the given keys' names."""
    import asyncio

    from zeroconf import ServiceInfo, Zeroconf

    from drivers.rendezvous.lan import SERVICE_TYPE, _txt_properties
    from drivers.rendezvous.record import key_id

    def plant(texts: dict[bytes, str]) -> None:
        with inside(namespace):
            zc = Zeroconf()
        stack.callback(zc.close)
        infos = [
            ServiceInfo(
                SERVICE_TYPE,
                f"{key_id(key)}.{SERVICE_TYPE}",
                port=47000,
                properties=_txt_properties(text),
                server=f"m{i}.local.",
                parsed_addresses=[IP_A],
            )
            for i, (key, text) in enumerate(texts.items())
        ]
        # register them all at once: probing takes ~1.6 s each, concurrently
        futures = [
            asyncio.run_coroutine_threadsafe(zc.async_register_service(i), zc.loop) for i in infos
        ]
        for future in futures:
            asyncio.run_coroutine_threadsafe(_await(future.result(WAIT_S)), zc.loop).result(WAIT_S)

    return plant


async def _await(awaitable):  # type: ignore[no-untyped-def]
    return await awaitable


@pytest.fixture
def rig(namespaces: None) -> Iterator[Rig]:
    alice_events, alice_post = collector()
    bob_events, bob_post = collector()
    with contextlib.ExitStack() as stack:
        alice = _lan(NS_A, report=alice_post)
        stack.callback(alice.stop)
        bob = _lan(NS_B, report=bob_post, is_known=lambda key: True)
        stack.callback(bob.stop)
        yield Rig(
            "lan",
            alice,
            bob,
            Identity.generate(),
            [(IP_A, 47000)],
            [(IP_A, 47002), ("10.231.0.3", 47002)],
            alice_events,
            bob_events,
            plant=_planter(NS_A, stack),
        )


class TestLan(RendezvousContract):
    pass


def test_unpinned_phone_is_discovered_once(namespaces: None) -> None:
    """A phone that is not in our phonebook is offered to the user (TOFU), with the
    fingerprint of its key; a pinned one is not."""
    events, post = collector()
    carol, dave = Identity.generate(), Identity.generate()
    with contextlib.ExitStack() as stack:
        bob = _lan(NS_B, report=post, is_known=lambda key: key == dave.signing_public)
        stack.callback(bob.stop)
        for who, port in ((carol, 47010), (dave, 47011)):
            phone = _lan(NS_A)
            stack.callback(phone.stop)
            phone.start(who, "carol" if who is carol else "dave", [(IP_A, port)])
        event = wait_event(events, lambda e: isinstance(e, PhoneFound))
        assert event.contact.public_key == carol.signing_public
        assert event.contact.address == (IP_A, 47010)
        assert event.fingerprint == fingerprint(carol.signing_public)
        # dave (pinned) is resolved by the browser too, but never offered
        watcher = Watcher()
        bob.watch(dave.signing_public, watcher)
        watcher.wait_for(lambda r: r.public_key == dave.signing_public)
        found = [e for e in list(events.queue) if isinstance(e, PhoneFound)]
        assert all(e.contact.public_key == carol.signing_public for e in found)


def test_a_replayed_older_record_does_not_roll_back(namespaces: None) -> None:
    """A valid but older record (captured earlier, replayed by someone else) is never
    delivered after a newer one."""
    alice = Identity.generate()
    now_ms = int(time.time() * 1000)
    old_text = to_text(sign_record(alice, "alice", [("10.231.0.99", 1)], now_ms - 60_000))
    with contextlib.ExitStack() as stack:
        bob = _lan(NS_B)
        stack.callback(bob.stop)
        watcher = Watcher()
        bob.watch(alice.signing_public, watcher)
        phone = _lan(NS_A)
        stack.callback(phone.stop)
        phone.start(alice, "alice", [(IP_A, 47020)])
        watcher.wait_for(lambda r: r.addresses == [(IP_A, 47020)])
        phone.stop()  # alice leaves; mallory answers for her name with the old record
        _planter(NS_A, stack)({alice.signing_public: old_text})
        record = bob.lookup(alice.signing_public, 2.0)
        assert record is not None and record.addresses == [(IP_A, 47020)]  # cached newest
        assert all(r.addresses == [(IP_A, 47020)] for r in watcher.records)
