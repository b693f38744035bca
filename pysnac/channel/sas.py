"""Short authentication strings and fingerprints, in an alphabet nobody misreads.

`short_auth_string(h)` turns the Noise handshake hash into 4 characters both callers
see on their LCD: an honest call gives the same 4 on both ends; a man in the middle
who ran two handshakes gives each end a different hash, so the strings differ (with
probability 1 - 31^-4, about 1 in a million of a match). Reading them to each other
is the check. The same alphabet writes the key fingerprint (`identity.fingerprint`).

The alphabet drops 0/O, 1/I/L: 8 digits and 23 letters, 31 symbols. The digest is
read as one big integer and written in base 31; with 256 bits behind 4-12 symbols the
bias is far below 2^-200.
"""

from __future__ import annotations

import nacl.bindings as sodium

from pysnac.channel.limits import SAS_CHARS

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DIGEST_BYTES = 32
SAS_PERSONAL = b"PySNAC-SAS-v1".ljust(16, b"\x00")  # BLAKE2b personalisation: 16 bytes


def encode_digest(digest: bytes, chars: int) -> str:
    """The first `chars` base-31 digits of a digest, in ALPHABET."""
    value = int.from_bytes(digest, "big")
    out = []
    for _ in range(chars):
        value, digit = divmod(value, len(ALPHABET))
        out.append(ALPHABET[digit])
    return "".join(out)


def keyed_digest(data: bytes, personal: bytes) -> bytes:
    """BLAKE2b-256 with a personalisation string, so SAS and fingerprints never coincide."""
    return sodium.crypto_generichash_blake2b_salt_personal(
        data, digest_size=DIGEST_BYTES, person=personal
    )


def short_auth_string(handshake_hash: bytes) -> str:
    """4 characters from the handshake hash (Noise rev. 34 section 11.2, channel binding)."""
    if not handshake_hash:
        raise ValueError("no handshake hash")
    return encode_digest(keyed_digest(handshake_hash, SAS_PERSONAL), SAS_CHARS)
