"""The call handshake: IK and XX end to end, every flipped bit, wrong and changed keys,
the prologue binding, the payload, and replayed invites."""

from __future__ import annotations

import pytest

from pysnac.channel import call_handshake
from pysnac.channel.call_handshake import CallHandshake, CallSetup, prologue
from pysnac.channel.errors import HandshakeFailed, WrongPeerKey
from pysnac.channel.identity import Identity
from pysnac.channel.limits import SAS_CHARS
from pysnac.noise.crypto import KeyPair
from pysnac.noise.handshakestate import HandshakeState

ALICE, BOB, MALLORY = (Identity(bytes([n]) * 32) for n in (1, 2, 3))
CALL_ID = bytes(range(8))
NOW_S = 1_800_000_000.0
CODEC = {"bitrate": 24000, "frame_ms": 20}


def setup_for(who: Identity, name: str, at_s: float = NOW_S) -> CallSetup:
    return CallSetup(name, who.signing_public, int(at_s * 1000), CODEC)


def start(pattern: str, *, pin: bytes | None = None, callee: Identity = BOB):
    """(caller, callee) handshakes; IK pins BOB unless told otherwise."""
    if pattern == "IK":
        caller = CallHandshake.initiator(ALICE, CALL_ID, pin or BOB.signing_public)
    else:
        caller = CallHandshake.initiator(ALICE, CALL_ID, pin, pattern="XX")
    return caller, CallHandshake.responder(callee, CALL_ID, pattern)


def run(caller: CallHandshake, callee: CallHandshake) -> list[bytes]:
    """Complete the handshake; the messages sent, in order."""
    sent, turn = [], True
    while not (caller.complete and callee.complete):
        writer, reader = (caller, callee) if turn else (callee, caller)
        who = setup_for(ALICE, "alice") if turn else setup_for(callee._identity, "bob")
        sent.append(writer.write_message(who))
        reader.read_message(sent[-1])
        turn = not turn
    return sent


@pytest.mark.parametrize("pattern", ["IK", "XX"])
def test_honest_call_completes_with_mirrored_keys_and_equal_sas(pattern: str) -> None:
    caller, callee = start(pattern)
    messages = run(caller, callee)
    assert len(messages) == (2 if pattern == "IK" else 3)
    assert caller.pattern == callee.pattern == pattern
    assert caller.peer_signing_public == BOB.signing_public
    assert callee.peer_signing_public == ALICE.signing_public
    assert callee.peer_setup == setup_for(ALICE, "alice")
    assert caller.peer_setup == setup_for(BOB, "bob")
    mine, theirs = caller.session_keys(), callee.session_keys()
    assert mine.send_key == theirs.recv_key and mine.recv_key == theirs.send_key
    assert mine.send_key != mine.recv_key
    assert mine.handshake_hash == theirs.handshake_hash
    if caller.commits:
        callee.open_commitment(caller.sas_reveal)
    else:
        caller.open_commitment(callee.sas_reveal)
    assert caller.sas == callee.sas and len(caller.sas) == SAS_CHARS
    assert mine.send_key.hex() not in repr(mine)


def test_ik_callee_knows_the_caller_from_the_first_message() -> None:
    caller, callee = start("IK")
    invite = caller.write_message(setup_for(ALICE, "alice"))
    assert callee.read_message(invite) == setup_for(ALICE, "alice")
    assert callee.peer_signing_public == ALICE.signing_public
    assert not callee.complete


def test_the_setup_is_never_in_clear() -> None:
    for pattern in ("IK", "XX"):
        messages = run(*start(pattern))
        for message in messages:
            assert b"alice" not in message and b"bob" not in message
            assert ALICE.signing_public not in message and BOB.signing_public not in message


def test_xx_setup_given_early_is_held_for_the_encrypted_message() -> None:
    caller, callee = start("XX")
    first = caller.write_message(setup_for(ALICE, "alice"))
    assert len(first) == 32  # just the ephemeral key
    assert callee.read_message(first) is None
    assert caller.read_message(callee.write_message(setup_for(BOB, "bob"))).name == "bob"
    assert callee.read_message(caller.write_message(None)).name == "alice"


