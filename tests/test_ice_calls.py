"""What the callee does with offers the directory hands it (pysnac/runtime/ice_calls.py):
only a fresh, first-seen offer from a pinned contact, filed under that contact's own
node, starts ICE; everything else is dropped and counted by reason. No network: the ICE
agent is a stand-in that records what it is asked (and cannot gather)."""

from __future__ import annotations

import threading
import time

import pytest

from pysnac.call.offer import KIND_ANSWER, KIND_OFFER, IceParams, seal_offer, to_text
from pysnac.channel.identity import Identity
from pysnac.runtime.ice import IceError
from pysnac.runtime.ice_calls import MAX_ANSWERING, IceCalls

PARAMS = IceParams("ufrg", "p" * 22, ())


class NoNetworkAgent:
    def __init__(self) -> None:
        self.prepared: list[bool] = []

    def prepare(self, controlling: bool) -> None:
        self.prepared.append(controlling)
        raise IceError("no network in this test")


@pytest.fixture
def parties() -> tuple[Identity, Identity, Identity]:
    return Identity.generate(), Identity.generate(), Identity.generate()


def callee(bob: Identity, pinned: set[bytes], agent: NoNetworkAgent) -> IceCalls:
    return IceCalls(bob, agent, publish=lambda _t: True, is_pinned=pinned.__contains__)  # type: ignore[arg-type]


def offer(sender: Identity, to: Identity, kind: int = KIND_OFFER, token: bytes = bytes(16)) -> str:
    now_ms = int(time.time() * 1000)
    return to_text(seal_offer(sender, to.signing_public, kind, token, now_ms, PARAMS, None))


def test_a_pinned_contacts_offer_starts_ice_once(parties: tuple[Identity, ...]) -> None:
    alice, bob, _ = parties
    agent = NoNetworkAgent()
    calls = callee(bob, {alice.signing_public}, agent)
    text = offer(alice, bob)
    calls.on_offer(alice.signing_public, text)
    calls.on_offer(alice.signing_public, text)  # the directory delivers it again
    calls.close()
    assert agent.prepared == [False]  # one ICE session, as the controlled side
    assert calls.rejected == {"replay": 1}


def test_what_starts_nothing(parties: tuple[Identity, ...]) -> None:
    alice, bob, carol = parties
    agent = NoNetworkAgent()
    calls = callee(bob, {alice.signing_public}, agent)
    calls.on_offer(carol.signing_public, offer(carol, bob))  # not pinned
    calls.on_offer(carol.signing_public, offer(alice, bob, token=b"x" * 16))  # misfiled
    calls.on_offer(alice.signing_public, offer(alice, carol))  # sealed to someone else
    calls.on_offer(alice.signing_public, offer(alice, bob, KIND_ANSWER))  # answers nothing
    calls.on_offer(alice.signing_public, "not an offer")
    calls.close()
    assert agent.prepared == []
    assert calls.rejected == {
        "unknown_caller": 1,
        "wrong_node": 1,
        "not_for_us": 1,
        "unexpected_answer": 1,
        "malformed": 1,
    }


class BlockedAgent:
    """Gathering that waits until the test lets it go."""

    def __init__(self) -> None:
        self.release = threading.Event()
        self.prepared: list[bool] = []

    def prepare(self, controlling: bool) -> None:
        self.prepared.append(controlling)
        self.release.wait(10.0)
        raise IceError("released")


def test_a_flood_of_offers_costs_at_most_max_answering(parties: tuple[Identity, ...]) -> None:
    alice, bob, _ = parties
    agent = BlockedAgent()
    calls = callee(bob, {alice.signing_public}, agent)  # type: ignore[arg-type]
    for n in range(MAX_ANSWERING + 3):
        calls.on_offer(alice.signing_public, offer(alice, bob, token=bytes([n]) * 16))
    agent.release.set()
    calls.close()
    assert len(agent.prepared) == MAX_ANSWERING
    assert calls.rejected == {"busy": 3}
