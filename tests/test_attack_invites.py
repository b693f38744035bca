"""Strangers cost nothing: the endpoint against INVITE floods from spoofed sources, forged
and changed session indexes, replayed INVITEs, and replies that could amplify.

The attackers are demo/attacks/flooder.py (the product's wire and mac code) and pure
endpoints on a stepped clock; real handshakes, no sockets."""

from __future__ import annotations

import random

from demo.attacks.flooder import garbage_invite, keyed_invite, spoofed_source
from pysnac.call import wire
from pysnac.call.limits import (
    HANDSHAKE_SOURCE_BURST,
    MAX_REPLY_REPEATS,
    REPLY_REPEAT_MIN_S,
    UNPROVEN_INVITE_BURST,
)
from pysnac.call.macs import InviteMacs
from pysnac.call_events import EventName
from tests.test_call_endpoint import A_ADDR, B_ADDR, Net, make_phone


def pair():
    alice, bob = make_phone("alice", A_ADDR), make_phone("bob", B_ADDR)
    alice.contacts, bob.contacts = [bob.contact()], [alice.contact()]
    return Net(alice, bob), alice, bob


def test_garbage_invites_cost_one_mac_and_get_at_most_a_smaller_hint() -> None:
    net, _alice, bob = pair()
    rng = random.Random(1)
    replies = []
    for _ in range(200):
        datagram = garbage_invite(rng)
        bob.endpoint.receive(datagram, spoofed_source(rng), net.now)
        out = bob.endpoint.take_output()
        assert out.events == []
        for reply, _ in out.datagrams:
            assert reply[0] == wire.PacketType.WRONG_KEY and len(reply) < len(datagram)
            assert bob.identity.signing_public not in reply
            replies.append(reply)
    assert bob.endpoint.counters["bad_mac1"] == 200
    assert bob.endpoint.counters["bad_handshake"] == 0  # no DH was spent on any of them
    assert len(replies) <= 5  # the hint itself is rate-limited


def test_under_a_keyed_flood_from_spoofed_sources_a_real_call_still_rings() -> None:
    """The flooder knows bob's public key (it is in his records): mac1 passes. After
    UNPROVEN_INVITE_BURST, bob does no more DH for unproven sources and answers cookies;
    alice proves her address with the cookie and rings."""
    net, alice, bob = pair()
    rng = random.Random(2)
    macs = InviteMacs(bob.identity.signing_public)
    for _ in range(300):
        datagram = keyed_invite(rng, macs)
        bob.endpoint.receive(datagram, spoofed_source(rng), net.now)
        for reply, _ in bob.endpoint.take_output().datagrams:
            assert reply[0] == wire.PacketType.COOKIE and len(reply) < len(datagram)
        net.now += 0.001  # 1,000 a second
    counters = bob.endpoint.counters
    assert counters["bad_handshake"] <= UNPROVEN_INVITE_BURST + 1  # DH only before "load"
    assert counters["cookie_sent"] >= 300 - UNPROVEN_INVITE_BURST - 1
    net.act(alice, "place_call", bob.contact())
    assert bob.names() == [EventName.INCOMING_CALL]
    assert alice.names() == [EventName.REMOTE_RINGING]
    assert alice.endpoint.active.cookies_used == 1


def test_a_cookie_is_bound_to_the_source_address() -> None:
    """An on-path attacker who reads alice's cookie (she knows bob's public key, so she can
    open the COOKIE reply) cannot use it from any other address."""
    net, alice, bob = pair()
    rng = random.Random(3)
    macs = InviteMacs(bob.identity.signing_public)
    for _ in range(UNPROVEN_INVITE_BURST + 2):
        bob.endpoint.receive(keyed_invite(rng, macs), spoofed_source(rng), net.now)
    bob.endpoint.take_output()
    seen: list[bytes] = []
    net.drop = lambda d, s, t: seen.append(d) is not None
    net.act(alice, "place_call", bob.contact())  # cookie reply, then the INVITE with mac2
    assert bob.endpoint.counters["cookie_sent"] >= 1 and bob.names() == [EventName.INCOMING_CALL]
    first_invite = wire.parse(next(d for d in seen if d[0] == wire.PacketType.INVITE))
    reply = wire.parse(next(d for d in seen if d[0] == wire.PacketType.COOKIE))
    cookie = macs.open_cookie(reply.nonce, reply.sealed_cookie, first_invite.mac1)
    assert cookie is not None
    body = keyed_invite(rng, macs)[: -wire.INVITE_MACS_BYTES]
    stolen = macs.seal(body, cookie)
    bob.endpoint.receive(stolen, ("10.66.66.66", 5000), net.now)
    assert [d[0] for d, _ in bob.endpoint.take_output().datagrams] == [wire.PacketType.COOKIE]


