"""Outages and hang-up under loss, on the pure endpoints with a stepped clock.

A call rides out silence (both sides keep sending, the call shows how long it has been
silent) and resumes with the same keys when packets return; it ends only after the
peer-lost time, on both sides; a BYE is repeated until acknowledged, so a hang-up under
heavy loss reaches the far end as "Call ended", not "Call lost".
"""

from __future__ import annotations

import random

import pytest

from pysnac.call import wire
from pysnac.call.limits import (
    KEEPALIVE_S,
    PEER_LOST_S,
    RECONNECTING_AFTER_S,
)
from pysnac.call_events import EventName
from tests.test_call_endpoint import A_ADDR, B_ADDR, Net, Phone, establish, make_phone

MEDIA_S = 0.02


@pytest.fixture
def pair() -> tuple[Net, Phone, Phone, None]:
    alice, bob = make_phone("alice", A_ADDR), make_phone("bob", B_ADDR)
    alice.contacts, bob.contacts = [bob.contact()], [alice.contact()]
    return Net(alice, bob), alice, bob, None


def talk(net: Net, alice: Phone, bob: Phone, seconds: float) -> None:
    """Both sides send a media packet every 20 ms for `seconds` (whatever gets through)."""
    for _ in range(round(seconds / MEDIA_S)):
        for sender in (alice, bob):
            sender.endpoint.send_media(b"voice", net.now)
        net.pump()
        net.advance(MEDIA_S)


def test_five_second_outage_is_survived_with_the_same_keys(pair) -> None:
    net, alice, bob, _ = pair
    establish(net, alice, bob)
    calls = (alice.endpoint.active, bob.endpoint.active)
    talk(net, alice, bob, 1.0)
    net.drop = lambda d, s, t: True
    cut = net.now
    talk(net, alice, bob, 5.0)
    for phone in (alice, bob):
        silent = phone.endpoint.active.silent_s(net.now)
        assert silent is not None and silent >= 5.0 - MEDIA_S
        assert EventName.PEER_LOST not in phone.names()
    net.drop = lambda d, s, t: False
    back = net.now
    heard = (len(alice.media), len(bob.media))
    talk(net, alice, bob, 0.1)
    assert len(alice.media) > heard[0] and len(bob.media) > heard[1]  # same keys: it opens
    assert (alice.endpoint.active, bob.endpoint.active) == calls
    for phone in (alice, bob):
        call = phone.endpoint.active
        assert call.silent_s(net.now) is None
        since, at = call.outages[-1]
        assert since <= cut + MEDIA_S and back <= at <= back + MEDIA_S


def test_silence_shorter_than_the_threshold_is_no_outage(pair) -> None:
    net, alice, bob, _ = pair
    establish(net, alice, bob)
    net.advance(5 * KEEPALIVE_S)  # no media at all: keepalives alone keep it quiet
    assert alice.endpoint.active.silent_s(net.now) is None
    assert bob.endpoint.active.outages == []


def test_both_sides_keep_probing_during_an_outage(pair) -> None:
    net, alice, bob, _ = pair
    establish(net, alice, bob)
    net.drop = lambda d, s, t: True
    start = net.now
    net.advance(10.0)
    sent = [src for t, src, kind in net.log if t > start and kind == wire.PacketType.TRANSPORT]
    assert sent.count(alice.addr) >= 9 and sent.count(bob.addr) >= 9


def test_a_forty_second_outage_ends_as_call_lost_on_both_sides(pair) -> None:
    net, alice, bob, _ = pair
    establish(net, alice, bob)
    net.drop = lambda d, s, t: True
    cut = net.now
    net.advance(PEER_LOST_S - 0.1)
    assert alice.endpoint.active is not None and bob.endpoint.active is not None
    net.advance(40.0 - (PEER_LOST_S - 0.1))
    for phone in (alice, bob):
        assert phone.names()[-1] == EventName.PEER_LOST
        assert phone.endpoint.active is None
    net.drop = lambda d, s, t: False
    net.advance(1.0)  # packets return after 40 s: nothing comes back to life
    assert alice.names()[-1] == EventName.PEER_LOST and bob.names()[-1] == EventName.PEER_LOST
    assert net.now - cut >= 40.0


def test_peer_lost_time_comes_from_the_endpoint(pair) -> None:
    net, alice, bob, _ = pair
    for phone in (alice, bob):
        phone.endpoint.peer_lost_s = 4.0
    establish(net, alice, bob)
    net.drop = lambda d, s, t: True
    net.advance(3.9)
    assert alice.endpoint.active is not None
    net.advance(0.2)
    assert alice.names()[-1] == EventName.PEER_LOST and bob.names()[-1] == EventName.PEER_LOST


@pytest.mark.parametrize("seed", range(20))
def test_hang_up_under_thirty_percent_loss_reaches_the_far_end(pair, seed: int) -> None:
    net, alice, bob, _ = pair
    establish(net, alice, bob)
    rng = random.Random(seed)
    net.drop = lambda d, s, t: rng.random() < 0.3
    net.act(alice, "hang_up")
    net.advance(PEER_LOST_S + 1.0)
    assert bob.names()[-1] == EventName.REMOTE_HUNG_UP  # "Call ended", never "Call lost"
    assert EventName.PEER_LOST not in bob.names()


def test_bye_is_repeated_through_a_long_burst_until_acknowledged(pair) -> None:
    net, alice, bob, _ = pair
    establish(net, alice, bob)
    net.drop = lambda d, s, t: True  # a 10 s burst: the old 2 s of BYEs all died in it
    net.act(alice, "hang_up")
    net.advance(10.0)
    net.drop = lambda d, s, t: False
    net.advance(4.0)  # the next BYE (at most RETRANSMIT_MAX_S later) gets through
    assert bob.names()[-1] == EventName.REMOTE_HUNG_UP
    byes_after = [t for t, src, _ in net.log if src == alice.addr and t > net.now - 2.0]
    assert byes_after == []  # acknowledged: alice stopped repeating


def test_bye_gives_up_at_the_peer_lost_time(pair) -> None:
    net, alice, bob, _ = pair
    establish(net, alice, bob)
    net.drop = lambda d, s, t: True
    start = net.now
    net.act(alice, "hang_up")
    net.advance(PEER_LOST_S + 5.0)
    last = max(t for t, src, _ in net.log if src == alice.addr)
    assert start + PEER_LOST_S - 2.0 < last <= start + PEER_LOST_S
    assert bob.names()[-1] == EventName.PEER_LOST


def test_outage_threshold_is_above_the_keepalive() -> None:
    assert RECONNECTING_AFTER_S > KEEPALIVE_S