def flips(message: bytes):
    for bit in range(len(message) * 8):
        flipped = bytearray(message)
        flipped[bit // 8] ^= 1 << (bit % 8)
        yield bytes(flipped)


@pytest.mark.parametrize(("pattern", "index"), [("IK", 0), ("IK", 1), ("XX", 1), ("XX", 2)])
def test_every_flipped_bit_of_an_authenticated_message_is_rejected(
    pattern: str, index: int
) -> None:
    caller, callee = start(pattern)
    parties = [caller, callee]
    for n in range(index):
        writer, reader = parties[n % 2], parties[1 - n % 2]
        who = setup_for(ALICE, "alice") if n % 2 == 0 else setup_for(BOB, "bob")
        reader.read_message(writer.write_message(who))
    writer, reader = parties[index % 2], parties[1 - index % 2]
    who = setup_for(ALICE, "alice") if index % 2 == 0 else setup_for(BOB, "bob")
    message = writer.write_message(who)
    for bad in flips(message):
        with pytest.raises(HandshakeFailed):
            reader.read_message(bad)
    reader.read_message(message)  # the reader's state survived every forgery
    assert reader.peer_signing_public == writer._identity.signing_public


def test_every_flipped_bit_of_the_xx_first_message_fails_the_handshake() -> None:
    """XX's first message is a bare ephemeral key: nothing to authenticate yet, so the
    damage shows one message later, when the caller reads the callee's answer."""
    fixed = KeyPair.from_private(bytes([9]) * 32)
    message = CallHandshake.initiator(ALICE, CALL_ID, None, ephemeral=fixed).write_message(None)
    for bad in flips(message):
        caller = CallHandshake.initiator(ALICE, CALL_ID, None, ephemeral=fixed)
        callee = CallHandshake.responder(BOB, CALL_ID, "XX")
        assert caller.write_message(None) == message
        callee.read_message(bad)
        with pytest.raises(HandshakeFailed):
            caller.read_message(callee.write_message(setup_for(BOB, "bob")))


@pytest.mark.parametrize(
    "bad",
    [b"", b"\x00", bytes(31), bytes(32), bytes(200), bytes(70_000)],
    ids=["empty", "1", "31", "32", "200", "huge"],
)
def test_garbage_is_rejected_and_the_real_message_still_works(bad: bytes) -> None:
    caller, callee = start("IK")
    invite = caller.write_message(setup_for(ALICE, "alice"))
    with pytest.raises(HandshakeFailed):
        callee.read_message(bad)
    callee.read_message(invite)
    with pytest.raises(HandshakeFailed):
        caller.read_message(bad)
    caller.read_message(callee.write_message(setup_for(BOB, "bob")))
    assert caller.complete and callee.complete


def test_duplicates_and_out_of_turn_messages_are_rejected() -> None:
    caller, callee = start("IK")
    invite = caller.write_message(setup_for(ALICE, "alice"))
    callee.read_message(invite)
    with pytest.raises(HandshakeFailed):
        callee.read_message(invite)  # a duplicated datagram
    with pytest.raises(HandshakeFailed):
        caller.read_message(invite)  # our own message reflected back
    with pytest.raises(HandshakeFailed):
        caller.session_keys()


def test_a_changed_callee_key_fails_ik_at_the_callee() -> None:
    """IK to a pinned key the callee no longer holds: nobody can read the invite."""
    caller = CallHandshake.initiator(ALICE, CALL_ID, BOB.signing_public)
    impostor = CallHandshake.responder(MALLORY, CALL_ID, "IK")
    with pytest.raises(HandshakeFailed):
        impostor.read_message(caller.write_message(setup_for(ALICE, "alice")))
    assert impostor.peer_signing_public is None


def test_xx_with_a_pinned_key_answered_by_another_key_is_wrong_peer_key() -> None:
    caller, callee = start("XX", pin=BOB.signing_public, callee=MALLORY)
    callee.read_message(caller.write_message(None))
    with pytest.raises(WrongPeerKey):
        caller.read_message(callee.write_message(setup_for(MALLORY, "bob")))
    assert caller.peer_signing_public is None and not caller.complete
    with pytest.raises(HandshakeFailed):
        caller.write_message(setup_for(ALICE, "alice"))


def raw_responder(pattern: str, static: Identity) -> HandshakeState:
    return HandshakeState(
        f"Noise_{pattern}_25519_ChaChaPoly_BLAKE2b",
        initiator=False,
        prologue=prologue(CALL_ID),
        s=static.static_keypair,
    )


def test_a_setup_claiming_someone_elses_key_is_rejected() -> None:
    """Mallory runs XX with her own static key but claims Bob's identity in the payload."""
    for pin in (None, BOB.signing_public):
        caller = CallHandshake.initiator(ALICE, CALL_ID, pin, pattern="XX")
        mallory = raw_responder("XX", MALLORY)
        mallory.read_message(caller.write_message(None))
        lie = bytes(32) + setup_for(BOB, "bob").encode()
        with pytest.raises(HandshakeFailed, match="does not match") as info:
            caller.read_message(mallory.write_message(lie))
        assert not isinstance(info.value, WrongPeerKey)


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"\x01",
        bytes(32) + setup_for(BOB, "bob").encode() + b"\x00",
        bytes(32) + b"\x09" + bytes(80),
    ],
    ids=["empty", "short", "trailing", "version"],
)
def test_an_authenticated_but_malformed_setup_ends_the_handshake(payload: bytes) -> None:
    caller = CallHandshake.initiator(ALICE, CALL_ID, None)
    bob = raw_responder("XX", BOB)
    bob.read_message(caller.write_message(None))
    with pytest.raises(HandshakeFailed):
        caller.read_message(bob.write_message(payload))
    assert not caller.complete and not caller.is_my_turn_to_write


