"""SymmetricState, Noise rev. 34 section 5.2: the chaining key `ck`, the handshake hash `h`
and the handshake's CipherState.

Every byte sent or received during a handshake is hashed into `h`, so both parties end
with the same `h` only if they saw the same transcript: that is what the short
authentication string (`pysnac.channel.sas`) displays.
"""

from __future__ import annotations

from pysnac.noise import crypto
from pysnac.noise.cipherstate import CipherState
from pysnac.noise.crypto import HASHLEN_BYTES, KEY_BYTES


class SymmetricState:
    """ck, h and a CipherState, with the operations of section 5.2."""

    __slots__ = ("cipher", "ck", "h")

    def __init__(self, protocol_name: bytes) -> None:
        """InitializeSymmetric(protocol_name)."""
        if len(protocol_name) <= HASHLEN_BYTES:
            self.h = protocol_name.ljust(HASHLEN_BYTES, b"\x00")
        else:
            self.h = crypto.hash_(protocol_name)
        self.ck = self.h
        self.cipher = CipherState()

    def copy(self) -> SymmetricState:
        other = SymmetricState.__new__(SymmetricState)
        other.ck, other.h, other.cipher = self.ck, self.h, self.cipher.copy()
        return other

    def mix_key(self, input_key_material: bytes) -> None:
        self.ck, temp_k = crypto.hkdf(self.ck, input_key_material, 2)
        self.cipher.initialize_key(temp_k[:KEY_BYTES])  # HASHLEN 64: truncate to 32

    def mix_hash(self, data: bytes) -> None:
        self.h = crypto.hash_(self.h + data)

    def mix_key_and_hash(self, input_key_material: bytes) -> None:
        """Used by the psk token (section 9.2)."""
        self.ck, temp_h, temp_k = crypto.hkdf(self.ck, input_key_material, 3)
        self.mix_hash(temp_h)
        self.cipher.initialize_key(temp_k[:KEY_BYTES])

    def get_handshake_hash(self) -> bytes:
        return self.h

    def encrypt_and_hash(self, plaintext: bytes) -> bytes:
        ciphertext = self.cipher.encrypt_with_ad(self.h, plaintext)
        self.mix_hash(ciphertext)
        return ciphertext

    def decrypt_and_hash(self, ciphertext: bytes) -> bytes:
        plaintext = self.cipher.decrypt_with_ad(self.h, ciphertext)
        self.mix_hash(ciphertext)
        return plaintext

    def split_keys(self) -> tuple[bytes, bytes]:
        """The two transport keys of Split(): (initiator->responder, responder->initiator)."""
        temp_k1, temp_k2 = crypto.hkdf(self.ck, b"", 2)
        return temp_k1[:KEY_BYTES], temp_k2[:KEY_BYTES]

    def split(self) -> tuple[CipherState, CipherState]:
        """Split(): two CipherStates with implicit nonces, for Noise transport messages."""
        k1, k2 = self.split_keys()
        return CipherState(k1), CipherState(k2)
