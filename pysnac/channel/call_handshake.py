"""The call handshake: Noise IK when the callee's key is pinned, XX for a first contact.

    IK  (caller knows the callee's key; one round trip)
        <- s
        ...
        -> e, es, s, ss     payload: caller's CallSetup, encrypted
        <- e, ee, se        payload: callee's CallSetup, encrypted
    XX  (nobody knows anybody; the keys are then shown as fingerprints and the SAS)
        -> e                payload: empty (nothing is encrypted yet)
        <- e, ee, s, es     payload: callee's CallSetup, encrypted
        -> s, se            payload: caller's CallSetup, encrypted

The protocol is Noise_{IK,XX}_25519_ChaChaPoly_BLAKE2b (rev. 34). The prologue binds
PROLOGUE_LABEL, PROTOCOL_VERSION and the caller's 8-byte call id, so a message from
another call or another protocol version fails to authenticate. Each side sends one
CallSetup, always encrypted; it carries the sender's Ed25519 identity, which must map
(libsodium's conversion) to the static key the handshake authenticated, and, for a
pinned peer, equal the pinned key (else WrongPeerKey). With IK the callee learns who is
calling, authenticated, from the first message, before it rings.

Each setup-carrying message starts with a 32-byte SAS contribution (`sas.py`): the side
whose setup travels first (the caller in IK, the callee in XX) sends the commitment to
its random nonce, the other side its nonce; the first side reveals its nonce after the
handshake (`sas_reveal`, carried by the call layer's key confirmation) and the other side
checks it (`open_commitment`) before `sas` exists. So nobody can grind the SAS.

Everything the network can do wrong becomes HandshakeFailed (or WrongPeerKey); a
rejected message leaves the handshake as it was, so a forgery cannot abort a call the
real peer is still completing.
"""

from __future__ import annotations

import copy
import os
import struct
from dataclasses import dataclass, field

from pysnac.channel.errors import HandshakeFailed, InvalidPublicKey, WrongPeerKey
from pysnac.channel.identity import Identity, static_public_from_signing
from pysnac.channel.limits import (
    CALL_ID_BYTES,
    MAX_CODEC_KEY_BYTES,
    MAX_CODEC_PARAMS,
    MAX_CODEC_VALUE,
    MAX_STAMP,
    PROLOGUE_LABEL,
    PROTOCOL_VERSION,
    SAS_NONCE_BYTES,
)
from pysnac.channel.sas import opens_commitment, sas_commitment, short_auth_string
from pysnac.limits import NAME_MAX_CHARS, NAME_MAX_UTF8_BYTES
from pysnac.noise.crypto import KeyPair, NoiseError
from pysnac.noise.handshakestate import HandshakeState

SUITE = "25519_ChaChaPoly_BLAKE2b"
PATTERN_IK = "IK"
PATTERN_XX = "XX"
# Which handshake messages carry a CallSetup (each side sends exactly one, encrypted).
SETUP_MESSAGES = {PATTERN_IK: (0, 1), PATTERN_XX: (1, 2)}
SIGNING_PUBLIC_BYTES = 32
_HEAD = struct.Struct("<B32sIQ")  # version, signing_public, session_index, stamp
_VALUE = struct.Struct("<I")
MAX_SESSION_INDEX = 2**32 - 1

__all__ = [
    "PROTOCOL_VERSION",
    "CallHandshake",
    "CallSetup",
    "SessionKeys",
    "prologue",
]


