"""The short authentication string with its hash commitment: the same on both ends of an
honest call, shown only after the commitment is opened, different on the two ends of a man
in the middle, and not something she can grind (the grinder itself: test_attack_sas.py)."""

from __future__ import annotations

import pytest

from pysnac.channel.call_handshake import CallHandshake, CallSetup
from pysnac.channel.errors import HandshakeFailed
from pysnac.channel.identity import Identity
from pysnac.channel.limits import SAS_CHARS, SAS_NONCE_BYTES
from pysnac.channel.sas import ALPHABET, opens_commitment, sas_commitment, short_auth_string
from pysnac.noise.crypto import KeyPair

ALICE, BOB, MALLORY = (Identity(bytes([n]) * 32) for n in (1, 2, 3))
CALL_ID = bytes(8)
N1, N2 = b"\x01" * SAS_NONCE_BYTES, b"\x02" * SAS_NONCE_BYTES


def eph(n: int) -> KeyPair:
    return KeyPair.from_private(bytes([n]) * 32)


def setup(who: Identity, name: str) -> CallSetup:
    return CallSetup(name, who.signing_public, 1_800_000_000_000, {"bitrate": 24000})


def ik(caller: CallHandshake, callee: CallHandshake, caller_id, callee_id) -> None:
    callee.read_message(caller.write_message(setup(caller_id, "caller")))
    caller.read_message(callee.write_message(setup(callee_id, "callee")))
    callee.open_commitment(caller.sas_reveal)


def xx(caller: CallHandshake, callee: CallHandshake, caller_id, callee_id) -> None:
    callee.read_message(caller.write_message(None))
    caller.read_message(callee.write_message(setup(callee_id, "callee")))
    callee.read_message(caller.write_message(setup(caller_id, "caller")))
    caller.open_commitment(callee.sas_reveal)


def test_alphabet_is_unambiguous_and_the_sas_carries_over_20_bits() -> None:
    assert len(set(ALPHABET)) == len(ALPHABET) == 31
    assert not set("0O1IL") & set(ALPHABET)
    assert len(ALPHABET) ** SAS_CHARS >= 2**20


def test_sas_is_deterministic_spreads_and_depends_on_every_input() -> None:
    values = {short_auth_string(bytes([n]) * 64, N1, N2) for n in range(256)}
    assert all(len(v) == SAS_CHARS and set(v) <= set(ALPHABET) for v in values)
    assert len(values) == 256
    base = short_auth_string(b"h" * 64, N1, N2)
    assert base == short_auth_string(b"h" * 64, N1, N2)
    assert base != short_auth_string(b"h" * 64, N2, N1)  # order: the committed nonce first
    assert base != short_auth_string(b"h" * 64, N1, b"\x03" * 32)
    with pytest.raises(ValueError):
        short_auth_string(b"", N1, N2)
    with pytest.raises(ValueError):
        short_auth_string(b"h", N1[:-1], N2)


def test_commitment_opens_only_with_its_nonce() -> None:
    commitment = sas_commitment(N1)
    assert opens_commitment(N1, commitment)
    assert not opens_commitment(N2, commitment)
    assert not opens_commitment(N1[:-1], commitment)


@pytest.mark.parametrize("pattern", ["IK", "XX"])
def test_honest_call_shows_the_same_sas_once_the_commitment_is_open(pattern: str) -> None:
    pin = BOB.signing_public if pattern == "IK" else None
    caller = CallHandshake.initiator(ALICE, CALL_ID, pin, ephemeral=eph(10))
    callee = CallHandshake.responder(BOB, CALL_ID, pattern, ephemeral=eph(11))
    committer, other = (caller, callee) if pattern == "IK" else (callee, caller)
    assert committer.commits and not other.commits
    with pytest.raises(HandshakeFailed):
        committer.sas_reveal  # noqa: B018  (never before the handshake is complete)
    (ik if pattern == "IK" else xx)(caller, callee, ALICE, BOB)
    assert caller.sas == callee.sas


def test_the_first_setup_carries_only_the_commitment_and_the_sas_waits_for_the_opening() -> None:
    nonce = b"\x07" * SAS_NONCE_BYTES
    caller = CallHandshake.initiator(ALICE, CALL_ID, BOB.signing_public, sas_nonce=nonce)
    callee = CallHandshake.responder(BOB, CALL_ID, "IK")
    callee.read_message(caller.write_message(setup(ALICE, "alice")))
    assert callee._peer_sas_value == sas_commitment(nonce)
    caller.read_message(callee.write_message(setup(BOB, "bob")))
    assert caller.sas  # the committer knows both nonces now
    assert not callee.sas_ready
    with pytest.raises(HandshakeFailed):
        callee.sas  # noqa: B018
    with pytest.raises(HandshakeFailed, match="does not open"):
        callee.open_commitment(b"\x08" * SAS_NONCE_BYTES)
    callee.open_commitment(nonce)
    assert callee.sas == caller.sas


def test_a_man_in_the_middle_shows_different_sas_on_each_end() -> None:
    """Alice pinned Mallory's key as "bob" (or accepted a stranger): Mallory answers Alice
    and calls Bob, relaying. Both legs complete; only the SAS betrays her."""
    alice = CallHandshake.initiator(ALICE, CALL_ID, MALLORY.signing_public)
    mallory_as_bob = CallHandshake.responder(MALLORY, CALL_ID, "IK")
    mallory_as_alice = CallHandshake.initiator(MALLORY, CALL_ID, BOB.signing_public)
    bob = CallHandshake.responder(BOB, CALL_ID, "IK")
    ik(alice, mallory_as_bob, ALICE, MALLORY)
    ik(mallory_as_alice, bob, MALLORY, BOB)
    assert alice.sas == mallory_as_bob.sas and bob.sas == mallory_as_alice.sas
    assert alice.sas != bob.sas
