"""Two (or three) pure endpoints talking through a hand-pumped network on a stepped clock.

Real Noise handshakes, real signatures, real AEAD; no sockets, threads or sleeps. `Net`
carries datagrams between endpoints by address and can drop any of them.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from pysnac.call import wire
from pysnac.call.endpoint import Endpoint
from pysnac.call.limits import (
    CLOSE_GIVE_UP_S,
    HANDSHAKE_SOURCE_BURST,
    HANDSHAKES_PER_SOURCE_PER_S,
    INVITE_GIVE_UP_S,
    KEEPALIVE_S,
    LINGER_S,
    PEER_LOST_S,
    RETRANSMIT_INITIAL_S,
)
from pysnac.call.signalling import Phase
from pysnac.call_events import CallEvent, Established, EventName, Failure, IncomingCall
from pysnac.channel.identity import Identity, fingerprint
from pysnac.channel.invite_stamps import InviteStamps
from pysnac.channel.limits import SAS_CHARS
from pysnac.contacts import Contact

Address = tuple[str, int]
A_ADDR: Address = ("10.0.0.1", 5000)
B_ADDR: Address = ("10.0.0.2", 5000)
C_ADDR: Address = ("10.0.0.3", 5000)
WALL_OFFSET_S = 1_800_000_000.0


@dataclass
class Phone:
    name: str
    addr: Address
    identity: Identity
    contacts: list[Contact] = field(default_factory=list)
    events: list[CallEvent] = field(default_factory=list)
    media: list[bytes] = field(default_factory=list)
    stamps: InviteStamps | None = None
    endpoint: Endpoint = field(init=False)

    def __post_init__(self) -> None:
        self.endpoint = Endpoint(
            self.identity,
            name=self.name,
            codec={"bitrate": 24000},
            contacts=lambda: self.contacts,
            wall_offset_s=WALL_OFFSET_S,
            stamps=self.stamps,
        )

    def contact(self, addr: Address | None = None, name: str | None = None) -> Contact:
        return Contact(name or self.name, self.identity.signing_public, addr or self.addr)

    def names(self) -> list[EventName]:
        return [e.name for e in self.events]


class Net:
    """Moves datagrams between phones; `drop(datagram, src, dst)` can lose any of them."""

    def __init__(self, *phones: Phone) -> None:
        self.phones = {p.addr: p for p in phones}
        self.now = 1000.0
        self.in_flight: list[tuple[bytes, Address, Address]] = []
        self.drop: Callable[[bytes, Address, Address], bool] = lambda d, s, t: False
        self.log: list[tuple[float, Address, PacketType_]] = []

    def collect(self, phone: Phone) -> None:
        out = phone.endpoint.take_output()
        phone.events.extend(out.events)
        phone.media.extend(out.media)
        for datagram, dst in out.datagrams:
            self.log.append((self.now, phone.addr, datagram[0]))
            if not self.drop(datagram, phone.addr, dst):
                self.in_flight.append((datagram, phone.addr, dst))

    def pump(self) -> None:
        """Deliver until quiet (zero network delay)."""
        for phone in self.phones.values():
            self.collect(phone)
        while self.in_flight:
            datagram, src, dst = self.in_flight.pop(0)
            phone = self.phones.get(dst)
            if phone is not None:
                phone.endpoint.receive(datagram, src, self.now)
                self.collect(phone)

    def act(self, phone: Phone, method: str, *args: object) -> None:
        getattr(phone.endpoint, method)(*args, self.now)
        self.pump()

    def advance(self, seconds: float) -> None:
        """Jump from deadline to deadline, firing each endpoint's timer exactly on time."""
        end = self.now + seconds
        while True:
            deadlines = [
                d for p in self.phones.values() if (d := p.endpoint.next_deadline()) is not None
            ]
            due = min(deadlines, default=None)
            if due is None or due > end:
                self.now = end
                return
            self.now = max(self.now, due)
            for phone in self.phones.values():
                deadline = phone.endpoint.next_deadline()
                if deadline is not None and deadline <= self.now:
                    phone.endpoint.handle_timer(self.now)
            self.pump()


PacketType_ = int


def make_phone(name: str, addr: Address) -> Phone:
    return Phone(name, addr, Identity.generate())


@pytest.fixture
def trio() -> tuple[Net, Phone, Phone, Phone]:
    alice, bob, carol = (
        make_phone("alice", A_ADDR),
        make_phone("bob", B_ADDR),
        make_phone("carol", C_ADDR),
    )
    for phone in (alice, bob, carol):
        phone.contacts = [p.contact() for p in (alice, bob, carol) if p is not phone]
    return Net(alice, bob, carol), alice, bob, carol


