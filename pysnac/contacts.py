"""A contact: a name, a pinned Ed25519 public key and, optionally, where to reach it.

The key is what we trust (the Noise handshake proves the peer holds it); the address is
only a hint from the config or the rendezvous, and a wrong one can at worst fail a call.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from pysnac.limits import PUBLIC_KEY_BYTES


class BadPublicKey(ValueError):
    """Text that is not a 32-byte public key in base64."""


def encode_public_key(key: bytes) -> str:
    """The text form of a public key (standard base64, as WireGuard prints its keys)."""
    if len(key) != PUBLIC_KEY_BYTES:
        raise BadPublicKey(f"a public key is {PUBLIC_KEY_BYTES} bytes, not {len(key)}")
    return base64.b64encode(key).decode("ascii")


def decode_public_key(text: str) -> bytes:
    """Parse the text form; raises BadPublicKey with a reason a user can act on."""
    try:
        key = base64.b64decode(text.strip(), validate=True)
    except (binascii.Error, ValueError) as exc:
        raise BadPublicKey("not valid base64") from exc
    if len(key) != PUBLIC_KEY_BYTES:
        raise BadPublicKey(f"decodes to {len(key)} bytes, a public key is {PUBLIC_KEY_BYTES}")
    return key


@dataclass(frozen=True)
class Contact:
    """One phonebook entry. `public_key` is the peer's Ed25519 identity key (32 bytes)."""

    name: str
    public_key: bytes
    address: tuple[str, int] | None = None  # (host, udp_port) when known statically
