"""Benchmark the secure channel: handshake time and per-packet seal+open cost.

Prints, in microseconds per operation (best of several repeats, one core):
  - the bare PyNaCl ChaCha20-Poly1305 IETF encrypt+decrypt of an 80-byte payload,
  - PacketSealer.seal + PacketOpener.open of the same payload (header, counter, replay
    window included), and their ratio to the bare call (target: within 3x),
  - a full IK call handshake round trip (both sides, two messages, split) and XX (three),
  - the X25519 scalar multiplication underneath, for scale.
Run directly or through `make bench`. Asserts nothing.
"""

from __future__ import annotations

import sys
import timeit
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import nacl.bindings as sodium

from pysnac.channel.call_handshake import CallHandshake, CallSetup
from pysnac.channel.identity import Identity
from pysnac.channel.transport import PacketOpener, PacketSealer

PAYLOAD_BYTES = 80
HEADER = b"\x03\x00\x00\x00\x01"
REPEATS = 7
PACKETS_PER_REPEAT = 20_000
HANDSHAKES_PER_REPEAT = 200
TARGET_RATIO = 3.0


def best_us(statement, number: int) -> float:
    """Best-of-REPEATS time per call, in microseconds."""
    return min(timeit.repeat(statement, number=number, repeat=REPEATS)) / number * 1e6


def bare_aead_us() -> float:
    key, payload, ad = bytes(32), bytes(PAYLOAD_BYTES), HEADER + bytes(8)
    counter = iter(range(10**9))

    def once() -> None:
        nonce = bytes(4) + next(counter).to_bytes(8, "little")
        ciphertext = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(payload, ad, nonce, key)
        sodium.crypto_aead_chacha20poly1305_ietf_decrypt(ciphertext, ad, nonce, key)

    return best_us(once, PACKETS_PER_REPEAT)


def seal_open_us() -> float:
    key, payload = bytes(range(32)), bytes(PAYLOAD_BYTES)
    sealer, opener = PacketSealer(key), PacketOpener(key)

    def once() -> None:
        opener.open(sealer.seal(HEADER, payload), len(HEADER))

    return best_us(once, PACKETS_PER_REPEAT)


def handshake_us(pattern: str) -> float:
    alice, bob = Identity.generate(), Identity.generate()
    codec = {"bitrate": 24000, "frame_ms": 20}
    alice_setup = CallSetup("alice", alice.signing_public, 1, codec)
    bob_setup = CallSetup("bob", bob.signing_public, 1, codec)
    call_id = bytes(8)

    def once() -> None:
        pin = bob.signing_public if pattern == "IK" else None
        caller = CallHandshake.initiator(alice, call_id, pin)
        callee = CallHandshake.responder(bob, call_id, pattern)
        if pattern == "XX":
            callee.read_message(caller.write_message(None))
            caller.read_message(callee.write_message(bob_setup))
            callee.read_message(caller.write_message(alice_setup))
        else:
            callee.read_message(caller.write_message(alice_setup))
            caller.read_message(callee.write_message(bob_setup))
        caller.session_keys()
        callee.session_keys()

    return best_us(once, HANDSHAKES_PER_REPEAT)


def x25519_us() -> float:
    private, public = bytes(range(32)), sodium.crypto_scalarmult_base(bytes([9]) * 32)
    return best_us(lambda: sodium.crypto_scalarmult(private, public), 2_000)


def main() -> int:
    bare = bare_aead_us()
    ours = seal_open_us()
    print(f"bare PyNaCl AEAD encrypt+decrypt, {PAYLOAD_BYTES} B: {bare:8.2f} us")
    print(f"PacketSealer.seal + PacketOpener.open, {PAYLOAD_BYTES} B: {ours:8.2f} us")
    verdict = "within" if ours / bare <= TARGET_RATIO else "OVER"
    print(f"ratio seal+open / bare: {ours / bare:.2f}x ({verdict} the {TARGET_RATIO:.0f}x target)")
    print(f"IK call handshake, full round trip (both sides): {handshake_us('IK') / 1000:8.3f} ms")
    print(f"XX call handshake, three messages (both sides):  {handshake_us('XX') / 1000:8.3f} ms")
    print(f"X25519 scalar multiplication: {x25519_us():8.2f} us")
    return 0


if __name__ == "__main__":
    sys.exit(main())