def establish(net: Net, caller: Phone, callee: Phone) -> None:
    net.act(caller, "place_call", callee.contact())
    net.act(callee, "answer_call")


def test_call_answer_talk_hang_up(trio) -> None:
    net, alice, bob, _ = trio
    net.act(alice, "place_call", bob.contact())
    assert bob.names() == [EventName.INCOMING_CALL]
    incoming = bob.events[0].data
    assert incoming == IncomingCall(
        "alice", alice.identity.signing_public, True, fingerprint(alice.identity.signing_public)
    )
    assert alice.names() == [EventName.REMOTE_RINGING]

    net.act(bob, "answer_call")
    assert alice.names()[1:] == [EventName.REMOTE_ACCEPTED, EventName.CALL_ESTABLISHED]
    assert bob.names()[1:] == [EventName.CALL_ESTABLISHED]
    a_est, b_est = alice.events[-1].data, bob.events[-1].data
    assert isinstance(a_est, Established) and isinstance(b_est, Established)
    assert a_est.sas == b_est.sas and len(a_est.sas) == SAS_CHARS
    assert (a_est.peer_name, b_est.peer_name) == ("bob", "alice")

    assert alice.endpoint.active.rtt_s == 0.0 and bob.endpoint.active.rtt_s == 0.0  # no delay

    for sender, receiver, payload in ((alice, bob, b"hello"), (bob, alice, b"hi")):
        datagram, addr = sender.endpoint.seal_media(payload, net.now)
        assert addr == receiver.addr and payload not in datagram
        receiver.endpoint.receive(datagram, sender.addr, net.now)
        net.collect(receiver)
        assert receiver.media == [payload]

    net.act(alice, "hang_up")
    assert bob.names()[-1] == EventName.REMOTE_HUNG_UP
    assert alice.names()[-1] == EventName.CALL_ESTABLISHED  # no event for our own hang-up
    assert alice.endpoint.active is None and bob.endpoint.active is None
    assert alice.endpoint.next_deadline() == pytest.approx(net.now + LINGER_S)  # BYE acked
    net.advance(LINGER_S + 0.1)
    assert alice.endpoint.call_count == 0 and bob.endpoint.call_count == 0


def test_callee_hangs_up(trio) -> None:
    net, alice, bob, _ = trio
    establish(net, alice, bob)
    net.act(bob, "hang_up")
    assert alice.names()[-1] == EventName.REMOTE_HUNG_UP
    assert bob.endpoint.active is None and alice.endpoint.active is None


def test_reject_is_acknowledged_and_stops_repeating(trio) -> None:
    net, alice, bob, _ = trio
    net.act(alice, "place_call", bob.contact())
    net.act(bob, "reject_call")
    assert alice.names() == [EventName.REMOTE_RINGING, EventName.REMOTE_REJECTED]
    assert bob.names() == [EventName.INCOMING_CALL]
    sent_before = len(net.log)
    net.advance(CLOSE_GIVE_UP_S)
    assert len(net.log) == sent_before  # REJECT acked by CANCEL: nothing repeats


def test_lost_reject_is_repeated_until_acknowledged(trio) -> None:
    net, alice, bob, _ = trio
    net.act(alice, "place_call", bob.contact())
    lost = []
    net.drop = lambda d, s, t: d[0] == wire.PacketType.REJECT and not lost and not lost.append(d)
    net.act(bob, "reject_call")
    assert EventName.REMOTE_REJECTED not in alice.names()
    net.advance(RETRANSMIT_INITIAL_S + 0.01)
    assert alice.names()[-1] == EventName.REMOTE_REJECTED


def test_caller_cancels_while_ringing(trio) -> None:
    net, alice, bob, _ = trio
    net.act(alice, "place_call", bob.contact())
    net.act(alice, "cancel_call")
    assert bob.names() == [EventName.INCOMING_CALL, EventName.REMOTE_HUNG_UP]
    assert bob.endpoint.active is None
    net.act(bob, "answer_call")  # too late: nothing happens
    assert alice.names() == [EventName.REMOTE_RINGING]


