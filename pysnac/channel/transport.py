"""Voice and control packets after the handshake: per-packet AEAD with explicit counters.

    packet = header || counter (8 bytes, little-endian) || ChaCha20-Poly1305(plaintext) || tag

One key per direction (from the Noise Split()). The nonce is the Noise layout, 4 zero
bytes then the counter little-endian (Noise rev. 34 section 12.3); the associated data
is header || counter, so the clear header (chosen by the call layer: packet type,
receiver's session index) cannot be altered. The counter is explicit because UDP loses
and reorders: the receiver cannot count for itself, as Noise transport messages do.

The sender's counter starts at 0 and only goes up; at REJECT_AFTER_MESSAGES it refuses
(KeyExhausted) rather than wrap, so a nonce is never reused under one key. The receiver
reads only lengths and the counter before authenticating; the replay window (RFC 6479)
is consulted before decryption and moved only after it succeeds.
"""

from __future__ import annotations

import struct

import nacl.bindings as sodium
import nacl.exceptions

from pysnac.channel.errors import BadPacket, KeyExhausted, ReplayedPacket
from pysnac.channel.limits import COUNTER_BYTES, KEY_BYTES, REJECT_AFTER_MESSAGES, TAG_BYTES
from pysnac.channel.replay import ReplayWindow, Verdict

_COUNTER = struct.Struct("<Q")
_NONCE_PREFIX = bytes(4)
_encrypt = sodium.crypto_aead_chacha20poly1305_ietf_encrypt
_decrypt = sodium.crypto_aead_chacha20poly1305_ietf_decrypt


def _check_key(key: bytes) -> bytes:
    if len(key) != KEY_BYTES:
        raise ValueError(f"a transport key is {KEY_BYTES} bytes, not {len(key)}")
    return bytes(key)


class PacketSealer:
    """Encrypts outgoing packets under one key with a strictly increasing counter."""

    __slots__ = ("_key", "_next", "_reject_after")

    def __init__(self, key: bytes, *, reject_after_messages: int = REJECT_AFTER_MESSAGES) -> None:
        """`reject_after_messages` may only lower the limit (tests use a small one)."""
        if not 0 < reject_after_messages <= REJECT_AFTER_MESSAGES:
            raise ValueError("reject_after_messages must be in 1..REJECT_AFTER_MESSAGES")
        self._key = _check_key(key)
        self._next = 0
        self._reject_after = reject_after_messages

    def __repr__(self) -> str:
        return f"PacketSealer(next_counter={self._next})"

    @property
    def next_counter(self) -> int:
        return self._next

    def seal(self, header: bytes, plaintext: bytes) -> bytes:
        """header || counter || ciphertext+tag; raises KeyExhausted at the limit."""
        counter = self._next
        if counter >= self._reject_after:
            raise KeyExhausted(f"sent {counter} packets under this key; a new handshake is needed")
        self._next = counter + 1  # advance first: even a failing call never reuses it
        counter_bytes = _COUNTER.pack(counter)
        ad = header + counter_bytes
        return ad + _encrypt(plaintext, ad, _NONCE_PREFIX + counter_bytes, self._key)


class PacketOpener:
    """Authenticates and decrypts incoming packets under one key, refusing replays."""

    __slots__ = ("_key", "_reject_after", "window")

    def __init__(self, key: bytes, *, reject_after_messages: int = REJECT_AFTER_MESSAGES) -> None:
        if not 0 < reject_after_messages <= REJECT_AFTER_MESSAGES:
            raise ValueError("reject_after_messages must be in 1..REJECT_AFTER_MESSAGES")
        self._key = _check_key(key)
        self._reject_after = reject_after_messages
        self.window = ReplayWindow()

    def __repr__(self) -> str:
        return f"PacketOpener(greatest={self.window.greatest})"

    def open(self, packet: bytes, header_len: int) -> tuple[bytes, int, bytes]:
        """-> (header, counter, plaintext). Raises BadPacket or ReplayedPacket."""
        packet = bytes(packet)
        if header_len < 0 or len(packet) < header_len + COUNTER_BYTES + TAG_BYTES:
            raise BadPacket(f"packet of {len(packet)} bytes is too short")
        ad_len = header_len + COUNTER_BYTES
        counter_bytes = packet[header_len:ad_len]
        (counter,) = _COUNTER.unpack(counter_bytes)
        if counter >= self._reject_after:
            raise BadPacket(f"counter {counter} beyond the key's limit")
        verdict = self.window.check(counter)
        if verdict is not Verdict.FRESH:
            raise ReplayedPacket(f"counter {counter} {verdict.value}")
        ad = packet[:ad_len]
        try:
            plaintext = _decrypt(packet[ad_len:], ad, _NONCE_PREFIX + counter_bytes, self._key)
        except nacl.exceptions.CryptoError as exc:
            raise BadPacket("packet failed authentication") from exc
        self.window.commit(counter)
        return packet[:header_len], counter, plaintext
