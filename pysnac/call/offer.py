"""The call offer: how a caller tells a phone behind a NAT to start hole punching with it.

A phone behind a home router cannot be reached until it has sent something towards the
caller. So before the INVITE, the caller leaves a short message in the directory (its own
rendezvous node, which its contacts already watch): "I am calling you; here are my ICE
credentials and candidates". The callee answers the same way, and both start
connectivity checks at once (RFC 8445 section 2.2). The directory only carries these
bytes: it cannot read, forge, redirect or replay them.

Pure: no clock, no I/O. Layout of the plaintext (big-endian):

    magic "PSO1" | kind u8 (1 offer, 2 answer) | sender key 32 | recipient key 32
    | call token 16 | timestamp_ms u64 | params_len u16 | params (JSON, UTF-8) | signature 64

The signature is Ed25519 by the sender's identity over SIGNING_CONTEXT + every byte before
it; the whole is then sealed (libsodium sealed box: X25519 + XSalsa20-Poly1305) to the
recipient's static key, the X25519 form of its pinned Ed25519 key. So only the recipient
can read it, and only a holder of the sender's key can have written it; the recipient's
key inside the signed part stops a contact from re-sealing an offer it got to a third
phone. The answer echoes the offer's random call token, which is what ties it to the
offer (no clock needed); an offer itself must be fresh (OFFER_FRESH_MS either way) and its
token is remembered so a replayed offer starts nothing.
"""

from __future__ import annotations

import base64
import binascii
import json
import struct
from dataclasses import dataclass
from typing import Any

from nacl.exceptions import CryptoError
from nacl.public import PrivateKey, PublicKey, SealedBox

from pysnac.channel.errors import BadSignature, InvalidPublicKey
from pysnac.channel.identity import Identity, static_public_from_signing, verify_signature

MAGIC = b"PSO1"
SIGNING_CONTEXT = b"PySNAC call offer v1\x00"
KIND_OFFER = 1
KIND_ANSWER = 2
TOKEN_BYTES = 16
KEY_BYTES = 32
SIGNATURE_BYTES = 64
MAX_PARAMS_BYTES = 2800  # two ICE sessions; sealed and as text it stays under MAX_TEXT_CHARS
MAX_CANDIDATES = 12  # per ICE session
MAX_CANDIDATE_CHARS = 200  # one SDP candidate line (RFC 8839 section 5.1)
MAX_CREDENTIAL_CHARS = 256  # ice-ufrag / ice-pwd (RFC 8839 section 5.4)
OFFER_FRESH_MS = 30_000  # an offer dated further from our clock is refused
MAX_TEXT_CHARS = 4096  # the base64url text form (the directories' limit)
_HEADER = struct.Struct(">4sB32s32s16sQH")


class OfferError(ValueError):
    """An offer that does not open, verify or parse; `reason` names its drop counter."""

    reason = "malformed"


class OfferNotForUs(OfferError):
    reason = "not_for_us"


class BadOfferSignature(OfferError):
    reason = "bad_signature"


class StaleOffer(OfferError):
    reason = "stale"


@dataclass(frozen=True)
class IceParams:
    """One ICE session's credentials and candidates (SDP `candidate` attribute values)."""

    ufrag: str
    pwd: str
    candidates: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        return {"ufrag": self.ufrag, "pwd": self.pwd, "candidates": list(self.candidates)}

    @classmethod
    def from_json(cls, data: Any) -> IceParams:
        if not isinstance(data, dict) or set(data) != {"ufrag", "pwd", "candidates"}:
            raise OfferError("ICE parameters are not an object of ufrag, pwd, candidates")
        ufrag, pwd, candidates = data["ufrag"], data["pwd"], data["candidates"]
        for text in (ufrag, pwd):
            if not isinstance(text, str) or not 0 < len(text) <= MAX_CREDENTIAL_CHARS:
                raise OfferError("bad ICE credential")
        if not isinstance(candidates, list) or len(candidates) > MAX_CANDIDATES:
            raise OfferError("bad candidate list")
        for line in candidates:
            if not isinstance(line, str) or not 0 < len(line) <= MAX_CANDIDATE_CHARS:
                raise OfferError("bad candidate")
        return cls(ufrag, pwd, tuple(candidates))


