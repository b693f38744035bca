"""The call wire format: exact lengths, one rejection test per field that can be wrong."""

from __future__ import annotations

import pytest

from pysnac.call import wire
from pysnac.call.limits import MAX_DATAGRAM_BYTES
from pysnac.call.wire import Content, MalformedPacket, PacketType

CALL_ID = bytes(range(8))
NOISE1 = bytes(wire.NOISE_IK_MSG1_MIN_BYTES + 20)
NOISE2 = bytes(wire.NOISE_IK_MSG2_MIN_BYTES + 5)
SIG = b"\x55" * 64


MAC1, MAC2 = b"\x11" * 16, b"\x22" * 16


def invite(noise: bytes = NOISE1) -> bytes:
    return wire.encode_invite_body(2, CALL_ID, 0xDEADBEEF, noise) + MAC1 + MAC2


def test_invite_round_trip() -> None:
    data = invite()
    packet = wire.parse(data)
    body = data[:-32]
    assert packet == wire.Invite(2, CALL_ID, 0xDEADBEEF, NOISE1, body, MAC1, MAC2)


@pytest.mark.parametrize("kind", sorted(wire.SIGNED_SIGNALS))
def test_signed_signal_round_trip(kind: PacketType) -> None:
    header = wire.signal_header(kind, CALL_ID, 7, 9)
    packet = wire.parse(wire.encode_signal(header, SIG))
    assert isinstance(packet, wire.Signal)
    assert (packet.type, packet.call_id, packet.sender_index, packet.receiver_index) == (
        kind,
        CALL_ID,
        7,
        9,
    )
    assert packet.signature == SIG and packet.signed == header
    assert len(header) + len(SIG) == wire.SIGNAL_BYTES == 81


def test_accept_and_wrong_key_round_trip() -> None:
    accept = wire.parse(wire.encode_accept(CALL_ID, 3, 4, NOISE2))
    assert accept == wire.Accept(CALL_ID, 3, 4, NOISE2)
    wrong = wire.parse(wire.encode_wrong_key(CALL_ID, 4))
    assert wrong == wire.WrongKey(CALL_ID, 4)
    assert wire.WRONG_KEY_BYTES == 13  # names no key, smaller than any datagram it answers
    cookie = wire.parse(wire.encode_cookie(9, b"n" * 24, b"c" * 32))
    assert cookie == wire.CookieReply(9, b"n" * 24, b"c" * 32)
    assert wire.COOKIE_REPLY_BYTES == 61 < wire.INVITE_MIN_BYTES


def test_transport_keeps_the_whole_packet_for_the_opener() -> None:
    data = wire.transport_header(0x01020304) + bytes(8 + 1 + 16)
    packet = wire.parse(data)
    assert packet == wire.Transport(0x01020304, data)
    assert data[1:5] == bytes([4, 3, 2, 1])  # little-endian index


@pytest.mark.parametrize(
    ("data", "why"),
    [
        (b"", "empty"),
        (b"\x99" + bytes(100), "unknown packet type"),
        (bytes(MAX_DATAGRAM_BYTES + 1), "over"),
        (invite()[:-53], "too short"),
        (wire.encode_signal(wire.signal_header(PacketType.RINGING, CALL_ID, 1, 2), SIG)[:-1], "81"),
        (wire.encode_signal(wire.signal_header(PacketType.BUSY, CALL_ID, 1, 2), SIG) + b"x", "81"),
        (wire.encode_accept(CALL_ID, 1, 2, NOISE2)[:-6], "too short"),
        (wire.encode_wrong_key(CALL_ID, 1) + b"x", "WRONG_KEY"),
        (wire.encode_cookie(1, bytes(24), bytes(32))[:-1], "COOKIE"),
        (wire.transport_header(1) + bytes(8 + 16), "too short"),
    ],
)
def test_bad_datagrams_are_rejected(data: bytes, why: str) -> None:
    with pytest.raises(MalformedPacket, match=why):
        wire.parse(data)


def test_content_parsing_is_exact() -> None:
    assert wire.parse_content(b"\x01abc") == (Content.MEDIA, b"abc")
    assert wire.parse_content(wire.encode_content(Content.BYE)) == (Content.BYE, b"")
    assert wire.parse_content(b"\x05" + bytes(32)) == (Content.CONFIRM, bytes(32))
    for bad in (b"", b"\x01", b"\x02x", b"\x03\x00", b"\x7f", b"\x05" + bytes(31)):
        with pytest.raises(MalformedPacket):
            wire.parse_content(bad)


def test_only_signals_can_be_signed() -> None:
    with pytest.raises(ValueError):
        wire.signal_header(PacketType.ACCEPT, CALL_ID, 1, 2)
