"""The short authentication string: same on both ends of an honest call, different on
the two ends of a man in the middle who ran two handshakes."""

from __future__ import annotations

import pytest

from pysnac.channel.call_handshake import CallHandshake, CallSetup
from pysnac.channel.identity import Identity
from pysnac.channel.sas import ALPHABET, short_auth_string
from pysnac.noise.crypto import KeyPair

ALICE, BOB, MALLORY = (Identity(bytes([n]) * 32) for n in (1, 2, 3))
CALL_ID = bytes(8)


def eph(n: int) -> KeyPair:
    return KeyPair.from_private(bytes([n]) * 32)


def setup(who: Identity, name: str) -> CallSetup:
    return CallSetup(name, who.signing_public, 1_800_000_000_000, {"bitrate": 24000})


def xx(caller: CallHandshake, callee: CallHandshake, caller_id, callee_id) -> None:
    callee.read_message(caller.write_message(None))
    caller.read_message(callee.write_message(setup(callee_id, "callee")))
    callee.read_message(caller.write_message(setup(caller_id, "caller")))


def test_alphabet_is_unambiguous() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert not set("0O1IL") & set(ALPHABET)


def test_sas_is_4_characters_deterministic_and_spreads() -> None:
    values = {short_auth_string(bytes([n]) * 64) for n in range(256)}
    assert all(len(v) == 4 and set(v) <= set(ALPHABET) for v in values)
    assert short_auth_string(b"h" * 64) == short_auth_string(b"h" * 64)
    assert len(values) == 256
    with pytest.raises(ValueError):
        short_auth_string(b"")


def test_honest_first_contact_shows_the_same_sas() -> None:
    caller = CallHandshake.initiator(ALICE, CALL_ID, None, ephemeral=eph(10))
    callee = CallHandshake.responder(BOB, CALL_ID, "XX", ephemeral=eph(11))
    xx(caller, callee, ALICE, BOB)
    assert caller.sas == callee.sas


def test_a_man_in_the_middle_shows_different_sas_on_each_end() -> None:
    """First contact (XX, nothing pinned): Mallory answers Alice as "bob" and calls Bob as
    "alice", relaying. Both calls complete; only the SAS (and fingerprints) betray her."""
    alice = CallHandshake.initiator(ALICE, CALL_ID, None, ephemeral=eph(10))
    mallory_as_bob = CallHandshake.responder(MALLORY, CALL_ID, "XX", ephemeral=eph(20))
    mallory_as_alice = CallHandshake.initiator(MALLORY, CALL_ID, None, ephemeral=eph(21))
    bob = CallHandshake.responder(BOB, CALL_ID, "XX", ephemeral=eph(11))
    xx(alice, mallory_as_bob, ALICE, MALLORY)
    xx(mallory_as_alice, bob, MALLORY, BOB)
    assert alice.complete and bob.complete
    assert alice.sas == mallory_as_bob.sas and bob.sas == mallory_as_alice.sas
    assert alice.sas != bob.sas
    assert alice.peer_signing_public != BOB.signing_public


def test_mitm_transcripts_always_differ() -> None:
    """The SAS is a digest of the handshake hash; under attack with fresh ephemerals the two
    ends' hashes differ every time (the 4-character SAS then matches with odds 31^-4)."""
    for _ in range(50):
        alice = CallHandshake.initiator(ALICE, CALL_ID, None)
        mallory_as_bob = CallHandshake.responder(MALLORY, CALL_ID, "XX")
        mallory_as_alice = CallHandshake.initiator(MALLORY, CALL_ID, None)
        bob = CallHandshake.responder(BOB, CALL_ID, "XX")
        xx(alice, mallory_as_bob, ALICE, MALLORY)
        xx(mallory_as_alice, bob, MALLORY, BOB)
        alice_hash = alice.session_keys().handshake_hash
        assert alice_hash != bob.session_keys().handshake_hash
        assert alice.sas == short_auth_string(alice_hash)
