"""The call wire format: every datagram a phone sends on its one UDP socket.

A datagram starts with a one-byte packet type. Parsing is exact: each type has a fixed
length or a fixed header plus a bounded tail, and anything else raises `MalformedPacket`
(the endpoint counts and drops it). Parsing here never touches cryptography: signatures
and AEAD tags are checked by the caller of `parse`, before any field is acted on.
Integers are little-endian, as WireGuard's are. The layout is documented, byte by byte,
in docs/architecture.md ("Wire format").

    INVITE    type | version | call_id(8) | sender_index(4) | Noise IK message 1 |
              mac1(16) | mac2(16)                       (macs: `pysnac/call/macs.py`)
    RINGING,  type | call_id(8) | sender_index(4) | receiver_index(4) | Ed25519 signature(64)
    BUSY, REJECT, CANCEL, NO_AUDIO (same layout: "signed signals")
    ACCEPT    type | call_id(8) | sender_index(4) | receiver_index(4) | Noise IK message 2
    WRONG_KEY type | call_id(8) | receiver_index(4)     (unsigned hint: "not my key")
    COOKIE    type | receiver_index(4) | nonce(24) | XChaCha20-Poly1305(cookie 16) + tag(16)
    TRANSPORT type | receiver_index(4) | counter(8) | ChaCha20-Poly1305(content) + tag(16)
"""

from __future__ import annotations

import struct
from dataclasses import dataclass
from enum import IntEnum

from pysnac.call.limits import (
    AEAD_TAG_BYTES,
    CALL_ID_BYTES,
    COOKIE_BYTES,
    COOKIE_NONCE_BYTES,
    COUNTER_BYTES,
    MAC_BYTES,
    MAX_DATAGRAM_BYTES,
    PUBLIC_KEY_BYTES,
    SAS_NONCE_BYTES,
    SESSION_INDEX_BYTES,
    SIGNATURE_BYTES,
)
from pysnac.errors import PysnacError

# Domain separation for signed signals: a signature made here can never be mistaken for a
# signature over a rendezvous record or any other message signed by the same identity.
SIGNAL_CONTEXT = b"pysnac call signal v2\x00"

# Noise IK message sizes (Noise rev. 34 section 7.5): message 1 is e(32), encrypted s
# (32 + 16) and an encrypted payload (at least the 16-byte tag); message 2 is e(32) and an
# encrypted payload.
NOISE_IK_MSG1_MIN_BYTES = 32 + 32 + AEAD_TAG_BYTES + AEAD_TAG_BYTES
NOISE_IK_MSG2_MIN_BYTES = 32 + AEAD_TAG_BYTES


class MalformedPacket(PysnacError, ValueError):
    """A datagram that is not one of ours: wrong type, length or field. Dropped, counted."""


class PacketType(IntEnum):
    INVITE = 0x01
    RINGING = 0x02
    BUSY = 0x03
    REJECT = 0x04
    CANCEL = 0x05
    ACCEPT = 0x06
    WRONG_KEY = 0x07
    COOKIE = 0x08
    NO_AUDIO = 0x09  # the callee has no working sound device: a final refusal, like BUSY
    TRANSPORT = 0x10


class Content(IntEnum):
    """The first byte of a transport packet's plaintext."""

    MEDIA = 0x01  # followed by a MediaSession payload
    KEEPALIVE = 0x02
    BYE = 0x03
    BYE_ACK = 0x04
    CONFIRM = 0x05  # key confirmation: the caller's SAS nonce (opens its commitment)


SIGNED_SIGNALS = frozenset(
    {
        PacketType.RINGING,
        PacketType.BUSY,
        PacketType.REJECT,
        PacketType.CANCEL,
        PacketType.NO_AUDIO,
    }
)

_INVITE_HEADER = struct.Struct("<BB8sI")  # type, version, call_id, sender_index
_SIGNAL_HEADER = struct.Struct("<B8sII")  # type, call_id, sender_index, receiver_index
_WRONG_KEY = struct.Struct("<B8sI")  # type, call_id, receiver_index
_COOKIE = struct.Struct(f"<BI{COOKIE_NONCE_BYTES}s{COOKIE_BYTES + AEAD_TAG_BYTES}s")
TRANSPORT_HEADER = struct.Struct("<BI")  # type, receiver_index
TRANSPORT_HEADER_BYTES = TRANSPORT_HEADER.size
SIGNAL_BYTES = _SIGNAL_HEADER.size + SIGNATURE_BYTES
WRONG_KEY_BYTES = _WRONG_KEY.size
COOKIE_REPLY_BYTES = _COOKIE.size
INVITE_MACS_BYTES = 2 * MAC_BYTES
INVITE_MIN_BYTES = _INVITE_HEADER.size + NOISE_IK_MSG1_MIN_BYTES + INVITE_MACS_BYTES
_INVITE_TYPE = bytes([PacketType.INVITE])
TRANSPORT_MIN_BYTES = TRANSPORT_HEADER_BYTES + COUNTER_BYTES + 1 + AEAD_TAG_BYTES
MAX_INDEX = 2 ** (8 * SESSION_INDEX_BYTES) - 1

