"""Short authentication strings and fingerprints, in an alphabet nobody misreads.

The SAS both callers read aloud is bound by a hash commitment (ZRTP's trick, RFC 6189
section 4.4.1.1), so a party in the middle cannot grind it. The side whose CallSetup
travels first (the caller in IK, the callee in XX) picks a random 32-byte nonce and sends
only `sas_commitment(nonce)` in that setup; the other side answers with its own nonce in
the clear (inside its encrypted setup); the first side reveals its nonce in its first
transport packet, and the other side checks it against the commitment before it shows
anything. Then

    SAS = first SAS_CHARS base-31 digits of BLAKE2b(handshake hash || n_commit || n_other)

A man in the middle runs two handshakes. On each leg one honest side's nonce is either
hidden behind a commitment when she must fix her own values, or chosen after hers are
bound: each SAS is a fresh random value she cannot steer, and the two match with
probability 31^-5 (about 2^-24.8) per call, however much she computes.

The alphabet drops 0/O, 1/I/L: 8 digits and 23 letters, 31 symbols. The digest is read
as one big integer and written in base 31; with 256 bits behind 5-12 symbols the bias is
far below 2^-200. The same alphabet writes the key fingerprint (`identity.fingerprint`).
"""

from __future__ import annotations

import hashlib
import hmac

from pysnac.channel.limits import SAS_CHARS, SAS_NONCE_BYTES

ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
DIGEST_BYTES = 32
SAS_PERSONAL = b"PySNAC-SAS-v2".ljust(16, b"\x00")  # BLAKE2b personalisation: 16 bytes
COMMIT_PERSONAL = b"PySNAC-SAScom-v2".ljust(16, b"\x00")


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
    return hashlib.blake2b(data, digest_size=DIGEST_BYTES, person=personal).digest()


def sas_commitment(nonce: bytes) -> bytes:
    """What the first speaker sends instead of its nonce (binding: BLAKE2b-256)."""
    if len(nonce) != SAS_NONCE_BYTES:
        raise ValueError(f"a SAS nonce is {SAS_NONCE_BYTES} bytes")
    return keyed_digest(nonce, COMMIT_PERSONAL)


def opens_commitment(nonce: bytes, commitment: bytes) -> bool:
    """True when `nonce` is the one behind `commitment` (constant-time compare)."""
    return len(nonce) == SAS_NONCE_BYTES and hmac.compare_digest(sas_commitment(nonce), commitment)


def short_auth_string(handshake_hash: bytes, committed_nonce: bytes, other_nonce: bytes) -> str:
    """SAS_CHARS characters from the handshake hash (Noise rev. 34 section 11.2, channel
    binding) and both SAS nonces, the committed one first."""
    if not handshake_hash:
        raise ValueError("no handshake hash")
    if len(committed_nonce) != SAS_NONCE_BYTES or len(other_nonce) != SAS_NONCE_BYTES:
        raise ValueError(f"SAS nonces are {SAS_NONCE_BYTES} bytes")
    digest = keyed_digest(handshake_hash + committed_nonce + other_nonce, SAS_PERSONAL)
    return encode_digest(digest, SAS_CHARS)
