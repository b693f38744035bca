"""The cryptographic functions of Noise rev. 34 section 4 (and 12.1, 12.3, 12.5), on PyNaCl.

DH is X25519 (`crypto_scalarmult`), the cipher ChaCha20-Poly1305 IETF with the nonce
laid out as 32 zero bits then the 64-bit counter little-endian (section 12.3), the hash
BLAKE2b-512 through libsodium's generichash. HMAC is RFC 2104 over that hash with
BLAKE2b's 128-byte block, and HKDF is the two/three-output form of section 4.3. Every
failure a peer can provoke (a forged tag, a low-order public key) raises `NoiseError`
subclasses, never a library-specific exception.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

import nacl.bindings as sodium
import nacl.exceptions
import nacl.utils

DH_NAME = "25519"
CIPHER_NAME = "ChaChaPoly"
HASH_NAME = "BLAKE2b"
DHLEN_BYTES = 32
KEY_BYTES = 32
TAG_BYTES = 16
HASHLEN_BYTES = 64
BLOCKLEN_BYTES = 128
NONCE_PAD_BYTES = 4
MAX_NONCE = 2**64 - 1  # section 5.1: this value is reserved (rekey), never used to encrypt
MAX_MESSAGE_BYTES = 65535  # section 3

_NONCE_PREFIX = bytes(NONCE_PAD_BYTES)
_COUNTER = struct.Struct("<Q")


class NoiseError(Exception):
    """A Noise operation failed; the handshake or message must be discarded."""


class DecryptError(NoiseError):
    """An AEAD tag did not verify: the message was forged, garbled or keyed wrongly."""


class InvalidPublicKey(NoiseError):
    """A DH with this public key gave the all-zero output (a low-order point)."""


class NonceExhausted(NoiseError):
    """A cipher's 64-bit nonce reached its reserved maximum (section 5.1)."""


@dataclass(frozen=True)
class KeyPair:
    """An X25519 key pair. The private half never appears in repr."""

    public: bytes
    private: bytes = field(repr=False)

    @classmethod
    def from_private(cls, private: bytes) -> KeyPair:
        if len(private) != DHLEN_BYTES:
            raise ValueError(f"an X25519 private key is {DHLEN_BYTES} bytes, not {len(private)}")
        return cls(public=sodium.crypto_scalarmult_base(private), private=private)


def generate_keypair() -> KeyPair:
    """GENERATE_KEYPAIR(): a fresh X25519 key pair from the OS random source."""
    return KeyPair.from_private(nacl.utils.random(DHLEN_BYTES))


def dh(key_pair: KeyPair, public_key: bytes) -> bytes:
    """DH(key_pair, public_key): X25519. An all-zero result (low-order point) is refused."""
    if len(public_key) != DHLEN_BYTES:
        raise InvalidPublicKey(f"a public key is {DHLEN_BYTES} bytes, not {len(public_key)}")
    try:
        return sodium.crypto_scalarmult(key_pair.private, public_key)
    except nacl.exceptions.RuntimeError as exc:  # libsodium refuses the all-zero output
        raise InvalidPublicKey("public key is a low-order point") from exc


def nonce_bytes(n: int) -> bytes:
    """The 96-bit IETF nonce of section 12.3: 4 zero bytes, then n as 64-bit little-endian."""
    return _NONCE_PREFIX + _COUNTER.pack(n)


def encrypt(k: bytes, n: int, ad: bytes, plaintext: bytes) -> bytes:
    """ENCRYPT(k, n, ad, plaintext): ChaCha20-Poly1305, ciphertext with its 16-byte tag."""
    return sodium.crypto_aead_chacha20poly1305_ietf_encrypt(plaintext, ad, nonce_bytes(n), k)


def decrypt(k: bytes, n: int, ad: bytes, ciphertext: bytes) -> bytes:
    """DECRYPT(k, n, ad, ciphertext): raises DecryptError when authentication fails."""
    if len(ciphertext) < TAG_BYTES:
        raise DecryptError("ciphertext shorter than its tag")
    try:
        return sodium.crypto_aead_chacha20poly1305_ietf_decrypt(ciphertext, ad, nonce_bytes(n), k)
    except nacl.exceptions.CryptoError as exc:
        raise DecryptError("authentication tag did not verify") from exc


def rekey(k: bytes) -> bytes:
    """REKEY(k), section 4.2: the first 32 bytes of ENCRYPT(k, maxnonce, empty, zeros)."""
    return encrypt(k, MAX_NONCE, b"", bytes(KEY_BYTES))[:KEY_BYTES]


def hash_(data: bytes) -> bytes:
    """HASH(data): BLAKE2b with a 64-byte digest (section 12.5)."""
    return sodium.crypto_generichash_blake2b_salt_personal(data, digest_size=HASHLEN_BYTES)


_IPAD = bytes(0x36 for _ in range(256))
_OPAD_XOR = bytes(0x5C for _ in range(256))


def _xor(a: bytes, b: bytes) -> bytes:
    return (int.from_bytes(a, "big") ^ int.from_bytes(b, "big")).to_bytes(len(a), "big")


def hmac_hash(key: bytes, data: bytes) -> bytes:
    """HMAC-HASH(key, data): RFC 2104 with BLAKE2b and its 128-byte block (section 4.3)."""
    if len(key) > BLOCKLEN_BYTES:
        key = hash_(key)
    key = key.ljust(BLOCKLEN_BYTES, b"\x00")
    inner = hash_(_xor(key, _IPAD[:BLOCKLEN_BYTES]) + data)
    return hash_(_xor(key, _OPAD_XOR[:BLOCKLEN_BYTES]) + inner)


def hkdf(chaining_key: bytes, input_key_material: bytes, num_outputs: int) -> tuple[bytes, ...]:
    """HKDF(chaining_key, input_key_material, num_outputs) of section 4.3 (2 or 3 outputs)."""
    if num_outputs not in (2, 3):
        raise ValueError("HKDF gives 2 or 3 outputs")
    temp_key = hmac_hash(chaining_key, input_key_material)
    output1 = hmac_hash(temp_key, b"\x01")
    output2 = hmac_hash(temp_key, output1 + b"\x02")
    if num_outputs == 2:
        return output1, output2
    output3 = hmac_hash(temp_key, output2 + b"\x03")
    return output1, output2, output3