assert CALL_ID_BYTES == 8 and PUBLIC_KEY_BYTES == 32  # the struct formats above say so


@dataclass(frozen=True)
class Invite:
    """`body` is everything before mac1 (what mac1 covers; mac2 covers body + mac1)."""

    version: int
    call_id: bytes
    sender_index: int
    noise: bytes
    body: bytes
    mac1: bytes
    mac2: bytes


@dataclass(frozen=True)
class Signal:
    """RINGING, BUSY, REJECT or CANCEL: `signed` is what `signature` covers."""

    type: PacketType
    call_id: bytes
    sender_index: int
    receiver_index: int
    signature: bytes
    signed: bytes


@dataclass(frozen=True)
class Accept:
    call_id: bytes
    sender_index: int
    receiver_index: int
    noise: bytes


@dataclass(frozen=True)
class WrongKey:
    """ "Your invite's mac1 was not for my key": an unsigned hint that never names a key."""

    call_id: bytes
    receiver_index: int


@dataclass(frozen=True)
class CookieReply:
    """ "Prove you receive at your address": the sealed cookie for the INVITE's mac2."""

    receiver_index: int
    nonce: bytes
    sealed_cookie: bytes


@dataclass(frozen=True)
class Transport:
    """Still sealed: `packet` goes whole to PacketOpener.open(packet, TRANSPORT_HEADER_BYTES)."""

    receiver_index: int
    packet: bytes


Packet = Invite | Signal | Accept | WrongKey | CookieReply | Transport


def parse(datagram: bytes) -> Packet:
    """Split a datagram into its fields, checking type and exact length only."""
    if not datagram:
        raise MalformedPacket("empty datagram")
    if len(datagram) > MAX_DATAGRAM_BYTES:
        raise MalformedPacket(f"{len(datagram)} bytes is over {MAX_DATAGRAM_BYTES}")
    try:
        kind = PacketType(datagram[0])
    except ValueError:
        raise MalformedPacket(f"unknown packet type 0x{datagram[0]:02x}") from None
    if kind is PacketType.INVITE:
        return _parse_invite(datagram)
    if kind in SIGNED_SIGNALS:
        return _parse_signal(kind, datagram)
    if kind is PacketType.ACCEPT:
        return _parse_accept(datagram)
    if kind is PacketType.WRONG_KEY:
        return _parse_wrong_key(datagram)
    if kind is PacketType.COOKIE:
        return _parse_cookie(datagram)
    return _parse_transport(datagram)


def invite_mac1_parts(datagram: bytes) -> tuple[bytes, bytes] | None:
    """(body, mac1) of what has an INVITE's type and length, else None: the receiver checks
    mac1 before it builds anything (a stranger's datagram costs one keyed hash)."""
    if datagram[:1] != _INVITE_TYPE or not INVITE_MIN_BYTES <= len(datagram) <= MAX_DATAGRAM_BYTES:
        return None
    body_end = len(datagram) - INVITE_MACS_BYTES
    return datagram[:body_end], datagram[body_end : body_end + MAC_BYTES]


def invite_reply_ids(datagram: bytes) -> tuple[bytes, int]:
    """(call_id, sender_index) of an INVITE-shaped datagram, for the WRONG_KEY hint."""
    _, _, call_id, sender = _INVITE_HEADER.unpack_from(datagram)
    return call_id, sender


def _parse_invite(datagram: bytes) -> Invite:
    if len(datagram) < INVITE_MIN_BYTES:
        raise MalformedPacket(f"INVITE of {len(datagram)} bytes is too short")
    _, version, call_id, sender = _INVITE_HEADER.unpack_from(datagram)
    body_end = len(datagram) - INVITE_MACS_BYTES
    return Invite(
        version,
        call_id,
        sender,
        datagram[_INVITE_HEADER.size : body_end],
        datagram[:body_end],
        datagram[body_end : body_end + MAC_BYTES],
        datagram[body_end + MAC_BYTES :],
    )


