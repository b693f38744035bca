"""Invite stamps: a per-caller value that only grows, never compared with the receiver's
clock, kept across restarts in a 0600 file. Clocks a day apart, clock steps both ways, and
a replay after a restart."""

from __future__ import annotations

import os
import stat

import pytest

from pysnac.channel.errors import HandshakeFailed
from pysnac.channel.invite_stamps import InviteStamps
from pysnac.channel.limits import MAX_INVITE_STAMP_STRANGERS, STAMP_UNITS_PER_S
from pysnac.stamp_file import load_stamps, save_stamps

KEY_A, KEY_B = b"\xaa" * 32, b"\xbb" * 32
WALL_S = 1_800_000_000.0
DAY_S = 86_400.0


def test_our_stamps_grow_even_when_our_clock_steps_back() -> None:
    ours = InviteStamps()
    first = ours.next_stamp(WALL_S)
    assert first == int(WALL_S * STAMP_UNITS_PER_S)
    stepped_back = ours.next_stamp(WALL_S - DAY_S)  # NTP stepped the clock a day back
    assert stepped_back == first + 1
    assert ours.next_stamp(WALL_S + DAY_S) > stepped_back  # and forward again


def test_the_receiver_compares_a_callers_stamps_only_with_its_own() -> None:
    theirs = InviteStamps()
    caller = InviteStamps()
    skewed_caller = InviteStamps()
    # One caller's clock is a day behind, the other's a day ahead: both are accepted.
    theirs.accept(KEY_A, caller.next_stamp(WALL_S - DAY_S), contact=True)
    theirs.accept(KEY_B, skewed_caller.next_stamp(WALL_S + DAY_S), contact=False)
    replay = caller.next_stamp(WALL_S - DAY_S)
    theirs.accept(KEY_A, replay, contact=True)
    with pytest.raises(HandshakeFailed, match="replayed"):
        theirs.accept(KEY_A, replay, contact=True)
    with pytest.raises(HandshakeFailed):
        theirs.accept(KEY_A, replay - 1, contact=True)


def test_strangers_are_bounded_contacts_are_kept() -> None:
    stamps = InviteStamps()
    stamps.accept(KEY_A, 5, contact=True)
    for n in range(MAX_INVITE_STAMP_STRANGERS + 10):
        stamps.accept(n.to_bytes(32, "little"), 1, contact=False)
    assert stamps.latest(KEY_A) == 5
    assert stamps.latest((0).to_bytes(32, "little")) is None  # the oldest stranger went
    assert stamps.latest((MAX_INVITE_STAMP_STRANGERS + 9).to_bytes(32, "little")) == 1


def test_a_replay_after_a_restart_is_refused(tmp_path) -> None:
    path = tmp_path / "invite-stamps"
    stamps = load_stamps(path)  # no file yet: fresh
    stamps.accept(KEY_A, 1000, contact=True)
    stamps.next_stamp(WALL_S)
    save_stamps(path, stamps)
    assert not stamps.changed
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    restarted = load_stamps(path)
    with pytest.raises(HandshakeFailed):
        restarted.accept(KEY_A, 1000, contact=True)
    assert restarted.next_stamp(WALL_S - DAY_S) == stamps.last_sent + 1


@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"not-stamps\n",
        b"pysnac-invite-stamps-v1\nsent -1\n",
        b"pysnac-invite-stamps-v1\nsent +5\n",
        b"pysnac-invite-stamps-v1\ncontact AAAA 5\n",
        b"pysnac-invite-stamps-v1\nstranger " + b"A" * 44 + b" 1 2\n",
        b"\xff\xfe",
    ],
)
def test_a_damaged_file_is_set_aside_and_the_phone_starts_afresh(tmp_path, content) -> None:
    path = tmp_path / "invite-stamps"
    path.write_bytes(content)
    assert load_stamps(path).latest(KEY_A) is None
    assert not path.exists() and (tmp_path / "invite-stamps.corrupt").exists()


def test_a_fifo_is_not_read(tmp_path) -> None:
    path = tmp_path / "invite-stamps"
    os.mkfifo(path)
    assert load_stamps(path).last_sent == 0  # returns at once, never blocks on the FIFO