@dataclass(frozen=True)
class CallOffer:
    """An opened offer or answer. `direct` is the session of host and server-reflexive
    candidates, `relay` (optional) the relay-only session tried after a grace period."""

    kind: int
    sender: bytes
    recipient: bytes
    token: bytes
    timestamp_ms: int
    direct: IceParams
    relay: IceParams | None
    restart: bool = False  # replaces the ICE session of a call in progress (an address moved)


def to_text(sealed: bytes) -> str:
    """The form the directory stores: unpadded base64url."""
    return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")


def from_text(text: str) -> bytes:
    if len(text) > MAX_TEXT_CHARS:
        raise OfferError("offer text too long")
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)
    except (binascii.Error, ValueError):
        raise OfferError("offer text is not base64url") from None


def seal_offer(
    identity: Identity,
    recipient: bytes,
    kind: int,
    token: bytes,
    now_ms: int,
    direct: IceParams,
    relay: IceParams | None,
    restart: bool = False,
) -> bytes:
    """Sign with our identity, seal to `recipient` (an Ed25519 public key)."""
    if kind not in (KIND_OFFER, KIND_ANSWER) or len(token) != TOKEN_BYTES:
        raise ValueError("bad offer kind or token")
    body: dict[str, Any] = {"direct": direct.to_json()}
    if relay is not None:
        body["relay"] = relay.to_json()
    if restart:
        body["restart"] = True
    params = json.dumps(body, separators=(",", ":")).encode("utf-8")
    if len(params) > MAX_PARAMS_BYTES:
        raise ValueError(f"offer parameters are {len(params)} bytes, over {MAX_PARAMS_BYTES}")
    head = _HEADER.pack(MAGIC, kind, identity.signing_public, recipient, token, now_ms, len(params))
    signed = head + params
    plaintext = signed + identity.sign(SIGNING_CONTEXT + signed)
    return SealedBox(PublicKey(static_public_from_signing(recipient))).encrypt(plaintext)


def open_offer(identity: Identity, sealed: bytes, now_ms: int) -> CallOffer:
    """Open a sealed offer addressed to `identity`; authenticate before parsing the
    parameters. An offer must be fresh; an answer is tied to our token instead."""
    if len(sealed) > _HEADER.size + MAX_PARAMS_BYTES + SIGNATURE_BYTES + 48:
        raise OfferError("offer too long")
    try:
        plaintext = SealedBox(PrivateKey(identity.static_private)).decrypt(sealed)
    except (CryptoError, ValueError, TypeError):
        raise OfferNotForUs("does not open with our key") from None
    if len(plaintext) < _HEADER.size + SIGNATURE_BYTES:
        raise OfferError("short offer")
    magic, kind, sender, recipient, token, timestamp_ms, length = _HEADER.unpack_from(plaintext)
    if magic != MAGIC or len(plaintext) != _HEADER.size + length + SIGNATURE_BYTES:
        raise OfferError("bad magic or length")
    signed, signature = plaintext[:-SIGNATURE_BYTES], plaintext[-SIGNATURE_BYTES:]
    try:
        verify_signature(sender, SIGNING_CONTEXT + signed, signature)
    except (BadSignature, InvalidPublicKey):
        raise BadOfferSignature("signature does not verify") from None
    # Authenticated from here on.
    if recipient != identity.signing_public:
        raise OfferNotForUs("signed for another phone")
    if kind not in (KIND_OFFER, KIND_ANSWER):
        raise OfferError(f"kind {kind}")
    if kind == KIND_OFFER and abs(now_ms - timestamp_ms) > OFFER_FRESH_MS:
        raise StaleOffer(f"dated {now_ms - timestamp_ms} ms from our clock")
    try:
        body = json.loads(plaintext[_HEADER.size : _HEADER.size + length].decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise OfferError("parameters are not JSON") from None
    if (
        not isinstance(body, dict)
        or not set(body) <= {"direct", "relay", "restart"}
        or "direct" not in body
        or body.get("restart", True) is not True
    ):
        raise OfferError("parameters are not an object of direct, relay, restart")
    relay = IceParams.from_json(body["relay"]) if "relay" in body else None
    direct = IceParams.from_json(body["direct"])
    restart = "restart" in body
    return CallOffer(kind, sender, recipient, token, timestamp_ms, direct, relay, restart)
