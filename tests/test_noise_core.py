"""The Noise building blocks: primitives against independent references, the pattern
tables against the spec's psk list, and the state objects' failure behaviour."""

from __future__ import annotations

import hashlib
import hmac

import nacl.bindings as sodium
import pytest

from pysnac.noise import crypto, patterns
from pysnac.noise.cipherstate import CipherState
from pysnac.noise.crypto import DecryptError, InvalidPublicKey, KeyPair, NonceExhausted
from pysnac.noise.handshakestate import HandshakeOrderError, HandshakeState, MessageTooShort
from pysnac.noise.patterns import UnsupportedProtocol

XX = "Noise_XX_25519_ChaChaPoly_BLAKE2b"
IK = "Noise_IK_25519_ChaChaPoly_BLAKE2b"
KEY = bytes(range(32))
# A point of order 8 on Curve25519 (from the libsodium/curve25519 blacklist).
LOW_ORDER_POINT = bytes.fromhex("e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800")


@pytest.mark.parametrize("key_len", [0, 20, 64, 128, 129, 300])
def test_hmac_matches_the_standard_library(key_len: int) -> None:
    key, data = (bytes(range(256)) * 2)[:key_len], b"noise" * 50
    assert crypto.hmac_hash(key, data) == hmac.new(key, data, hashlib.blake2b).digest()


def test_hash_is_blake2b_512() -> None:
    assert crypto.hash_(b"abc") == hashlib.blake2b(b"abc").digest()


def test_hkdf_follows_section_4_3() -> None:
    ck, ikm = b"c" * 64, b"input"
    temp = hmac.new(ck, ikm, hashlib.blake2b).digest()
    out1 = hmac.new(temp, b"\x01", hashlib.blake2b).digest()
    out2 = hmac.new(temp, out1 + b"\x02", hashlib.blake2b).digest()
    out3 = hmac.new(temp, out2 + b"\x03", hashlib.blake2b).digest()
    assert crypto.hkdf(ck, ikm, 2) == (out1, out2)
    assert crypto.hkdf(ck, ikm, 3) == (out1, out2, out3)
    with pytest.raises(ValueError):
        crypto.hkdf(ck, ikm, 4)


def test_aead_nonce_layout_is_4_zero_bytes_then_little_endian_counter() -> None:
    assert crypto.nonce_bytes(0x0102030405060708) == bytes(4) + bytes([8, 7, 6, 5, 4, 3, 2, 1])
    direct = sodium.crypto_aead_chacha20poly1305_ietf_encrypt(
        b"hello", b"ad", bytes(4) + (5).to_bytes(8, "little"), KEY
    )
    assert crypto.encrypt(KEY, 5, b"ad", b"hello") == direct
    assert crypto.decrypt(KEY, 5, b"ad", direct) == b"hello"
    for bad in (direct[:-1] + bytes([direct[-1] ^ 1]), direct[:10], b""):
        with pytest.raises(DecryptError):
            crypto.decrypt(KEY, 5, b"ad", bad)
    with pytest.raises(DecryptError):
        crypto.decrypt(KEY, 6, b"ad", direct)


def test_dh_agrees_and_refuses_low_order_points() -> None:
    a, b = crypto.generate_keypair(), crypto.generate_keypair()
    assert crypto.dh(a, b.public) == crypto.dh(b, a.public)
    with pytest.raises(InvalidPublicKey):
        crypto.dh(a, LOW_ORDER_POINT)
    with pytest.raises(InvalidPublicKey):
        crypto.dh(a, bytes(31))
    assert a.private.hex() not in repr(a)


def test_cipherstate_refuses_the_reserved_nonce_and_keeps_n_on_failure() -> None:
    sender, receiver = CipherState(KEY), CipherState(KEY)
    ciphertext = sender.encrypt_with_ad(b"", b"x")
    with pytest.raises(DecryptError):
        receiver.decrypt_with_ad(b"", ciphertext[:-1] + b"\x00")
    assert receiver.n == 0
    assert receiver.decrypt_with_ad(b"", ciphertext) == b"x"
    exhausted = CipherState(KEY, n=crypto.MAX_NONCE)
    with pytest.raises(NonceExhausted):
        exhausted.encrypt_with_ad(b"", b"x")
    last = CipherState(KEY, n=crypto.MAX_NONCE - 1)
    last.encrypt_with_ad(b"", b"x")
    with pytest.raises(NonceExhausted):
        last.encrypt_with_ad(b"", b"x")


