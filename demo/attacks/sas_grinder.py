"""The SAS grinding attacker: Mallory in the middle of a call, both legs real handshakes.

Alice calls "bob" but has Mallory's key pinned under that name (or accepts a stranger);
Mallory answers her (leg A) and calls Bob herself (leg B), relaying. Both legs complete;
only the SAS the users read aloud can betray her, so she grinds: she varies what she
controls on leg A (her CallSetup in the ACCEPT: a codec value changes the handshake hash)
until leg A's SAS equals leg B's.

- Old derivation (the SAS from the handshake hash alone, 4 base-31 characters): every
  candidate can be scored offline, so a match costs about 31^4 = 923,521 tries.
- Commitment (`pysnac.channel.sas`): leg A's SAS also depends on Alice's nonce, which
  Mallory holds only as a BLAKE2b-256 commitment when she must fix her ACCEPT. To score a
  candidate offline she must guess that nonce and check the guess against the commitment;
  a "match" is a guess that opens it (2^-256 per try). Whatever she then sends, the SAS
  Alice shows is a fresh random value: equal to Bob's with probability 31^-5.

`python -m demo.attacks.sas_grinder --tries N` (`make attack`: 10 million) prints tries per
second and matches for both derivations.
"""

from __future__ import annotations

import argparse
import copy
import hashlib
import struct
import sys
import time
from dataclasses import dataclass

from pysnac.channel.call_handshake import CallHandshake, CallSetup
from pysnac.channel.identity import Identity
from pysnac.channel.limits import SAS_NONCE_BYTES
from pysnac.channel.sas import COMMIT_PERSONAL, encode_digest, keyed_digest, sas_commitment
from pysnac.noise import crypto
from pysnac.noise.crypto import KeyPair

OLD_SAS_PERSONAL = b"PySNAC-SAS-v1".ljust(16, b"\x00")
OLD_SAS_CHARS = 4
CALL_A, CALL_B = b"leg-A-id", b"leg-B-id"
CODEC = {"bitrate": 24000}
DEFAULT_TRIES = 10_000_000


def old_sas(handshake_hash: bytes, chars: int = OLD_SAS_CHARS) -> str:
    """The derivation PySNAC used before the commitment: the handshake hash alone."""
    return encode_digest(keyed_digest(handshake_hash, OLD_SAS_PERSONAL), chars)


def _fixed(n: int) -> KeyPair:
    return KeyPair.from_private(bytes([n]) * 32)


def _setup(who: Identity, name: str, index: int, bitrate: int = 24000) -> CallSetup:
    return CallSetup(name, who.signing_public, 1, {"bitrate": bitrate}, index)


@dataclass
class Mitm:
    """Both legs set up, leg B complete, leg A waiting for Mallory's ACCEPT."""

    alice: CallHandshake
    mallory_a: CallHandshake  # answers Alice as "bob"
    mallory_b: CallHandshake  # calls Bob as "alice"
    bob: CallHandshake
    mallory: Identity

    @classmethod
    def start(cls, seed: int = 1) -> Mitm:
        alice_id, bob_id, mallory_id = (Identity(bytes([seed + n]) * 32) for n in (0, 1, 2))
        nonce = lambda n: bytes([seed + n]) * SAS_NONCE_BYTES  # noqa: E731
        alice = CallHandshake.initiator(
            alice_id, CALL_A, mallory_id.signing_public, ephemeral=_fixed(10), sas_nonce=nonce(3)
        )
        mallory_a = CallHandshake.responder(
            mallory_id, CALL_A, "IK", ephemeral=_fixed(20), sas_nonce=nonce(4)
        )
        mallory_b = CallHandshake.initiator(
            mallory_id, CALL_B, bob_id.signing_public, ephemeral=_fixed(21), sas_nonce=nonce(5)
        )
        bob = CallHandshake.responder(
            bob_id, CALL_B, "IK", ephemeral=_fixed(11), sas_nonce=nonce(6)
        )
        mallory_a.read_message(alice.write_message(_setup(alice_id, "alice", 1)))
        bob.read_message(mallory_b.write_message(_setup(mallory_id, "alice", 2)))
        mallory_b.read_message(bob.write_message(_setup(bob_id, "bob", 3)))
        bob.open_commitment(mallory_b.sas_reveal)
        return cls(alice, mallory_a, mallory_b, bob, mallory_id)

    def leg_b_sas(self) -> str:
        return self.bob.sas

    def leg_b_old_sas(self, chars: int = OLD_SAS_CHARS) -> str:
        return old_sas(self.bob.session_keys().handshake_hash, chars)