@dataclass(frozen=True)
class CallSetup:
    """The handshake payload: who is calling (or answering) and with what codec.

    `stamp` is the sender's invite stamp (only ever grows per sender; `InviteStamps`),
    `session_index` the sender's session index, so a changed index in the clear header
    fails like any other tampering."""

    name: str
    signing_public: bytes
    stamp: int
    codec: dict[str, int] = field(default_factory=dict)
    session_index: int = 0

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= NAME_MAX_CHARS or not self.name.isprintable():
            raise ValueError(f"name must be 1..{NAME_MAX_CHARS} printable characters")
        if len(self.signing_public) != SIGNING_PUBLIC_BYTES:
            raise ValueError(f"signing_public must be {SIGNING_PUBLIC_BYTES} bytes")
        if not 0 <= self.stamp <= MAX_STAMP:
            raise ValueError("stamp out of range")
        if not 0 <= self.session_index <= MAX_SESSION_INDEX:
            raise ValueError("session_index out of range")
        if len(self.codec) > MAX_CODEC_PARAMS:
            raise ValueError(f"at most {MAX_CODEC_PARAMS} codec parameters")
        for key, value in self.codec.items():
            if not (key.isascii() and key.isidentifier() and len(key) <= MAX_CODEC_KEY_BYTES):
                raise ValueError(f"codec key {key!r}: an identifier of <= {MAX_CODEC_KEY_BYTES}")
            if isinstance(value, bool) or not 0 <= value <= MAX_CODEC_VALUE:
                raise ValueError(f"codec value {key}={value!r} out of range")

    def encode(self) -> bytes:
        """version u8 | signing_public 32 | session_index u32 LE | stamp u64 LE | name_len u8 |
        name UTF-8 | count u8 | count x (key_len u8 | key ASCII | value u32 LE)."""
        name = self.name.encode("utf-8")
        head = (PROTOCOL_VERSION, self.signing_public, self.session_index, self.stamp)
        out = bytearray(_HEAD.pack(*head))
        out += bytes([len(name)]) + name + bytes([len(self.codec)])
        for key, value in sorted(self.codec.items()):
            out += bytes([len(key)]) + key.encode("ascii") + _VALUE.pack(value)
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> CallSetup:
        """Exact parse; ValueError on anything malformed (wrong version, trailing bytes)."""
        reader = _Reader(data)
        version, signing_public, index, stamp = _HEAD.unpack(reader.take(_HEAD.size))
        if version != PROTOCOL_VERSION:
            raise ValueError(f"call setup version {version}, expected {PROTOCOL_VERSION}")
        name_bytes = reader.take(reader.byte())
        if len(name_bytes) > NAME_MAX_UTF8_BYTES:
            raise ValueError("name too long")
        name = name_bytes.decode("utf-8")
        codec = {}
        for _ in range(reader.byte()):
            key = reader.take(reader.byte()).decode("ascii")
            if key in codec:
                raise ValueError(f"codec key {key!r} repeated")
            (codec[key],) = _VALUE.unpack(reader.take(_VALUE.size))
        reader.finish()
        return cls(name, signing_public, stamp, codec, index)


class _Reader:
    def __init__(self, data: bytes) -> None:
        self._data, self._offset = data, 0

    def take(self, size: int) -> bytes:
        if self._offset + size > len(self._data):
            raise ValueError("call setup truncated")
        chunk = self._data[self._offset : self._offset + size]
        self._offset += size
        return chunk

    def byte(self) -> int:
        return self.take(1)[0]

    def finish(self) -> None:
        if self._offset != len(self._data):
            raise ValueError("trailing bytes after call setup")


@dataclass(frozen=True)
class SessionKeys:
    """The transport keys for our direction of send and receive, and the transcript hash."""

    send_key: bytes = field(repr=False)
    recv_key: bytes = field(repr=False)
    handshake_hash: bytes


def prologue(call_id: bytes) -> bytes:
    """Noise prologue (section 6): label, protocol version and call id, both sides alike."""
    if len(call_id) != CALL_ID_BYTES:
        raise ValueError(f"call_id must be {CALL_ID_BYTES} bytes, not {len(call_id)}")
    return PROLOGUE_LABEL + bytes([PROTOCOL_VERSION]) + call_id


