"""Voice packets: layout, authentication of every bit, replay, reordering, key limits."""

from __future__ import annotations

import nacl.bindings as sodium
import pytest

from pysnac.channel.errors import BadPacket, KeyExhausted, ReplayedPacket
from pysnac.channel.limits import REJECT_AFTER_MESSAGES, REPLAY_WINDOW_PACKETS
from pysnac.channel.transport import PacketOpener, PacketSealer

KEY = bytes(range(32))
OTHER_KEY = bytes(range(1, 33))
HEADER = b"\x03\x00\x00\x12\x34"  # type byte + receiver's session index
PAYLOAD = bytes(range(80))


def pair(**limits: int) -> tuple[PacketSealer, PacketOpener]:
    return PacketSealer(KEY, **limits), PacketOpener(KEY, **limits)


def test_layout_is_header_counter_then_noise_aead() -> None:
    sealer, _ = pair()
    sealer.seal(HEADER, b"first")
    packet = sealer.seal(HEADER, PAYLOAD)
    counter = (1).to_bytes(8, "little")
    assert packet[:5] == HEADER and packet[5:13] == counter
    assert len(packet) == len(HEADER) + 8 + len(PAYLOAD) + 16
    plain = sodium.crypto_aead_chacha20poly1305_ietf_decrypt(
        packet[13:], HEADER + counter, bytes(4) + counter, KEY
    )
    assert plain == PAYLOAD


def test_round_trip_and_counters_from_zero() -> None:
    sealer, opener = pair()
    for expected in range(5):
        header, counter, plain = opener.open(sealer.seal(HEADER, PAYLOAD), len(HEADER))
        assert (header, counter, plain) == (HEADER, expected, PAYLOAD)
    assert opener.open(bytearray(sealer.seal(b"", b"")), 0) == (b"", 5, b"")


def test_every_flipped_bit_is_rejected_and_leaves_no_trace() -> None:
    sealer, opener = pair()
    packet = sealer.seal(HEADER, PAYLOAD)
    for bit in range(len(packet) * 8):
        flipped = bytearray(packet)
        flipped[bit // 8] ^= 1 << (bit % 8)
        with pytest.raises(BadPacket):
            opener.open(bytes(flipped), len(HEADER))
        assert opener.window.greatest == -1, bit
    assert opener.open(packet, len(HEADER))[2] == PAYLOAD


@pytest.mark.parametrize("cut", [0, 1, 5, 12, 13, 28])
def test_short_packets_are_bad(cut: int) -> None:
    sealer, opener = pair()
    packet = sealer.seal(HEADER, b"")  # 5 + 8 + 16 = 29 bytes
    with pytest.raises(BadPacket):
        opener.open(packet[:cut], len(HEADER))


def test_wrong_key_and_wrong_header_length_are_bad() -> None:
    packet = PacketSealer(KEY).seal(HEADER, PAYLOAD)
    with pytest.raises(BadPacket):
        PacketOpener(OTHER_KEY).open(packet, len(HEADER))
    for header_len in (0, 4, 6, -1):
        with pytest.raises(BadPacket):
            PacketOpener(KEY).open(packet, header_len)


def test_replays_and_too_old_packets_are_refused() -> None:
    sealer, opener = pair()
    packets = [sealer.seal(HEADER, bytes([n % 256])) for n in range(REPLAY_WINDOW_PACKETS + 3)]
    opener.open(packets[0], 5)
    with pytest.raises(ReplayedPacket):
        opener.open(packets[0], 5)
    opener.open(packets[-1], 5)  # jump ahead: packet 0..1 now outside the window
    with pytest.raises(ReplayedPacket, match="too old"):
        opener.open(packets[1], 5)
    assert opener.open(packets[2], 5)[1] == 2  # exactly at the window's edge: accepted


def test_reordered_packets_inside_the_window_are_accepted_once() -> None:
    sealer, opener = pair()
    packets = [sealer.seal(HEADER, bytes([n % 256])) for n in range(300)]
    order = list(range(300))[::-1][:150] + list(range(150))
    counters = [opener.open(packets[n], 5)[1] for n in order]
    assert sorted(counters) == list(range(300))
    for n in (0, 150, 299):
        with pytest.raises(ReplayedPacket):
            opener.open(packets[n], 5)


def test_a_forged_high_counter_does_not_move_the_window() -> None:
    sealer, opener = pair()
    genuine = sealer.seal(HEADER, PAYLOAD)
    forged = HEADER + (10**9).to_bytes(8, "little") + bytes(len(PAYLOAD) + 16)
    with pytest.raises(BadPacket):
        opener.open(forged, 5)
    assert opener.open(genuine, 5)[1] == 0


def test_key_exhaustion_refuses_rather_than_wraps() -> None:
    sealer = PacketSealer(KEY, reject_after_messages=3)
    opener = PacketOpener(KEY, reject_after_messages=3)
    packets = [sealer.seal(HEADER, b"x") for _ in range(3)]
    for _ in range(2):
        with pytest.raises(KeyExhausted):
            sealer.seal(HEADER, b"x")
    assert sealer.next_counter == 3
    assert [opener.open(p, 5)[1] for p in packets] == [0, 1, 2]
    beyond = PacketSealer(KEY, reject_after_messages=4)
    for _ in range(3):
        beyond.seal(HEADER, b"x")
    with pytest.raises(BadPacket, match="limit"):
        opener.open(beyond.seal(HEADER, b"x"), 5)


def test_limits_can_only_be_lowered_and_keys_must_be_32_bytes() -> None:
    with pytest.raises(ValueError):
        PacketSealer(KEY, reject_after_messages=REJECT_AFTER_MESSAGES + 1)
    with pytest.raises(ValueError):
        PacketOpener(KEY, reject_after_messages=0)
    with pytest.raises(ValueError):
        PacketSealer(KEY[:16])
    assert KEY.hex() not in repr(PacketSealer(KEY)) + repr(PacketOpener(KEY))
