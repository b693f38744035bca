"""The NAT rig itself (demo/netns.py): each home router behaves as its kind says, and
everything it made is gone afterwards, also when the body raised.

Each test builds its own namespaces (root; skipped otherwise) and talks to coturn's STUN
from inside them. Non-arrival is never waited for: an unsolicited datagram is followed by
one the router must let through, and the first one to arrive is checked.
"""

from __future__ import annotations

import os
import socket
import struct
import subprocess

import pytest

from demo.netns import (
    INTERNET_IP,
    INTERNET_IP2,
    TURN_PORT,
    NetRig,
    RigError,
    missing_requirements,
    run_in,
    stun_binding,
)

pytestmark = pytest.mark.netns
REASON = missing_requirements()
needs_rig = pytest.mark.skipif(REASON is not None, reason=REASON or "")
RECV_S = 3.0  # a datagram that must arrive does so within this


def namespaces_named(tag: str) -> list[str]:
    listed = subprocess.run(["ip", "netns", "list"], capture_output=True, text=True).stdout
    return [line.split()[0] for line in listed.splitlines() if tag in line]


def two_mappings(rig: NetRig, home: str) -> tuple[tuple[str, int], tuple[str, int]]:
    """One socket's mapped address as seen by coturn's two addresses."""

    def probe() -> tuple[tuple[str, int], tuple[str, int]]:
        with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as sock:
            sock.bind(("0.0.0.0", 0))
            first = stun_binding((INTERNET_IP, TURN_PORT), RECV_S, sock)
            second = stun_binding((INTERNET_IP2, TURN_PORT), RECV_S, sock)
            return first, second

    return run_in(rig.homes[home].namespace, probe)


@needs_rig
@pytest.mark.parametrize(
    ("kind", "same_port", "translated"),
    [("open", True, False), ("nat", True, True), ("symmetric-nat", False, True)],
)
def test_mapping_behaviour(kind: str, same_port: bool, translated: bool) -> None:
    with NetRig(kind, "nat") as rig:
        first, second = two_mappings(rig, "alice")
        assert (first[1] == second[1]) is same_port
        assert (first[0] == rig.homes["alice"].wan_ip) is translated
        assert first[0] == second[0]


def punch(rig: NetRig) -> tuple[bytes | None, bytes | None]:
    """Both phones learn their mapping, then send to each other's at once (hole
    punching); what each received first (None: nothing within RECV_S)."""
    socks: dict[str, socket.socket] = {}
    mapped: dict[str, tuple[str, int]] = {}
    for name in ("alice", "bob"):

        def open_and_map() -> tuple[socket.socket, tuple[str, int]]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("0.0.0.0", 0))
            return sock, stun_binding((INTERNET_IP, TURN_PORT), RECV_S, sock)

        socks[name], mapped[name] = run_in(rig.homes[name].namespace, open_and_map)
    try:
        for _ in range(3):  # the first ones open the sender's own router
            socks["alice"].sendto(b"from alice", mapped["bob"])
            socks["bob"].sendto(b"from bob", mapped["alice"])
        got = []
        for name in ("alice", "bob"):
            socks[name].settimeout(RECV_S)
            try:
                got.append(socks[name].recvfrom(100)[0])
            except TimeoutError:
                got.append(None)
        return got[0], got[1]
    finally:
        for sock in socks.values():
            sock.close()


@needs_rig
def test_two_eim_nats_punch_through() -> None:
    with NetRig("nat", "nat", turn=True) as rig:
        assert punch(rig) == (b"from bob", b"from alice")


@needs_rig
@pytest.mark.parametrize("kind", ["symmetric-nat", "udp-blocked"])
def test_symmetric_or_blocked_side_cannot_punch(kind: str) -> None:
    with NetRig(kind, "nat") as rig:
        assert punch(rig) == (None, None)


@needs_rig
def test_router_drops_unsolicited_inbound() -> None:
    with NetRig("nat", "nat") as rig:

        def home_side() -> tuple[socket.socket, tuple[str, int]]:
            sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            sock.bind(("0.0.0.0", 0))
            return sock, stun_binding((INTERNET_IP, TURN_PORT), RECV_S, sock)

        sock, mapped = run_in(rig.homes["alice"].namespace, home_side)

        def from_internet() -> None:
            with socket.socket(socket.AF_INET, socket.SOCK_DGRAM) as stranger:
                stranger.bind((INTERNET_IP2, 0))
                stranger.sendto(b"unsolicited", mapped)

        run_in(rig.internet, from_internet)
        with sock:
            sock.settimeout(RECV_S)
            sock.sendto(
                struct.pack(">HHI", 0x0001, 0, 0x2112A442) + bytes(12), (INTERNET_IP, TURN_PORT)
            )
            first, source = sock.recvfrom(2048)
        assert source == (INTERNET_IP, TURN_PORT) and first[:2] == b"\x01\x01"  # STUN answer


@needs_rig
def test_everything_is_removed_also_after_an_error() -> None:
    rig = NetRig("nat", "open")
    with pytest.raises(ZeroDivisionError), rig:
        assert len(namespaces_named(rig.tag)) == 5
        turn_pid = rig._processes[0].pid
        raise ZeroDivisionError
    assert namespaces_named(rig.tag) == []
    assert rig.folder is None
    with pytest.raises(ProcessLookupError):
        os.kill(turn_pid, 0)


def test_unknown_kind_is_refused_in_one_line() -> None:
    if REASON is not None:
        with pytest.raises(RigError, match=r"root|needs"):
            NetRig("cgnat", "nat").__enter__()
        return
    with pytest.raises(RigError, match="unknown home network 'cgnat'"):
        NetRig("cgnat", "nat").__enter__()