def test_rekey_is_encrypt_at_max_nonce() -> None:
    state = CipherState(KEY, n=7)
    state.rekey()
    assert state.k == crypto.encrypt(KEY, crypto.MAX_NONCE, b"", bytes(32))[:32]
    assert state.n == 7


def test_tables_hold_every_pattern_of_the_spec() -> None:
    assert len(patterns.ONE_WAY) == 3
    assert len(patterns.FUNDAMENTAL) == 12
    assert len(patterns.DEFERRED) == 23
    assert len(patterns.NAMED_PSK) == 21
    for name in [*patterns.BASE_PATTERNS, *patterns.NAMED_PSK]:
        patterns.table_pattern(name)  # parses, arrows alternate, tokens known


@pytest.mark.parametrize("name", sorted(patterns.NAMED_PSK))
def test_psk_modifier_rule_reproduces_the_spec_table(name: str) -> None:
    derived = patterns.parse_pattern(name)
    printed = patterns.table_pattern(name)
    assert derived.messages == printed.messages
    assert (derived.initiator_pre, derived.responder_pre) == (
        printed.initiator_pre,
        printed.responder_pre,
    )


def test_combined_modifiers_and_bad_names() -> None:
    both = patterns.parse_pattern("NNpsk0+psk2")
    assert both.messages == (("psk", "e"), ("e", "ee", "psk"))
    for bad in ("ZZ", "NNpsk3", "XXfallback", "xx", "", "NN+psk0"):
        with pytest.raises(UnsupportedProtocol):
            patterns.parse_pattern(bad)
    for bad in ("Noise_XX_448_ChaChaPoly_BLAKE2b", "Noise_XX", "Nois_XX_25519_ChaChaPoly_BLAKE2b"):
        with pytest.raises(UnsupportedProtocol):
            patterns.parse_protocol_name(bad)


def pair(name: str = XX) -> tuple[HandshakeState, HandshakeState, KeyPair, KeyPair]:
    a, b = crypto.generate_keypair(), crypto.generate_keypair()
    rs = b.public if name == IK else None
    init = HandshakeState(name, initiator=True, prologue=b"p", s=a, rs=rs)
    resp = HandshakeState(name, initiator=False, prologue=b"p", s=b)
    return init, resp, a, b


def test_a_rejected_message_leaves_the_handshake_usable() -> None:
    init, resp, a, _ = pair()
    resp.read_message(init.write_message(b""))
    message2 = resp.write_message(b"resp")
    forged = message2[:40] + bytes([message2[40] ^ 0x80]) + message2[41:]
    for bad in (forged, message2[:50], b""):
        with pytest.raises(crypto.NoiseError):
            init.read_message(bad)
    assert init.read_message(message2) == b"resp"
    resp.read_message(init.write_message(b"init"))
    assert init.complete and resp.complete
    assert init.handshake_hash == resp.handshake_hash
    assert resp.remote_static == a.public
    assert init.split_keys() == resp.split_keys()


def test_turn_order_and_missing_keys() -> None:
    init, resp, _, _ = pair()
    with pytest.raises(HandshakeOrderError):
        resp.write_message(b"")
    with pytest.raises(HandshakeOrderError):
        init.read_message(bytes(32))
    with pytest.raises(HandshakeOrderError):
        init.split()
    with pytest.raises(MessageTooShort):
        resp.read_message(bytes(31))
    with pytest.raises(ValueError):
        HandshakeState(IK, initiator=True, s=crypto.generate_keypair())  # no rs
    with pytest.raises(ValueError):
        HandshakeState(XX, initiator=False)  # no s
    with pytest.raises(ValueError):
        HandshakeState("Noise_NNpsk0_25519_ChaChaPoly_BLAKE2b", initiator=True)  # no psk


def test_low_order_ephemeral_is_a_noise_error_not_a_crash() -> None:
    init, resp, _, _ = pair()
    resp.read_message(init.write_message(b""))
    message2 = resp.write_message(b"")
    with pytest.raises(InvalidPublicKey):
        init.read_message(LOW_ORDER_POINT + message2[32:])
    assert init.read_message(message2) == b""
