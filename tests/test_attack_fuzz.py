"""A seeded fuzz of 30,000 datagrams (demo/attacks/fuzz.py) at a pure endpoint in a call:
nothing raises, nothing reaches the state machine, the call still carries media, and every
datagram is dropped and counted or answered as the protocol says. `make fuzz` sends
1,000,000 at a live phone over UDP."""

from __future__ import annotations

from demo.attacks.fuzz import STRATEGIES, Fuzzer
from pysnac.call.signalling import Phase
from tests.test_call_endpoint import A_ADDR, B_ADDR, Net, establish, make_phone

DATAGRAMS = 30_000
STEP_S = 0.0001  # 10,000 datagrams a second


def test_seeded_fuzz_at_a_phone_in_a_call() -> None:
    alice, bob = make_phone("alice", A_ADDR), make_phone("bob", B_ADDR)
    alice.contacts, bob.contacts = [bob.contact()], [alice.contact()]
    net = Net(alice, bob)
    establish(net, alice, bob)
    call = bob.endpoint.active
    fuzzer = Fuzzer(seed=7, victim=bob.identity, peer=alice.identity)
    fuzzer.live_index = call.local_index
    bob.events.clear()
    answered = 0
    for n, datagram in enumerate(fuzzer.datagrams(DATAGRAMS)):
        source = A_ADDR if n % 2 else ("10.7.7.7", 7000 + n % 100)
        bob.endpoint.receive(datagram, source, net.now + n * STEP_S)
        out = bob.endpoint.take_output()
        assert out.events == [] and out.media == []
        for reply, _ in out.datagrams:
            assert len(reply) <= len(datagram)  # nothing amplifies
            answered += 1
    assert set(fuzzer.kinds) == set(STRATEGIES)
    assert bob.endpoint.active is call and call.phase is Phase.ESTABLISHED
    counters = bob.endpoint.counters
    assert sum(counters.values()) >= DATAGRAMS * 0.95  # the rest: repeats answered, or busy
    assert counters["bad_mac1"] > 0 and counters["unauthenticated"] + counters["replayed"] > 0
    net.now += DATAGRAMS * STEP_S
    datagram, _ = alice.endpoint.seal_media(b"still talking", net.now)
    bob.endpoint.receive(datagram, A_ADDR, net.now)
    assert bob.endpoint.take_output().media == [b"still talking"]
