"""HandshakeState, Noise rev. 34 section 5.3: runs any pattern from `patterns` token by token.

Create one per handshake with the role, prologue, our static key pair (if the pattern
sends or pre-knows it), the peer's static key (if pre-known) and the psks (section 9).
`write_message(payload)` and `read_message(message)` alternate as the pattern says;
after the last message `split()` gives the transport CipherStates and
`handshake_hash` the transcript hash (section 11.2, channel binding).

A failed `read_message` (forged, garbled, truncated) raises a `NoiseError` and leaves
the state exactly as it was, so a spoofed packet cannot kill a handshake that the real
peer can still complete. The ephemeral key may be fixed (`ephemeral=`) for test vectors.
"""

from __future__ import annotations

from pysnac.noise import crypto
from pysnac.noise.cipherstate import CipherState
from pysnac.noise.crypto import DHLEN_BYTES, MAX_MESSAGE_BYTES, TAG_BYTES, KeyPair, NoiseError
from pysnac.noise.patterns import HandshakePattern, parse_protocol_name
from pysnac.noise.symmetricstate import SymmetricState

PSK_BYTES = 32


class HandshakeOrderError(NoiseError):
    """A message was written or read out of the pattern's turn order, or after the end."""


class MessageTooShort(NoiseError):
    """A handshake message ended before all its tokens were read."""