def _parse_signal(kind: PacketType, datagram: bytes) -> Signal:
    if len(datagram) != SIGNAL_BYTES:
        raise MalformedPacket(f"{kind.name} is {SIGNAL_BYTES} bytes, not {len(datagram)}")
    _, call_id, sender, receiver = _SIGNAL_HEADER.unpack_from(datagram)
    header = datagram[: _SIGNAL_HEADER.size]
    return Signal(kind, call_id, sender, receiver, datagram[_SIGNAL_HEADER.size :], header)


def _parse_accept(datagram: bytes) -> Accept:
    if len(datagram) < _SIGNAL_HEADER.size + NOISE_IK_MSG2_MIN_BYTES:
        raise MalformedPacket(f"ACCEPT of {len(datagram)} bytes is too short")
    _, call_id, sender, receiver = _SIGNAL_HEADER.unpack_from(datagram)
    return Accept(call_id, sender, receiver, datagram[_SIGNAL_HEADER.size :])


def _parse_wrong_key(datagram: bytes) -> WrongKey:
    if len(datagram) != WRONG_KEY_BYTES:
        raise MalformedPacket(f"WRONG_KEY is {WRONG_KEY_BYTES} bytes, not {len(datagram)}")
    _, call_id, receiver = _WRONG_KEY.unpack(datagram)
    return WrongKey(call_id, receiver)


def _parse_cookie(datagram: bytes) -> CookieReply:
    if len(datagram) != COOKIE_REPLY_BYTES:
        raise MalformedPacket(f"COOKIE is {COOKIE_REPLY_BYTES} bytes, not {len(datagram)}")
    _, receiver, nonce, sealed = _COOKIE.unpack(datagram)
    return CookieReply(receiver, nonce, sealed)


def _parse_transport(datagram: bytes) -> Transport:
    if len(datagram) < TRANSPORT_MIN_BYTES:
        raise MalformedPacket(f"TRANSPORT of {len(datagram)} bytes is too short")
    _, receiver = TRANSPORT_HEADER.unpack_from(datagram)
    return Transport(receiver, datagram)


def encode_invite_body(version: int, call_id: bytes, sender_index: int, noise: bytes) -> bytes:
    """An INVITE without its macs (`macs.seal_invite` appends them)."""
    return _INVITE_HEADER.pack(PacketType.INVITE, version, call_id, sender_index) + noise


def signal_header(
    kind: PacketType, call_id: bytes, sender_index: int, receiver_index: int
) -> bytes:
    """The part of a signed signal the signature covers (after SIGNAL_CONTEXT)."""
    if kind not in SIGNED_SIGNALS:
        raise ValueError(f"{kind.name} is not a signed signal")
    return _SIGNAL_HEADER.pack(kind, call_id, sender_index, receiver_index)


def encode_signal(header: bytes, signature: bytes) -> bytes:
    if len(signature) != SIGNATURE_BYTES:
        raise ValueError("an Ed25519 signature is 64 bytes")
    return header + signature


def encode_accept(call_id: bytes, sender_index: int, receiver_index: int, noise: bytes) -> bytes:
    return _SIGNAL_HEADER.pack(PacketType.ACCEPT, call_id, sender_index, receiver_index) + noise


def encode_wrong_key(call_id: bytes, receiver_index: int) -> bytes:
    return _WRONG_KEY.pack(PacketType.WRONG_KEY, call_id, receiver_index)


def encode_cookie(receiver_index: int, nonce: bytes, sealed_cookie: bytes) -> bytes:
    return _COOKIE.pack(PacketType.COOKIE, receiver_index, nonce, sealed_cookie)


def transport_header(receiver_index: int) -> bytes:
    return TRANSPORT_HEADER.pack(PacketType.TRANSPORT, receiver_index)


def parse_content(plaintext: bytes) -> tuple[Content, bytes]:
    """An authenticated transport plaintext: (content kind, media payload or b"")."""
    if not plaintext:
        raise MalformedPacket("empty transport plaintext")
    try:
        kind = Content(plaintext[0])
    except ValueError:
        raise MalformedPacket(f"unknown content type 0x{plaintext[0]:02x}") from None
    body = plaintext[1:]
    if kind is Content.MEDIA:
        if not body:
            raise MalformedPacket("MEDIA with no payload")
    elif kind is Content.CONFIRM:
        if len(body) != SAS_NONCE_BYTES:
            raise MalformedPacket(f"CONFIRM carries {len(body)} bytes, not {SAS_NONCE_BYTES}")
    elif body:
        raise MalformedPacket(f"{kind.name} carries {len(body)} unexpected bytes")
    return kind, body


def encode_content(kind: Content, body: bytes = b"") -> bytes:
    return bytes([kind]) + body
