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

Everything the network can do wrong becomes HandshakeFailed (or WrongPeerKey); a
rejected message leaves the handshake as it was, so a forgery cannot abort a call the
real peer is still completing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field

from pysnac.channel.errors import HandshakeFailed, InvalidPublicKey, WrongPeerKey
from pysnac.channel.identity import Identity, static_public_from_signing
from pysnac.channel.limits import (
    CALL_ID_BYTES,
    MAX_CODEC_KEY_BYTES,
    MAX_CODEC_PARAMS,
    MAX_CODEC_VALUE,
    MAX_INVITE_AGE_S,
    MAX_INVITE_FUTURE_S,
    PROLOGUE_LABEL,
    PROTOCOL_VERSION,
)
from pysnac.channel.sas import short_auth_string
from pysnac.limits import NAME_MAX_CHARS, NAME_MAX_UTF8_BYTES
from pysnac.noise.crypto import KeyPair, NoiseError
from pysnac.noise.handshakestate import HandshakeState

SUITE = "25519_ChaChaPoly_BLAKE2b"
PATTERN_IK = "IK"
PATTERN_XX = "XX"
# Which handshake messages carry a CallSetup (each side sends exactly one, encrypted).
SETUP_MESSAGES = {PATTERN_IK: (0, 1), PATTERN_XX: (1, 2)}
SIGNING_PUBLIC_BYTES = 32
_HEAD = struct.Struct("<B32sQ")  # version, signing_public, timestamp_ms
_VALUE = struct.Struct("<I")

__all__ = [
    "PROTOCOL_VERSION",
    "CallHandshake",
    "CallSetup",
    "InviteReplayGuard",
    "SessionKeys",
    "prologue",
]


@dataclass(frozen=True)
class CallSetup:
    """The handshake payload: who is calling (or answering) and with what codec."""

    name: str
    signing_public: bytes
    timestamp_ms: int
    codec: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if not 0 < len(self.name) <= NAME_MAX_CHARS or not self.name.isprintable():
            raise ValueError(f"name must be 1..{NAME_MAX_CHARS} printable characters")
        if len(self.signing_public) != SIGNING_PUBLIC_BYTES:
            raise ValueError(f"signing_public must be {SIGNING_PUBLIC_BYTES} bytes")
        if not 0 <= self.timestamp_ms < 2**64:
            raise ValueError("timestamp_ms out of range")
        if len(self.codec) > MAX_CODEC_PARAMS:
            raise ValueError(f"at most {MAX_CODEC_PARAMS} codec parameters")
        for key, value in self.codec.items():
            if not (key.isascii() and key.isidentifier() and len(key) <= MAX_CODEC_KEY_BYTES):
                raise ValueError(f"codec key {key!r}: an identifier of <= {MAX_CODEC_KEY_BYTES}")
            if isinstance(value, bool) or not 0 <= value <= MAX_CODEC_VALUE:
                raise ValueError(f"codec value {key}={value!r} out of range")

    def encode(self) -> bytes:
        """version u8 | signing_public 32 | timestamp_ms u64 LE | name_len u8 | name UTF-8 |
        count u8 | count x (key_len u8 | key ASCII | value u32 LE)."""
        name = self.name.encode("utf-8")
        out = bytearray(_HEAD.pack(PROTOCOL_VERSION, self.signing_public, self.timestamp_ms))
        out += bytes([len(name)]) + name + bytes([len(self.codec)])
        for key, value in sorted(self.codec.items()):
            out += bytes([len(key)]) + key.encode("ascii") + _VALUE.pack(value)
        return bytes(out)

    @classmethod
    def decode(cls, data: bytes) -> CallSetup:
        """Exact parse; ValueError on anything malformed (wrong version, trailing bytes)."""
        reader = _Reader(data)
        version, signing_public, timestamp_ms = _HEAD.unpack(reader.take(_HEAD.size))
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
        return cls(name, signing_public, timestamp_ms, codec)


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

    @classmethod
    def initiator(
        cls,
        identity: Identity,
        call_id: bytes,
        peer_signing_public: bytes | None,
        *,
        pattern: str | None = None,
        ephemeral: KeyPair | None = None,
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
        )

    @classmethod
    def responder(
        cls, identity: Identity, call_id: bytes, pattern: str, *, ephemeral: KeyPair | None = None
    ) -> CallHandshake:
        return cls(
            identity, call_id, pattern, initiator=False, pinned_peer=None, ephemeral=ephemeral
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
    def sas(self) -> str:
        """The 4-character short authentication string (when complete)."""
        return short_auth_string(self.session_keys().handshake_hash)

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
            payload = self._own_setup.encode()
        try:
            message = self._state.write_message(payload)
        except NoiseError as exc:
            raise HandshakeFailed(f"cannot write handshake message: {exc}") from exc
        self._index += 1
        return message

    def read_message(self, message: bytes) -> CallSetup | None:
        """Process the peer's message; its CallSetup when this message carries one."""
        if self._failed:
            raise HandshakeFailed("handshake already failed")
        try:
            payload = self._state.read_message(bytes(message))
        except NoiseError as exc:
            raise HandshakeFailed(f"handshake message rejected: {exc}") from exc
        carries = self._carries_setup()
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
        return setup


class InviteReplayGuard:
    """Refuses a replayed or stale first message (an IK invite can be replayed to make a
    phone ring; nobody but the caller can finish it). Like WireGuard's handshake
    timestamp: per caller key, the timestamp must be fresh and above the last accepted."""

    def __init__(self) -> None:
        self._latest_ms: dict[bytes, int] = {}

    def check(self, setup: CallSetup, now: float) -> None:
        """Raises HandshakeFailed for a stale/future/replayed invite; else records it."""
        now_ms = int(now * 1000)
        if setup.timestamp_ms < now_ms - MAX_INVITE_AGE_S * 1000:
            raise HandshakeFailed("invite too old (replayed, or the caller's clock is wrong)")
        if setup.timestamp_ms > now_ms + MAX_INVITE_FUTURE_S * 1000:
            raise HandshakeFailed("invite from the future (the caller's clock is wrong)")
        if setup.timestamp_ms <= self._latest_ms.get(setup.signing_public, -1):
            raise HandshakeFailed("invite replayed")
        self._latest_ms[setup.signing_public] = setup.timestamp_ms
        self._forget_before(now_ms - int(MAX_INVITE_AGE_S * 1000))

    def _forget_before(self, cutoff_ms: int) -> None:
        """Entries older than the age limit are covered by the age check; drop them."""
        for key in [k for k, t in self._latest_ms.items() if t < cutoff_ms]:
            del self._latest_ms[key]
