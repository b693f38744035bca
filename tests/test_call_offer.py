"""The sealed call offer (pysnac/call/offer.py): only the recipient opens it, only the
sender's key can have written it, and a directory that tampers, redirects, re-seals or
replays gets nothing started. Pure: no network, the clock is a number."""

from __future__ import annotations

import json
import struct

import pytest
from nacl.public import PrivateKey, PublicKey, SealedBox

from pysnac.call.offer import (
    _HEADER,
    KIND_ANSWER,
    KIND_OFFER,
    MAGIC,
    MAX_CANDIDATES,
    OFFER_FRESH_MS,
    SIGNING_CONTEXT,
    BadOfferSignature,
    IceParams,
    OfferError,
    OfferNotForUs,
    StaleOffer,
    from_text,
    open_offer,
    seal_offer,
    to_text,
)
from pysnac.channel.identity import Identity, static_public_from_signing

NOW_MS = 1_800_000_000_000
TOKEN = bytes(range(16))
DIRECT = IceParams("ufrg", "p" * 22, ("candidate:1 1 UDP 2130706431 10.0.1.2 40000 typ host",))
RELAY = IceParams(
    "rlay",
    "q" * 22,
    ("candidate:2 1 UDP 16777215 198.18.0.1 49170 typ relay raddr 0.0.0.0 rport 0",),
)


@pytest.fixture(scope="module")
def alice() -> Identity:
    return Identity.generate()


@pytest.fixture(scope="module")
def bob() -> Identity:
    return Identity.generate()


def test_round_trip(alice: Identity, bob: Identity) -> None:
    sealed = seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, RELAY)
    offer = open_offer(bob, from_text(to_text(sealed)), NOW_MS + 1000)
    assert (offer.kind, offer.sender, offer.recipient, offer.token) == (
        KIND_OFFER,
        alice.signing_public,
        bob.signing_public,
        TOKEN,
    )
    assert (offer.direct, offer.relay) == (DIRECT, RELAY)


def test_the_directory_cannot_read_it(alice: Identity, bob: Identity) -> None:
    sealed = seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, None)
    for secret in (b"10.0.1.2", DIRECT.pwd.encode(), DIRECT.ufrag.encode(), alice.signing_public):
        assert secret not in sealed


def test_only_the_recipient_opens_it(alice: Identity, bob: Identity) -> None:
    sealed = seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, None)
    with pytest.raises(OfferNotForUs):
        open_offer(Identity.generate(), sealed, NOW_MS)


@pytest.mark.parametrize("where", [0, 40, 60, 100, -70, -1])
def test_a_flipped_bit_anywhere_is_refused(alice: Identity, bob: Identity, where: int) -> None:
    sealed = bytearray(
        seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, None)
    )
    sealed[where] ^= 0x01
    with pytest.raises(OfferError):
        open_offer(bob, bytes(sealed), NOW_MS)


def forged(signer: Identity, recipient: bytes, claimed_sender: bytes, params: dict) -> bytes:
    """An attacker's offer: any claimed sender, any candidates, sealed to the victim
    (anyone can seal to a public key); signed with the attacker's own key."""
    body = json.dumps(params).encode()
    signed = _HEADER.pack(MAGIC, KIND_OFFER, claimed_sender, recipient, TOKEN, NOW_MS, len(body))
    signed += body
    plaintext = signed + signer.sign(SIGNING_CONTEXT + signed)
    return SealedBox(PublicKey(static_public_from_signing(recipient))).encrypt(plaintext)


def test_a_directory_cannot_forge_candidates_for_a_contact(alice: Identity, bob: Identity) -> None:
    """The directory (or anyone) knows alice's public key and bob's, and can seal to bob;
    it cannot sign as alice, so its candidates (its own address) never start checks."""
    mallory = Identity.generate()
    params = {"direct": {"ufrag": "evil", "pwd": "x" * 22, "candidates": [
        "candidate:1 1 UDP 2130706431 198.18.0.66 5000 typ host"]}}  # fmt: skip
    with pytest.raises(BadOfferSignature):
        open_offer(bob, forged(mallory, bob.signing_public, alice.signing_public, params), NOW_MS)


def test_an_offer_re_sealed_to_another_phone_is_refused(alice: Identity, bob: Identity) -> None:
    """bob (a contact of carol too) opens alice's offer and re-seals the signed plaintext
    to carol: the signed recipient is still bob."""
    carol = Identity.generate()
    sealed = seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, None)
    plaintext = SealedBox(PrivateKey(bob.static_private)).decrypt(sealed)
    resealed = SealedBox(PublicKey(static_public_from_signing(carol.signing_public))).encrypt(
        plaintext
    )
    with pytest.raises(OfferNotForUs, match="another phone"):
        open_offer(carol, resealed, NOW_MS)


@pytest.mark.parametrize("skew_ms", [OFFER_FRESH_MS + 1, -(OFFER_FRESH_MS + 1)])
def test_a_stale_or_future_offer_is_refused(alice: Identity, bob: Identity, skew_ms: int) -> None:
    sealed = seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, None)
    with pytest.raises(StaleOffer):
        open_offer(bob, sealed, NOW_MS + skew_ms)


def test_an_answer_is_tied_to_the_token_not_the_clock(alice: Identity, bob: Identity) -> None:
    sealed = seal_offer(bob, alice.signing_public, KIND_ANSWER, TOKEN, NOW_MS, DIRECT, None)
    assert open_offer(alice, sealed, NOW_MS + 10 * OFFER_FRESH_MS).token == TOKEN


@pytest.mark.parametrize(
    "params",
    [
        {},
        {"direct": "x"},
        {"direct": {"ufrag": "a", "pwd": "b"}},
        {"direct": {"ufrag": "", "pwd": "b", "candidates": []}},
        {"direct": {"ufrag": "a", "pwd": "b", "candidates": [1]}},
        {"direct": {"ufrag": "a", "pwd": "b", "candidates": ["c" * 201]}},
        {"direct": {"ufrag": "a", "pwd": "b", "candidates": ["c"] * (MAX_CANDIDATES + 1)}},
        {"direct": {"ufrag": "a", "pwd": "b", "candidates": []}, "extra": 1},
    ],
)
def test_signed_but_malformed_parameters_are_refused(
    alice: Identity, bob: Identity, params: dict
) -> None:
    with pytest.raises(OfferError):
        open_offer(bob, forged(alice, bob.signing_public, alice.signing_public, params), NOW_MS)


def test_garbage_text_is_refused() -> None:
    for text in ("!!!", "a" * 5000):
        with pytest.raises(OfferError):
            from_text(text)
    with pytest.raises(OfferError):
        open_offer(Identity.generate(), struct.pack(">I", 7), NOW_MS)


def test_a_restart_offer_says_so(alice: Identity, bob: Identity) -> None:
    sealed = seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, None, True)
    assert open_offer(bob, sealed, NOW_MS).restart
    plain = seal_offer(alice, bob.signing_public, KIND_OFFER, TOKEN, NOW_MS, DIRECT, None)
    assert not open_offer(bob, plain, NOW_MS).restart


def test_a_restart_flag_that_is_not_true_is_refused(alice: Identity, bob: Identity) -> None:
    params = {"direct": DIRECT.to_json(), "restart": False}
    with pytest.raises(OfferError):
        open_offer(bob, forged(alice, bob.signing_public, alice.signing_public, params), NOW_MS)