def test_the_prologue_binds_call_id_and_version(monkeypatch: pytest.MonkeyPatch) -> None:
    caller = CallHandshake.initiator(ALICE, CALL_ID, BOB.signing_public)
    invite = caller.write_message(setup_for(ALICE, "alice"))
    with pytest.raises(HandshakeFailed):
        CallHandshake.responder(BOB, bytes(8), "IK").read_message(invite)
    monkeypatch.setattr(call_handshake, "PROTOCOL_VERSION", 3)
    future = CallHandshake.responder(BOB, CALL_ID, "IK")
    monkeypatch.undo()
    with pytest.raises(HandshakeFailed):
        future.read_message(invite)
    with pytest.raises(HandshakeFailed):
        CallHandshake.responder(BOB, CALL_ID, "XX").read_message(invite)  # wrong pattern
    CallHandshake.responder(BOB, CALL_ID, "IK").read_message(invite)


def test_bad_arguments_are_value_errors() -> None:
    with pytest.raises(ValueError):
        CallHandshake.responder(BOB, CALL_ID, "NN")
    with pytest.raises(ValueError):
        CallHandshake.initiator(ALICE, b"short", None)
    with pytest.raises(ValueError):
        CallHandshake.initiator(ALICE, CALL_ID, None, pattern="IK")
    caller = CallHandshake.initiator(ALICE, CALL_ID, BOB.signing_public)
    with pytest.raises(ValueError):
        caller.write_message(None)  # IK's first message must carry our setup
    with pytest.raises(ValueError):
        caller.write_message(setup_for(BOB, "bob"))  # not our key


@pytest.mark.parametrize(
    "kwargs",
    [
        {"name": ""},
        {"name": "x" * 16},
        {"name": "bad\nname"},
        {"signing_public": b"short"},
        {"stamp": -1},
        {"stamp": 2**64},
        {"session_index": 2**32},
        {"codec": {f"k{n}": n for n in range(9)}},
        {"codec": {"bit rate": 1}},
        {"codec": {"bitrate": 2**32}},
        {"codec": {"bitrate": True}},
    ],
)
def test_call_setup_validates_its_fields(kwargs: dict) -> None:
    fields = {"name": "alice", "signing_public": bytes(32), "stamp": 1, "codec": {}}
    with pytest.raises(ValueError):
        CallSetup(**{**fields, **kwargs})


def test_call_setup_round_trips_including_unicode_names() -> None:
    setup = CallSetup("Zoë 電話 ☎", bytes(range(32)), 2**63, {"a": 0, "b": 2**32 - 1}, 7)
    assert CallSetup.decode(setup.encode()) == setup


def test_a_changed_session_index_fails_like_tampering_and_the_real_one_still_works() -> None:
    caller, callee = start("IK")
    invite = caller.write_message(CallSetup("alice", ALICE.signing_public, 1, CODEC, 41))
    with pytest.raises(HandshakeFailed, match="session index"):
        callee.read_message(invite, sender_index=42)
    assert callee.read_message(invite, sender_index=41).session_index == 41
    accept = callee.write_message(CallSetup("bob", BOB.signing_public, 0, CODEC, 7))
    with pytest.raises(HandshakeFailed, match="session index"):
        caller.read_message(accept, sender_index=8)
    caller.read_message(accept, sender_index=7)
    assert caller.complete