def test_caller_cancels_before_any_answer_arrived(trio) -> None:
    net, alice, bob, _ = trio
    net.drop = lambda d, s, t: d[0] == wire.PacketType.RINGING  # bob rings, alice never knows
    net.act(alice, "place_call", bob.contact())
    assert bob.names() == [EventName.INCOMING_CALL] and alice.names() == []
    net.act(alice, "cancel_call")
    assert bob.names() == [EventName.INCOMING_CALL, EventName.REMOTE_HUNG_UP]
    assert bob.endpoint.active is None


def test_busy_when_already_in_a_call(trio) -> None:
    net, alice, bob, carol = trio
    establish(net, alice, bob)
    net.act(carol, "place_call", bob.contact())
    assert carol.names() == [EventName.REMOTE_BUSY]
    busy = [EventName.INCOMING_CALL, EventName.CALL_ESTABLISHED, EventName.CALLER_TURNED_AWAY]
    assert bob.names() == busy  # bob's recent calls will show carol's attempt
    assert bob.events[-1].data == Failure("Missed (busy)", "", peer="carol")
    assert bob.endpoint.counters["busy"] == 1
    datagram, _ = alice.endpoint.seal_media(b"still here", net.now)
    bob.endpoint.receive(datagram, alice.addr, net.now)
    net.collect(bob)
    assert bob.media == [b"still here"]


def test_invite_is_retransmitted_with_backoff_then_gives_up(trio) -> None:
    net, alice, bob, _ = trio
    net.drop = lambda d, s, t: True  # bob is unreachable
    net.act(alice, "place_call", bob.contact())
    start = net.now
    net.advance(INVITE_GIVE_UP_S + 0.1)
    times = [round(t - start, 2) for t, src, kind in net.log if kind == wire.PacketType.INVITE]
    assert times[:5] == [0.0, 0.2, 0.6, 1.4, 3.0]  # 0.2 s doubling, capped at 1.6 s
    assert alice.names() == [EventName.UNREACHABLE]
    failure = alice.events[0].data
    assert isinstance(failure, Failure) and failure.reason == "No reply"
    assert alice.endpoint.active is None


def test_lost_invite_then_lost_accept_then_lost_confirmation(trio) -> None:
    net, alice, bob, _ = trio
    dropped: list[int] = []

    def drop_first(d: bytes, s: Address, t: Address) -> bool:
        if d[0] in (wire.PacketType.INVITE, wire.PacketType.ACCEPT) and d[0] not in dropped:
            dropped.append(d[0])
            return True
        return False

    net.drop = drop_first
    net.act(alice, "place_call", bob.contact())
    assert bob.names() == []
    net.advance(RETRANSMIT_INITIAL_S)
    assert bob.names() == [EventName.INCOMING_CALL]
    net.act(bob, "answer_call")
    assert EventName.CALL_ESTABLISHED not in alice.names()
    # The caller's key confirmation is lost once too: the repeated ACCEPT brings another.
    confirmations = []
    net.drop = lambda d, s, t: (
        d[0] == wire.PacketType.TRANSPORT and not confirmations and not confirmations.append(1)
    )
    net.advance(RETRANSMIT_INITIAL_S)
    assert alice.names()[-1] == EventName.CALL_ESTABLISHED
    assert EventName.CALL_ESTABLISHED not in bob.names()
    net.advance(2 * RETRANSMIT_INITIAL_S)
    assert bob.names()[-1] == EventName.CALL_ESTABLISHED
    assert alice.events[-1].data.sas == bob.events[-1].data.sas


def test_keepalives_then_peer_lost_on_both_sides(trio) -> None:
    net, alice, bob, _ = trio
    establish(net, alice, bob)
    start = net.now
    net.advance(3 * KEEPALIVE_S)
    keepalives = [t for t, src, kind in net.log if kind == wire.PacketType.TRANSPORT and t > start]
    assert len(keepalives) >= 4  # both sides, about once a second, with no media flowing
    assert alice.endpoint.active is not None and bob.endpoint.active is not None
    net.drop = lambda d, s, t: True  # the cable is cut
    cut = net.now
    net.advance(PEER_LOST_S + 0.1)
    assert alice.names()[-1] == EventName.PEER_LOST
    assert bob.names()[-1] == EventName.PEER_LOST
    assert alice.endpoint.active is None and bob.endpoint.active is None
    assert net.now - cut >= PEER_LOST_S


