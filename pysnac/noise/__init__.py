"""The Noise Protocol Framework, revision 34, for the suite 25519_ChaChaPoly_BLAKE2b.

A pure library (bytes in, bytes out; no sockets, threads or clocks) built on PyNaCl
primitives only. The layering follows the spec's own objects, one module each:
`crypto` (section 4: DH, AEAD, hash, HMAC, HKDF), `cipherstate` (5.1), `symmetricstate`
(5.2), `handshakestate` (5.3), `patterns` (7 and 9: the token tables) and `vectors` (a
runner for the common test-vector JSON format). `pysnac.channel` builds the call
handshake and the voice-packet transport on top of it.
"""

from __future__ import annotations

from pysnac.noise.cipherstate import CipherState
from pysnac.noise.crypto import KeyPair, NoiseError, generate_keypair
from pysnac.noise.handshakestate import HandshakeState
from pysnac.noise.patterns import HandshakePattern, parse_protocol_name

__all__ = [
    "CipherState",
    "HandshakePattern",
    "HandshakeState",
    "KeyPair",
    "NoiseError",
    "generate_keypair",
    "parse_protocol_name",
]
