"""The SAS grinding attacker (demo/attacks/sas_grinder.py, the product's own handshake code):
with the commitment she never matches; with the old derivation the same loop matches.

The default run is bounded; `make attack` runs 10 million tries."""

from __future__ import annotations

from demo.attacks.sas_grinder import Mitm, grind_committed, grind_old, old_sas
from pysnac.call import wire
from pysnac.call.wire import Content
from pysnac.call_events import EventName, Failure
from pysnac.channel.limits import SAS_CHARS
from tests.test_call_endpoint import A_ADDR, B_ADDR, Net, make_phone

TRIES = 100_000
REDUCED_CHARS = 2  # 31^2 = 961 values: the old derivation matches many times in TRIES/5


def test_grinding_against_the_commitment_never_matches() -> None:
    result, shown_equal = grind_committed(TRIES)
    assert result.tries == TRIES and result.matches == 0 and result.first_match is None
    assert not shown_equal


def test_the_same_grinder_matches_the_old_derivation() -> None:
    """Scored offline, the old SAS (hash alone) falls to brute force: on a 2-character
    space it matches about every 961 tries; the 4-character one every 923,521."""
    result = grind_old(TRIES // 5, chars=REDUCED_CHARS)
    assert result.matches >= 5
    mitm = Mitm.start()
    assert len(old_sas(mitm.bob.session_keys().handshake_hash)) == 4
    assert len(mitm.leg_b_sas()) == SAS_CHARS


def test_the_callee_shows_no_sas_until_the_caller_opens_its_commitment() -> None:
    alice, bob = make_phone("alice", A_ADDR), make_phone("bob", B_ADDR)
    alice.contacts, bob.contacts = [bob.contact()], [alice.contact()]
    net = Net(alice, bob)
    held: list[bytes] = []
    net.drop = lambda d, s, t: (
        s == A_ADDR and d[0] == wire.PacketType.TRANSPORT and not held.append(d)
    )
    net.act(alice, "place_call", bob.contact())
    net.act(bob, "answer_call")
    assert alice.names()[-1] == EventName.CALL_ESTABLISHED
    assert EventName.CALL_ESTABLISHED not in bob.names()  # no CONFIRM yet: no SAS
    net.drop = lambda d, s, t: False
    # A packet of the caller's other than CONFIRM does not establish the call.
    media, _ = alice.endpoint.seal_media(b"voice", net.now)
    bob.endpoint.receive(media, A_ADDR, net.now)
    net.collect(bob)
    assert bob.endpoint.counters["unconfirmed"] == 1
    # The caller cheats: a CONFIRM, sealed with the real keys, with another nonce.
    call = alice.endpoint.active
    forged = call._seal(Content.CONFIRM, b"\x00" * 32)
    bob.endpoint.receive(forged, A_ADDR, net.now)
    net.collect(bob)
    assert bob.names()[-1] == EventName.HANDSHAKE_FAILED
    failure = bob.events[-1].data
    assert isinstance(failure, Failure) and "commitment" in failure.detail
    assert bob.endpoint.counters["bad_commitment"] == 1
    assert bob.endpoint.active is None