def test_replayed_invite_does_not_ring(trio) -> None:
    net, alice, bob, _ = trio
    captured: list[bytes] = []
    net.drop = lambda d, s, t: d[0] == wire.PacketType.INVITE and captured.append(d) is not None
    net.act(alice, "place_call", bob.contact())
    net.drop = lambda d, s, t: False
    bob.endpoint.receive(captured[0], A_ADDR, net.now)
    net.pump()
    net.act(bob, "reject_call")
    net.advance(LINGER_S + 1)
    bob.events.clear()
    bob.endpoint.receive(captured[0], A_ADDR, net.now)  # an attacker replays it later
    net.pump()
    assert bob.events == []
    assert bob.endpoint.counters["replayed_invite"] == 1
    # A phone that restarted forgot the call id, but kept the stamps on disk: refused,
    # however long after, whatever either clock says.
    saved = InviteStamps.decode(bob.endpoint.stamps.encode())
    restarted = Phone("bob", B_ADDR, bob.identity, stamps=saved)
    restarted.endpoint.receive(captured[0], A_ADDR, net.now + 86_400)
    assert restarted.endpoint.take_output().events == []
    assert restarted.endpoint.counters["stale_invite"] == 1


def test_wrong_key_answers_so_the_caller_refuses(trio) -> None:
    """Man in the middle: alice's pinned key for bob is not the key at bob's address. Bob
    cannot check the INVITE's mac1, does no DH, and answers a 13-byte unsigned hint that
    names no key; alice ends the call."""
    net, alice, bob, _ = trio
    pinned = Contact("bob", Identity.generate().signing_public, B_ADDR)
    net.act(alice, "place_call", pinned)
    assert bob.names() == []
    assert bob.endpoint.counters["bad_mac1"] == 1 and bob.endpoint.counters["bad_handshake"] == 0
    hints = [d for t, src, d in net.log if src == B_ADDR]
    assert hints == [wire.PacketType.WRONG_KEY]
    assert alice.names() == [EventName.HANDSHAKE_FAILED]
    failure = alice.events[0].data
    assert isinstance(failure, Failure) and failure.reason == "Wrong peer key"
    assert fingerprint(bob.identity.signing_public) not in failure.detail
    assert alice.endpoint.active is None


def test_stranger_claiming_to_be_the_callee_cannot_ring_back(trio) -> None:
    """A RINGING signed by anyone but the pinned key is dropped, not acted on."""
    net, alice, bob, carol = trio
    captured: list[bytes] = []
    net.drop = lambda d, s, t: captured.append(d) is None and t == B_ADDR
    net.act(alice, "place_call", bob.contact())
    invite = wire.parse(captured[0])
    header = wire.signal_header(wire.PacketType.RINGING, invite.call_id, 77, invite.sender_index)
    forged = header + carol.identity.sign(wire.SIGNAL_CONTEXT + header)
    alice.endpoint.receive(forged, B_ADDR, net.now)
    net.collect(alice)
    assert alice.names() == []
    assert alice.endpoint.counters["bad_signature"] == 1


def test_a_callee_without_sound_refuses_with_a_reason(trio) -> None:
    """No working sound device: bob does not ring; alice's screen says why."""
    net, alice, bob, _ = trio
    bob.endpoint.audio_ok = False
    net.act(alice, "place_call", bob.contact())
    assert alice.names() == [EventName.REMOTE_REJECTED]
    assert alice.events[0].data == Failure(
        "bob: no audio", "bob has no working sound device", peer="bob"
    )
    assert alice.endpoint.active is None
    assert bob.names() == [EventName.CALLER_TURNED_AWAY]
    assert bob.events[0].data == Failure("Missed (no audio)", "", peer="alice")
    assert bob.endpoint.active is None
    net.advance(10.0)  # nothing more on either side: the refusal was final
    assert len(alice.events) == 1 and len(bob.events) == 1


def test_stranger_cannot_forge_a_no_audio_refusal(trio) -> None:
    """A NO_AUDIO signed by anyone but the callee's pinned key is dropped."""
    net, alice, bob, carol = trio
    captured: list[bytes] = []
    net.drop = lambda d, s, t: captured.append(d) is None and t == B_ADDR
    net.act(alice, "place_call", bob.contact())
    invite = wire.parse(captured[0])
    header = wire.signal_header(wire.PacketType.NO_AUDIO, invite.call_id, 77, invite.sender_index)
    forged = header + carol.identity.sign(wire.SIGNAL_CONTEXT + header)
    alice.endpoint.receive(forged, B_ADDR, net.now)
    net.collect(alice)
    assert alice.names() == []
    assert alice.endpoint.counters["bad_signature"] == 1
    assert alice.endpoint.active is not None  # still calling