def test_one_source_cannot_spend_anothers_handshake_budget() -> None:
    net, alice, bob = pair()
    rng = random.Random(4)
    macs = InviteMacs(bob.identity.signing_public)
    noisy = ("10.1.1.1", 4000)
    for _ in range(HANDSHAKE_SOURCE_BURST + 3):
        bob.endpoint.receive(keyed_invite(rng, macs), noisy, net.now)
    assert bob.endpoint.counters["rate_limited"] == 3
    net.act(alice, "place_call", bob.contact())
    assert bob.names() == [EventName.INCOMING_CALL]


def test_a_changed_sender_index_fails_like_tampering() -> None:
    net, alice, bob = pair()
    changed: list[bytes] = []

    def tamper(d: bytes, s, t) -> bool:
        if d[0] in (wire.PacketType.INVITE, wire.PacketType.ACCEPT) and not changed:
            bad = bytearray(d)
            offset = 10 if d[0] == wire.PacketType.INVITE else 9  # the sender index
            bad[offset] ^= 0xFF
            if d[0] == wire.PacketType.INVITE:  # an on-path attacker knows bob's key too
                body = bytes(bad[: -wire.INVITE_MACS_BYTES])
                bad = InviteMacs(bob.identity.signing_public).seal(body, None)
            changed.append(bytes(bad))
            net.in_flight.append((bytes(bad), s, t))
            return True
        return False

    net.drop = tamper
    net.act(alice, "place_call", bob.contact())
    assert bob.names() == [] and bob.endpoint.counters["bad_handshake"] == 1
    net.drop = lambda d, s, t: False
    net.advance(0.25)  # the real INVITE's retransmission still works
    assert bob.names() == [EventName.INCOMING_CALL]
    changed.clear()
    net.drop = tamper
    net.act(bob, "answer_call")
    assert EventName.CALL_ESTABLISHED not in alice.names()
    assert (
        alice.endpoint.counters["unknown_session"] + alice.endpoint.counters["bad_handshake"] >= 1
    )
    net.drop = lambda d, s, t: False
    net.advance(0.5)  # the real ACCEPT, repeated, completes the call
    assert alice.names()[-1] == EventName.CALL_ESTABLISHED
    assert bob.names()[-1] == EventName.CALL_ESTABLISHED


def test_a_replayed_invite_gets_a_bounded_number_of_answers_never_larger() -> None:
    net, alice, bob = pair()
    captured: list[bytes] = []
    net.drop = lambda d, s, t: d[0] == wire.PacketType.INVITE and captured.append(d) is not None
    net.act(alice, "place_call", bob.contact())
    net.drop = lambda d, s, t: False
    bob.endpoint.receive(captured[0], A_ADDR, net.now)
    net.collect(bob)
    net.act(bob, "answer_call")
    sent = 0
    for _ in range(1000):
        net.now += REPLY_REPEAT_MIN_S
        bob.endpoint.receive(captured[0], ("10.9.9.9", 1), net.now)  # replayed by anyone
        for reply, _ in bob.endpoint.take_output().datagrams:
            assert len(reply) < len(captured[0])
            sent += 1
    assert sent <= MAX_REPLY_REPEATS
    assert bob.endpoint.counters["repeat_limit"] >= 1000 - MAX_REPLY_REPEATS


def test_a_cookie_from_before_the_secret_changed_is_replaced() -> None:
    net, alice, bob = pair()
    rng = random.Random(6)
    macs = InviteMacs(bob.identity.signing_public)
    for _ in range(UNPROVEN_INVITE_BURST + 2):
        bob.endpoint.receive(keyed_invite(rng, macs), spoofed_source(rng), net.now)
    bob.endpoint.take_output()
    invites: list[bytes] = []

    def lose_the_first_with_mac2(d: bytes, s, t) -> bool:
        if d[0] == wire.PacketType.INVITE and d[-16:] != bytes(16) and not invites:
            invites.append(d)
            bob.endpoint._cookies._secret_until = net.now  # the secret changes meanwhile
            return True
        return False

    net.drop = lose_the_first_with_mac2
    net.act(alice, "place_call", bob.contact())
    assert bob.names() == []
    net.advance(0.25)  # the retransmission's mac2 is stale: a new cookie, used at once
    assert bob.names() == [EventName.INCOMING_CALL]
    assert alice.endpoint.active.cookies_used == 2