class LegAGrinder:
    """Mallory's offline loop over her leg-A ACCEPT: the project's SymmetricState runs the
    `e, ee, se` tokens once; each try re-encrypts a payload with another codec value."""

    def __init__(self, mitm: Mitm) -> None:
        state = mitm.mallory_a._state
        self._e = _fixed(20)
        sym = state._symmetric.copy()
        sym.mix_hash(self._e.public)  # e
        sym.mix_key(crypto.dh(self._e, state._re))  # ee
        sym.mix_key(crypto.dh(self._e, state._rs))  # se
        self._sym = sym
        self._nonce = bytes([99]) * SAS_NONCE_BYTES  # her n_B', in clear in her setup
        self._setup = _setup(mitm.mallory, "bob", 4)
        self.commitment = mitm.mallory_a._peer_sas_value  # all she knows of Alice's nonce
        self._template = bytearray(self._nonce + self._setup.encode())  # bitrate: last 4
        self._check_against_the_real_handshake(mitm)

    def payload(self, bitrate: int) -> bytes:
        struct.pack_into("<I", self._template, len(self._template) - 4, bitrate)
        return bytes(self._template)

    def handshake_hash(self, bitrate: int) -> bytes:
        sym = self._sym.copy()
        sym.encrypt_and_hash(self.payload(bitrate))
        return sym.h

    def _check_against_the_real_handshake(self, mitm: Mitm) -> None:
        """The shortcut must give exactly the hash a real ACCEPT would."""
        real = copy.deepcopy(mitm.mallory_a)
        real._own_nonce = self._nonce
        real.write_message(_setup(mitm.mallory, "bob", 4, bitrate=7))
        assert real.session_keys().handshake_hash == self.handshake_hash(7)


@dataclass
class Result:
    tries: int
    matches: int
    seconds: float
    first_match: int | None = None

    @property
    def per_s(self) -> float:
        return self.tries / self.seconds if self.seconds > 0 else float("inf")


def grind_old(tries: int, chars: int = OLD_SAS_CHARS, seed: int = 1) -> Result:
    """Score each candidate ACCEPT offline with the old derivation; count matches."""
    mitm = Mitm.start(seed)
    grinder = LegAGrinder(mitm)
    target = mitm.leg_b_old_sas(chars)
    matches, first = 0, None
    started = time.perf_counter()
    for bitrate in range(tries):
        if old_sas(grinder.handshake_hash(bitrate), chars) == target:
            matches += 1
            first = bitrate if first is None else first
    return Result(tries, matches, time.perf_counter() - started, first)


_GUESS = struct.Struct("<Q24x")


def _fast_commitment(nonce: bytes) -> bytes:
    """sas_commitment without its argument checks: the attacker's inner loop."""
    return hashlib.blake2b(nonce, digest_size=32, person=COMMIT_PERSONAL).digest()


def grind_committed(tries: int, seed: int = 1) -> tuple[Result, bool]:
    """Against the commitment: each try is a candidate ACCEPT plus a guess of Alice's nonce,
    checked against her commitment (the only offline test there is). Then Mallory sends a
    candidate anyway; returns the result and whether the two SAS the users see matched."""
    mitm = Mitm.start(seed)
    grinder = LegAGrinder(mitm)
    commitment = grinder.commitment
    matches, first = 0, None
    started = time.perf_counter()
    commit = _fast_commitment
    assert commit(_GUESS.pack(1)) == sas_commitment(_GUESS.pack(1))  # the same function
    for guess in range(tries):
        if commit(_GUESS.pack(guess)) == commitment:
            matches += 1
            first = guess if first is None else first
    elapsed = time.perf_counter() - started
    # Out of guesses: she sends an ACCEPT and learns Alice's nonce only afterwards.
    accept = mitm.mallory_a.write_message(_setup(mitm.mallory, "bob", 4))
    mitm.alice.read_message(accept)
    mitm.mallory_a.open_commitment(mitm.alice.sas_reveal)
    return Result(tries, matches, elapsed, first), mitm.alice.sas == mitm.leg_b_sas()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tries", type=int, default=DEFAULT_TRIES)
    parser.add_argument("--old-tries", type=int, default=2_000_000)
    args = parser.parse_args(argv)
    committed, shown_equal = grind_committed(args.tries)
    print(
        f"commitment: {committed.tries:,} tries in {committed.seconds:.1f} s "
        f"({committed.per_s:,.0f}/s), {committed.matches} matches; "
        f"the SAS Alice and Bob read: {'EQUAL' if shown_equal else 'different'}"
    )
    old = grind_old(args.old_tries)
    expected = args.old_tries / 31**OLD_SAS_CHARS
    print(
        f"old derivation: {old.tries:,} tries in {old.seconds:.1f} s ({old.per_s:,.0f}/s), "
        f"{old.matches} matches (expected {expected:.1f}; first at try {old.first_match})"
    )
    return 1 if committed.matches or shown_equal else 0


if __name__ == "__main__":
    sys.exit(main())