def test_unknown_caller_rings_with_its_fingerprint(trio) -> None:
    net, _alice, bob, _ = trio
    stranger = make_phone("dave", ("10.0.0.4", 5000))
    net.phones[stranger.addr] = stranger
    net.act(stranger, "place_call", bob.contact())
    incoming = bob.events[0].data
    assert isinstance(incoming, IncomingCall)
    assert (incoming.peer_name, incoming.known) == ("dave", False)
    assert incoming.fingerprint == fingerprint(stranger.identity.signing_public)


def test_a_new_key_under_a_contacts_name_rings_as_a_stranger(trio) -> None:
    """Pinned by key, never by name: no KEY_CHANGED (alice's own key is alive), no take-over;
    the impostor rings as the stranger she is, with her own fingerprint."""
    net, alice, bob, _ = trio
    impostor = make_phone("alice", ("10.0.0.9", 5000))  # says "alice", holds another key
    net.phones[impostor.addr] = impostor
    net.act(impostor, "place_call", bob.contact())
    assert bob.names() == [EventName.INCOMING_CALL]
    incoming = bob.events[0].data
    assert isinstance(incoming, IncomingCall) and not incoming.known
    assert incoming.public_key == impostor.identity.signing_public
    assert incoming.fingerprint == fingerprint(impostor.identity.signing_public)
    assert bob.contacts[0].public_key == alice.identity.signing_public  # nothing replaced


def test_tampered_and_replayed_transport_packets_are_dropped(trio) -> None:
    net, alice, bob, _ = trio
    establish(net, alice, bob)
    datagram, _ = alice.endpoint.seal_media(b"voice", net.now)
    for i in range(len(datagram)):
        flipped = bytearray(datagram)
        flipped[i] ^= 0x01
        bob.endpoint.receive(bytes(flipped), A_ADDR, net.now)
    bob.endpoint.receive(datagram, A_ADDR, net.now)
    counters = bob.endpoint.counters
    replayed_before = counters["replayed"]  # a flipped counter bit can name an old counter
    bob.endpoint.receive(datagram, A_ADDR, net.now)
    net.collect(bob)
    assert bob.media == [b"voice"]
    assert counters["replayed"] == replayed_before + 1
    # byte 0 -> another type; bytes 1-4 -> another session; the rest fail authentication
    dropped = ("unauthenticated", "unknown_session", "malformed", "replayed")
    assert sum(counters[k] for k in dropped) == len(datagram) + 1
    assert counters["unknown_session"] == 4


def test_garbage_is_counted_never_raised(trio) -> None:
    net, _alice, bob, _ = trio
    for junk in (b"", b"\x00", b"\x01" * 50, bytes(2000), b"\x10" + bytes(40)):
        bob.endpoint.receive(junk, A_ADDR, net.now)
    assert sum(bob.endpoint.counters.values()) == 5
    assert bob.endpoint.take_output().datagrams == []


def test_invite_flood_is_rate_limited(trio) -> None:
    net, alice, bob, _ = trio
    for _ in range(HANDSHAKE_SOURCE_BURST + 5):
        alice.endpoint.place_call(bob.contact(), net.now)
        for datagram, _ in alice.endpoint.take_output().datagrams:
            bob.endpoint.receive(datagram, A_ADDR, net.now)
    assert bob.endpoint.counters["rate_limited"] == 5


def test_hundred_calls_leave_nothing_behind(trio) -> None:
    net, alice, bob, _ = trio
    for i in range(100):
        caller, callee = (alice, bob) if i % 2 else (bob, alice)
        establish(net, caller, callee)
        assert caller.endpoint.active.phase is Phase.ESTABLISHED
        net.act(callee if i % 3 else caller, "hang_up")
        net.advance(1.0 / HANDSHAKES_PER_SOURCE_PER_S)  # within the per-source DH budget
    net.advance(LINGER_S + 0.1)
    assert alice.endpoint.call_count == 0 and bob.endpoint.call_count == 0


@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    kind=st.sampled_from([0x00, *[int(t) for t in wire.PacketType], 0xFF]),
    body=st.binary(max_size=300),
)
def test_any_datagram_is_dropped_or_handled_never_raised(trio, kind: int, body: bytes) -> None:
    net, _alice, bob, _ = trio
    bob.endpoint.receive(bytes([kind]) + body, A_ADDR, net.now)
    out = bob.endpoint.take_output()
    assert out.events == [] and out.media == []
    assert all(d[0] == wire.PacketType.WRONG_KEY for d, _ in out.datagrams)  # at most "not me"