class HandshakeState:
    """One handshake in progress (section 5.3)."""

    def __init__(
        self,
        protocol_name: str,
        *,
        initiator: bool,
        prologue: bytes = b"",
        s: KeyPair | None = None,
        rs: bytes | None = None,
        psks: list[bytes] | tuple[bytes, ...] = (),
        ephemeral: KeyPair | None = None,
        re: bytes | None = None,
    ) -> None:
        """Initialize(); raises ValueError if a key the pattern needs is missing."""
        protocol = parse_protocol_name(protocol_name)
        self.pattern: HandshakePattern = protocol.pattern
        self.initiator = initiator
        self._symmetric = SymmetricState(protocol_name.encode("ascii"))
        self._s = s
        self._e: KeyPair | None = None
        self._fixed_e = ephemeral
        self._rs = rs
        self._re = re
        self._psks = tuple(psks)
        self._psk_index = 0
        self._message_index = 0
        self._keys: tuple[bytes, bytes] | None = None
        if len(self._psks) != self.pattern.psk_count or any(
            len(psk) != PSK_BYTES for psk in self._psks
        ):
            raise ValueError(f"{self.pattern.name} needs {self.pattern.psk_count} 32-byte psks")
        self._symmetric.mix_hash(prologue)
        self._mix_pre_messages()

    def _mix_pre_messages(self) -> None:
        """Hash the pre-message keys, initiator's first (section 7.1)."""
        for owner_is_initiator, tokens in (
            (True, self.pattern.initiator_pre),
            (False, self.pattern.responder_pre),
        ):
            ours = owner_is_initiator == self.initiator
            for token in tokens:
                if token == "s":
                    key = (self._s.public if self._s else None) if ours else self._rs
                else:
                    if ours and self._e is None:
                        self._e = self._fixed_e or crypto.generate_keypair()
                    key = (self._e.public if self._e else None) if ours else self._re
                if key is None:
                    raise ValueError(f"{self.pattern.name}: pre-message key {token} missing")
                self._symmetric.mix_hash(key)
                if token == "e" and self.pattern.uses_psk:
                    self._symmetric.mix_key(key)
        if self._needs_own_static() and self._s is None:
            raise ValueError(f"{self.pattern.name}: this role needs a static key pair")

    def _needs_own_static(self) -> bool:
        """True when we send `s` or a DH token uses our static key (es/se/ss)."""
        parity = 0 if self.initiator else 1
        sent = {t for i, m in enumerate(self.pattern.messages) if i % 2 == parity for t in m}
        every = {t for m in self.pattern.messages for t in m}
        uses_static = {"se", "ss"} if self.initiator else {"es", "ss"}
        return "s" in sent or bool(every & uses_static)

    # --- state queries -------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return self._keys is not None

    @property
    def handshake_hash(self) -> bytes:
        """h: equal on both sides only if both saw the same transcript."""
        return self._symmetric.get_handshake_hash()

    @property
    def remote_static(self) -> bytes | None:
        """The peer's static public key: pre-known, or learnt (authenticated) from a message."""
        return self._rs

    @property
    def is_my_turn_to_write(self) -> bool:
        return not self.complete and (self._message_index % 2 == 0) == self.initiator

    def split_keys(self) -> tuple[bytes, bytes]:
        """(initiator->responder key, responder->initiator key) once complete."""
        if self._keys is None:
            raise HandshakeOrderError("handshake not complete")
        return self._keys

    def split(self) -> tuple[CipherState, CipherState]:
        """Split(): (initiator->responder, responder->initiator) CipherStates."""
        k1, k2 = self.split_keys()
        return CipherState(k1), CipherState(k2)

    # --- messages ----------------------------------------------------------------

    def write_message(self, payload: bytes = b"") -> bytes:
        """WriteMessage(payload): the next handshake message."""
        if not self.is_my_turn_to_write:
            raise HandshakeOrderError("not our turn to write a handshake message")
        snapshot = self._snapshot()
        try:
            message = self._write_tokens(payload)
        except NoiseError:
            self._restore(snapshot)
            raise
        if len(message) > MAX_MESSAGE_BYTES:
            self._restore(snapshot)
            raise ValueError(f"handshake message over {MAX_MESSAGE_BYTES} bytes")
        self._advance()
        return message

    def read_message(self, message: bytes) -> bytes:
        """ReadMessage(message) -> payload; on any failure the state is unchanged."""
        if self.complete or self.is_my_turn_to_write:
            raise HandshakeOrderError("not expecting a handshake message now")
        if len(message) > MAX_MESSAGE_BYTES:
            raise MessageTooShort(f"handshake message over {MAX_MESSAGE_BYTES} bytes")
        snapshot = self._snapshot()
        try:
            payload = self._read_tokens(bytes(message))
        except NoiseError:
            self._restore(snapshot)
            raise
        self._advance()
        return payload

    def _snapshot(self) -> tuple:
        return (self._symmetric.copy(), self._e, self._rs, self._re, self._psk_index)

    def _restore(self, snapshot: tuple) -> None:
        self._symmetric, self._e, self._rs, self._re, self._psk_index = snapshot

    def _advance(self) -> None:
        self._message_index += 1
        if self._message_index == len(self.pattern.messages):
            self._keys = self._symmetric.split_keys()
            self._e = None  # the ephemeral private key is not needed after Split()
            self._fixed_e = None

    def _tokens(self) -> tuple[str, ...]:
        return self.pattern.messages[self._message_index]

    def _write_tokens(self, payload: bytes) -> bytes:
        out = bytearray()
        sym = self._symmetric
        for token in self._tokens():
            if token == "e":
                self._e = self._fixed_e or crypto.generate_keypair()
                out += self._e.public
                sym.mix_hash(self._e.public)
                if self.pattern.uses_psk:
                    sym.mix_key(self._e.public)
            elif token == "s":
                assert self._s is not None
                out += sym.encrypt_and_hash(self._s.public)
            elif token == "psk":
                self._mix_psk()
            else:
                sym.mix_key(self._dh(token))
        out += sym.encrypt_and_hash(payload)
        return bytes(out)

    def _read_tokens(self, message: bytes) -> bytes:
        sym = self._symmetric
        offset = 0
        for token in self._tokens():
            if token == "e":
                self._re = self._take(message, offset, DHLEN_BYTES)
                offset += DHLEN_BYTES
                sym.mix_hash(self._re)
                if self.pattern.uses_psk:
                    sym.mix_key(self._re)
            elif token == "s":
                size = DHLEN_BYTES + (TAG_BYTES if sym.cipher.has_key() else 0)
                self._rs = sym.decrypt_and_hash(self._take(message, offset, size))
                offset += size
            elif token == "psk":
                self._mix_psk()
            else:
                sym.mix_key(self._dh(token))
        rest = message[offset:]
        if sym.cipher.has_key() and len(rest) < TAG_BYTES:
            raise MessageTooShort("handshake payload shorter than its tag")
        return sym.decrypt_and_hash(rest)

    @staticmethod
    def _take(message: bytes, offset: int, size: int) -> bytes:
        if len(message) < offset + size:
            raise MessageTooShort("handshake message truncated")
        return message[offset : offset + size]

    def _mix_psk(self) -> None:
        self._symmetric.mix_key_and_hash(self._psks[self._psk_index])
        self._psk_index += 1

    def _dh(self, token: str) -> bytes:
        """ee/es/se/ss: the first letter is the initiator's key, the second the responder's."""
        init_key, resp_key = token[0], token[1]
        mine, theirs = (init_key, resp_key) if self.initiator else (resp_key, init_key)
        local = self._e if mine == "e" else self._s
        remote = self._re if theirs == "e" else self._rs
        if local is None or remote is None:
            raise NoiseError(f"{token}: a key is missing")
        return crypto.dh(local, remote)


__all__ = ["PSK_BYTES", "HandshakeOrderError", "HandshakeState", "MessageTooShort"]
