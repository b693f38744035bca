"""CipherState, Noise rev. 34 section 5.1: a key `k` (or none) and a 64-bit nonce `n`.

Used twice: inside the SymmetricState during the handshake, and as the pair of transport
ciphers that `Split()` returns. The nonce is implicit here (each side counts); the voice
path, which must survive loss and reordering, uses explicit counters instead
(`pysnac.channel.transport`). A failed decryption leaves `n` unchanged, as 5.1 asks.
"""

from __future__ import annotations

from pysnac.noise import crypto
from pysnac.noise.crypto import MAX_NONCE, NonceExhausted


class CipherState:
    """A key (None until one is mixed in) and the next nonce to use."""

    __slots__ = ("k", "n")

    def __init__(self, k: bytes | None = None, n: int = 0) -> None:
        self.k = k
        self.n = n

    def __repr__(self) -> str:
        return f"CipherState(has_key={self.k is not None}, n={self.n})"

    def initialize_key(self, key: bytes | None) -> None:
        self.k = key
        self.n = 0

    def has_key(self) -> bool:
        return self.k is not None

    def set_nonce(self, nonce: int) -> None:
        self.n = nonce

    def copy(self) -> CipherState:
        return CipherState(self.k, self.n)

    def _next_nonce(self) -> int:
        if self.n >= MAX_NONCE:  # 2^64-1 is reserved: refuse rather than wrap
            raise NonceExhausted("cipher nonce exhausted; rekey or start a new session")
        return self.n

    def encrypt_with_ad(self, ad: bytes, plaintext: bytes) -> bytes:
        """Encrypt and advance n; with no key the plaintext passes through (section 5.1)."""
        if self.k is None:
            return plaintext
        ciphertext = crypto.encrypt(self.k, self._next_nonce(), ad, plaintext)
        self.n += 1
        return ciphertext

    def decrypt_with_ad(self, ad: bytes, ciphertext: bytes) -> bytes:
        """Decrypt and advance n; raises DecryptError (n unchanged) on a bad tag."""
        if self.k is None:
            return ciphertext
        plaintext = crypto.decrypt(self.k, self._next_nonce(), ad, ciphertext)
        self.n += 1
        return plaintext

    def rekey(self) -> None:
        """Rekey(), section 4.2 / 11.3: replace k with REKEY(k); n is kept."""
        if self.k is None:
            raise ValueError("cannot rekey a CipherState without a key")
        self.k = crypto.rekey(self.k)