class CallHandshake:
    """One side of one call's handshake. Create with `initiator` or `responder`."""

    def __init__(
        self,
        identity: Identity,
        call_id: bytes,
        pattern: str,
        *,
        initiator: bool,
        pinned_peer: bytes | None,
        ephemeral: KeyPair | None,
        sas_nonce: bytes | None = None,
    ) -> None:
        if pattern not in SETUP_MESSAGES:
            raise ValueError(f"pattern must be one of {sorted(SETUP_MESSAGES)}, not {pattern!r}")
        if pattern == PATTERN_IK and initiator and pinned_peer is None:
            raise ValueError("IK needs the callee's pinned key")
        self.pattern = pattern
        self._identity = identity
        self._pinned = pinned_peer
        pinned_static = None if pinned_peer is None else static_public_from_signing(pinned_peer)
        self._pinned_static = pinned_static
        self._state = HandshakeState(
            f"Noise_{pattern}_{SUITE}",
            initiator=initiator,
            prologue=prologue(call_id),
            s=identity.static_keypair,
            rs=pinned_static if pattern == PATTERN_IK and initiator else None,
            ephemeral=ephemeral,
        )
        self._index = 0
        self._own_setup: CallSetup | None = None
        self._peer_setup: CallSetup | None = None
        self._failed = False
        # The SAS commitment: who speaks first commits; see the module docstring.
        first_setup_by_initiator = SETUP_MESSAGES[pattern][0] % 2 == 0
        self.commits = first_setup_by_initiator == initiator
        self._own_nonce = sas_nonce if sas_nonce is not None else os.urandom(SAS_NONCE_BYTES)
        if len(self._own_nonce) != SAS_NONCE_BYTES:
            raise ValueError(f"sas_nonce must be {SAS_NONCE_BYTES} bytes")
        self._peer_sas_value: bytes | None = None  # their nonce, or their commitment
        self._peer_nonce: bytes | None = None  # known once read (or the commitment opened)

    @classmethod
    def initiator(
        cls,
        identity: Identity,
        call_id: bytes,
        peer_signing_public: bytes | None,
        *,
        pattern: str | None = None,
        ephemeral: KeyPair | None = None,
        sas_nonce: bytes | None = None,
    ) -> CallHandshake:
        """IK when the peer's key is pinned, else XX. `pattern="XX"` with a pinned key runs
        XX and still insists on that key (WrongPeerKey): the fallback when IK gets no answer."""
        chosen = pattern or (PATTERN_XX if peer_signing_public is None else PATTERN_IK)
        return cls(
            identity,
            call_id,
            chosen,
            initiator=True,
            pinned_peer=peer_signing_public,
            ephemeral=ephemeral,
            sas_nonce=sas_nonce,
        )

    @classmethod
    def responder(
        cls,
        identity: Identity,
        call_id: bytes,
        pattern: str,
        *,
        ephemeral: KeyPair | None = None,
        sas_nonce: bytes | None = None,
    ) -> CallHandshake:
        return cls(
            identity,
            call_id,
            pattern,
            initiator=False,
            pinned_peer=None,
            ephemeral=ephemeral,
            sas_nonce=sas_nonce,
        )

    # --- progress ----------------------------------------------------------------

    @property
    def complete(self) -> bool:
        return self._state.complete and not self._failed

    @property
    def is_my_turn_to_write(self) -> bool:
        return not self._failed and self._state.is_my_turn_to_write

    @property
    def peer_signing_public(self) -> bytes | None:
        """The peer's Ed25519 key, once a handshake message has authenticated it."""
        return None if self._peer_setup is None else self._peer_setup.signing_public

    @property
    def peer_setup(self) -> CallSetup | None:
        return self._peer_setup

    def session_keys(self) -> SessionKeys:
        if not self.complete:
            raise HandshakeFailed("handshake not complete")
        initiator_key, responder_key = self._state.split_keys()
        if self._state.initiator:
            return SessionKeys(initiator_key, responder_key, self._state.handshake_hash)
        return SessionKeys(responder_key, initiator_key, self._state.handshake_hash)

    @property
    def sas_reveal(self) -> bytes:
        """The committing side's nonce, to send once the handshake is complete (the call
        layer puts it in its key confirmation). Never before: that is the whole point."""
        if not self.commits:
            raise ValueError("only the committing side reveals a nonce")
        if not self.complete:
            raise HandshakeFailed("the SAS nonce is revealed only after the handshake")
        return self._own_nonce

    def open_commitment(self, nonce: bytes) -> None:
        """The other side: check the revealed nonce against the peer's commitment."""
        if self.commits or self._peer_sas_value is None or not self.complete:
            raise HandshakeFailed("no commitment to open")
        if not opens_commitment(nonce, self._peer_sas_value):
            raise HandshakeFailed("the revealed SAS nonce does not open the commitment")
        self._peer_nonce = nonce

    @property
    def sas_ready(self) -> bool:
        return self.complete and self._peer_nonce is not None

    @property
    def sas(self) -> str:
        """The short authentication string: for the committing side once complete, for
        the other side once the commitment is opened."""
        keys = self.session_keys()
        if self._peer_nonce is None:
            raise HandshakeFailed("the SAS commitment is not open yet")
        if self.commits:
            return short_auth_string(keys.handshake_hash, self._own_nonce, self._peer_nonce)
        return short_auth_string(keys.handshake_hash, self._peer_nonce, self._own_nonce)

    def _carries_setup(self) -> bool:
        return self._index in SETUP_MESSAGES[self.pattern]

    # --- messages ----------------------------------------------------------------

    def write_message(self, setup: CallSetup | None) -> bytes:
        """Our next message. `setup` is sent, encrypted, in the first of our messages that
        can carry it (IK: the first; XX: the second or third); passing it earlier is fine."""
        if self._failed:
            raise HandshakeFailed("handshake already failed")
        if setup is not None:
            if setup.signing_public != self._identity.signing_public:
                raise ValueError("CallSetup.signing_public must be our own identity key")
            self._own_setup = setup
        payload = b""
        if self._carries_setup():
            if self._own_setup is None:
                raise ValueError("this handshake message must carry our CallSetup")
            sas_value = sas_commitment(self._own_nonce) if self.commits else self._own_nonce
            payload = sas_value + self._own_setup.encode()
        try:
            message = self._state.write_message(payload)
        except NoiseError as exc:
            raise HandshakeFailed(f"cannot write handshake message: {exc}") from exc
        self._index += 1
        return message

    def read_message(self, message: bytes, *, sender_index: int | None = None) -> CallSetup | None:
        """Process the peer's message; its CallSetup when this message carries one.

        `sender_index` is the session index the outer header claims; the setup must carry
        the same, else HandshakeFailed and the handshake is left as it was (a changed index
        is tampering, and the real message can still complete the handshake)."""
        if self._failed:
            raise HandshakeFailed("handshake already failed")
        saved = copy.deepcopy(self._state) if sender_index is not None else None
        try:
            payload = self._state.read_message(bytes(message))
        except NoiseError as exc:
            raise HandshakeFailed(f"handshake message rejected: {exc}") from exc
        carries = self._carries_setup()
        if carries and saved is not None and _claimed_index(payload) != sender_index:
            self._state = saved
            raise HandshakeFailed("session index in the header differs from the setup's")
        self._index += 1
        try:
            return self._accept_payload(payload) if carries else self._expect_empty(payload)
        except HandshakeFailed:
            self._failed = True  # an authenticated peer sent nonsense: this call is over
            raise

    @staticmethod
    def _expect_empty(payload: bytes) -> None:
        if payload:
            raise HandshakeFailed("unexpected payload in handshake message")
        return None

    def _accept_payload(self, payload: bytes) -> CallSetup:
        sas_value, payload = payload[:SAS_NONCE_BYTES], payload[SAS_NONCE_BYTES:]
        if len(sas_value) != SAS_NONCE_BYTES:
            raise HandshakeFailed("handshake payload too short for the SAS contribution")
        try:
            setup = CallSetup.decode(payload)
        except (ValueError, UnicodeDecodeError) as exc:
            raise HandshakeFailed(f"malformed call setup: {exc}") from exc
        try:
            claimed_static = static_public_from_signing(setup.signing_public)
        except InvalidPublicKey as exc:
            raise HandshakeFailed("call setup carries an invalid identity key") from exc
        if claimed_static != self._state.remote_static:
            raise HandshakeFailed("identity in call setup does not match the handshake key")
        if self._pinned is not None and setup.signing_public != self._pinned:
            raise WrongPeerKey("the peer's key is not the one pinned for this contact")
        self._peer_setup = setup
        self._peer_sas_value = sas_value
        if self.commits:
            self._peer_nonce = sas_value  # they answered our commitment with their nonce
        return setup


def _claimed_index(payload: bytes) -> int | None:
    """The session index inside a decrypted setup payload, without parsing the rest."""
    start = SAS_NONCE_BYTES + 1 + SIGNING_PUBLIC_BYTES
    if len(payload) < start + 4:
        return None
    return int.from_bytes(payload[start : start + 4], "little")
