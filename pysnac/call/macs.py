"""INVITE macs and cookie replies: strangers cost nothing (WireGuard whitepaper 5.4.4).

Every INVITE ends with two 16-byte MACs (keyed BLAKE2b-128):

    mac1 = MAC(key = BLAKE2b("mac1" personalisation, callee's public key), body)
    mac2 = MAC(key = cookie, body || mac1)           or 16 zero bytes without a cookie

mac1 proves the sender knows whom it calls; the callee checks it in microseconds,
before any Diffie-Hellman or signature work, and a datagram that fails it costs nothing
more. Under load the callee also wants mac2: the cookie is a MAC of the sender's source
address under a random secret that changes every COOKIE_SECRET_S, so only a sender that
receives at its address can present it. The cookie travels in a COOKIE reply, sealed
with XChaCha20-Poly1305 under a key derived from the callee's public key, with the
INVITE's mac1 as associated data (so only the sender of that INVITE can use it, and the
61-byte reply is smaller than any INVITE).

Pure: `now` and the random source come in; the endpoint owns the instances.
"""

from __future__ import annotations

import hashlib
import hmac
import os
from collections.abc import Callable

import nacl.bindings as sodium
import nacl.exceptions

from pysnac.call.limits import COOKIE_BYTES, COOKIE_NONCE_BYTES, COOKIE_SECRET_S, MAC_BYTES

MAC1_PERSONAL = b"PySNAC-mac1-v2"
COOKIE_PERSONAL = b"PySNAC-cookie-v2"
ZERO_MAC = bytes(MAC_BYTES)
SECRET_BYTES = 32


def _derive(public_key: bytes, personal: bytes) -> bytes:
    return hashlib.blake2b(public_key, digest_size=32, person=personal).digest()


def _mac(key: bytes, data: bytes) -> bytes:
    return hashlib.blake2b(data, digest_size=MAC_BYTES, key=key).digest()


class InviteMacs:
    """The keys derived from one phone's public key: whoever calls it, and it itself,
    compute the same (derive once per callee, not per packet)."""

    __slots__ = ("cookie_key", "mac1_key")

    def __init__(self, public_key: bytes) -> None:
        self.mac1_key = _derive(public_key, MAC1_PERSONAL)
        self.cookie_key = _derive(public_key, COOKIE_PERSONAL)

    def seal(self, body: bytes, cookie: bytes | None) -> bytes:
        """The whole INVITE datagram: body, mac1, mac2 (zeros when no cookie)."""
        mac1 = _mac(self.mac1_key, body)
        mac2 = ZERO_MAC if cookie is None else _mac(cookie, body + mac1)
        return body + mac1 + mac2

    def mac1_ok(self, body: bytes, mac1: bytes) -> bool:
        return hmac.compare_digest(_mac(self.mac1_key, body), mac1)

    def open_cookie(self, nonce: bytes, sealed: bytes, invite_mac1: bytes) -> bytes | None:
        """The cookie in a COOKIE reply to our INVITE with `invite_mac1`, or None."""
        try:
            return sodium.crypto_aead_xchacha20poly1305_ietf_decrypt(
                sealed, invite_mac1, nonce, self.cookie_key
            )
        except (nacl.exceptions.CryptoError, ValueError, TypeError):
            return None


class CookieJar:
    """The callee's side: make cookies for source addresses, check mac2 against them."""

    def __init__(self, macs: InviteMacs, random_bytes: Callable[[int], bytes] = os.urandom) -> None:
        self._macs = macs
        self._random = random_bytes
        self._secret = b""
        self._secret_until = float("-inf")

    def _cookie(self, source: tuple[str, int], now: float) -> bytes:
        if now >= self._secret_until:
            self._secret = self._random(SECRET_BYTES)
            self._secret_until = now + COOKIE_SECRET_S
        return _mac(self._secret, f"{source[0]}|{source[1]}".encode())

    def mac2_ok(self, body: bytes, mac1: bytes, mac2: bytes, source, now: float) -> bool:
        """True when mac2 proves the sender received our cookie for `source`."""
        if mac2 == ZERO_MAC:
            return False
        return hmac.compare_digest(_mac(self._cookie(source, now), body + mac1), mac2)

    def reply(self, mac1: bytes, source: tuple[str, int], now: float) -> tuple[bytes, bytes]:
        """(nonce, sealed cookie) for a COOKIE reply to the INVITE with `mac1`."""
        nonce = self._random(COOKIE_NONCE_BYTES)
        sealed = sodium.crypto_aead_xchacha20poly1305_ietf_encrypt(
            self._cookie(source, now), mac1, nonce, self._macs.cookie_key
        )
        assert len(sealed) == COOKIE_BYTES + 16
        return nonce, sealed
