"""Interoperability with an independent implementation: `noiseprotocol` (PyPI, test-only).

For the patterns the product uses (IK, XX), and a psk one for good measure, our
initiator talks to its responder and the reverse, then transport messages both ways.
"""

from __future__ import annotations

import pytest
from noise.connection import Keypair, NoiseConnection

from pysnac.noise import crypto
from pysnac.noise.handshakestate import HandshakeState

SUITE = "25519_ChaChaPoly_BLAKE2b"
PATTERNS = ["IK", "XX", "XXpsk3"]
PROLOGUE = b"pysnac interop"
PSK = bytes(range(32))


def theirs(pattern: str, initiator: bool, s: crypto.KeyPair, rs: bytes | None) -> NoiseConnection:
    conn = NoiseConnection.from_name(f"Noise_{pattern}_{SUITE}".encode())
    if initiator:
        conn.set_as_initiator()
    else:
        conn.set_as_responder()
    conn.set_keypair_from_private_bytes(Keypair.STATIC, s.private)
    if rs is not None:
        conn.set_keypair_from_public_bytes(Keypair.REMOTE_STATIC, rs)
    if "psk" in pattern:
        conn.set_psks(psks=[PSK])
    conn.set_prologue(PROLOGUE)
    conn.start_handshake()
    return conn


def ours(pattern: str, initiator: bool, s: crypto.KeyPair, rs: bytes | None) -> HandshakeState:
    psks = [PSK] if "psk" in pattern else []
    return HandshakeState(
        f"Noise_{pattern}_{SUITE}", initiator=initiator, prologue=PROLOGUE, s=s, rs=rs, psks=psks
    )


@pytest.mark.parametrize("pattern", PATTERNS)
@pytest.mark.parametrize("we_initiate", [True, False], ids=["ours-initiates", "theirs-initiates"])
def test_handshake_and_transport_interoperate(pattern: str, we_initiate: bool) -> None:
    init_keys, resp_keys = crypto.generate_keypair(), crypto.generate_keypair()
    rs = resp_keys.public if pattern.startswith("IK") else None
    if we_initiate:
        our = ours(pattern, True, init_keys, rs)
        their = theirs(pattern, False, resp_keys, None)
    else:
        their = theirs(pattern, True, init_keys, rs)
        our = ours(pattern, False, resp_keys, None)
    our_turn = we_initiate
    for number in range(len(our.pattern.messages)):
        payload = f"handshake payload {number}".encode()
        if our_turn:
            assert bytes(their.read_message(our.write_message(payload))) == payload
        else:
            assert our.read_message(bytes(their.write_message(payload))) == payload
        our_turn = not our_turn
    assert our.complete and their.handshake_finished
    assert our.handshake_hash == bytes(their.get_handshake_hash())
    expected_remote = resp_keys.public if we_initiate else init_keys.public
    assert our.remote_static == expected_remote

    i_to_r, r_to_i = our.split()
    send, receive = (i_to_r, r_to_i) if we_initiate else (r_to_i, i_to_r)
    for number in range(3):
        voice = bytes([number]) * 80
        assert bytes(their.decrypt(send.encrypt_with_ad(b"", voice))) == voice
        assert receive.decrypt_with_ad(b"", bytes(their.encrypt(voice))) == voice


def test_a_tampered_message_from_them_is_rejected_by_us() -> None:
    init_keys, resp_keys = crypto.generate_keypair(), crypto.generate_keypair()
    their = theirs("IK", True, init_keys, resp_keys.public)
    our = ours("IK", False, resp_keys, None)
    message = bytearray(their.write_message(b"hello"))
    message[-1] ^= 1
    with pytest.raises(crypto.DecryptError):
        our.read_message(bytes(message))
