"""The media frame format: round trips, wrap-around, and one rejection test per field."""

from __future__ import annotations

import contextlib
import struct

import pytest
from hypothesis import given
from hypothesis import strategies as st

from pysnac.errors import PysnacError
from pysnac.media import frames
from pysnac.media.frames import MalformedFrame, MediaFrame, parse

opus_packets = st.binary(min_size=1, max_size=300)


@given(
    seq=st.integers(0, 2**16 - 1),
    ts=st.integers(0, 2**32 - 1),
    loss=st.integers(0, 255),
    opus=opus_packets,
    burst=st.integers(0, 255),
    score=st.integers(0, 15),
    redundant=st.lists(
        st.tuples(st.integers(1, 15), opus_packets), max_size=3, unique_by=lambda r: r[0]
    ),
)
def test_round_trip(seq, ts, loss, opus, burst, score, redundant):
    frame = MediaFrame(seq, ts, loss, opus, tuple(redundant), burst, score)
    payload = frame.encode()
    assert len(payload) == frames.overhead_bytes(len(redundant)) + len(opus) + sum(
        len(block) for _, block in redundant
    )
    assert parse(payload) == frame


def test_header_is_nine_bytes_plus_two_per_redundant_frame():
    assert frames.overhead_bytes(0) == 9
    assert frames.overhead_bytes(2) == 13


def test_sequence_and_timestamp_wrap():
    frame = MediaFrame(2**16 + 5, 2**32 + 960, 0, b"\x01")
    parsed = parse(frame.encode())
    assert (parsed.seq, parsed.timestamp) == (5, 960)


def test_redundant_blocks_keep_their_offsets():
    frame = MediaFrame(1, 2880, 3, b"P", ((1, b"prev"), (3, b"three back")), 40)
    parsed = parse(frame.encode())
    assert parsed.redundant == ((1, b"prev"), (3, b"three back"))
    assert parsed.burst_report == 40


def _header(flags=0x40, seq=1, ts=960, loss=0, burst=0):
    return struct.pack(">BHIBB", flags, seq, ts, loss, burst)


@pytest.mark.parametrize(
    ("payload", "why"),
    [
        (b"", "empty"),
        (_header(), "header only: no Opus byte"),
        (_header(flags=0x80) + b"x", "version 2"),
        (_header(flags=0x00) + b"x", "version 0"),
        (_header(flags=0x41) + b"\x00", "redundancy header truncated"),
        (_header(flags=0x41) + b"\x10\x00" + b"xy", "zero-length redundant frame"),
        (_header(flags=0x41) + b"\x00\x01" + b"xy", "redundant frame zero frames back"),
        (_header(flags=0x42) + b"\x10\x01\x10\x01" + b"xyz", "two copies of one offset"),
        (_header(flags=0x41) + b"\x10\x05" + b"abcde", "redundant eats the primary"),
        (_header(flags=0x41) + b"\x10\x09" + b"abc", "redundant runs past the end"),
        (_header(flags=0x41) + b"\x15\x00" + b"a" * 1300, "redundant longer than Opus max"),
        (_header() + b"x" * 1276, "primary longer than Opus max"),
    ],
)
def test_malformed_is_rejected_with_typed_error(payload, why):
    with pytest.raises(MalformedFrame):
        parse(payload)


def test_malformed_is_a_pysnac_error():
    assert issubclass(MalformedFrame, PysnacError)
    assert issubclass(MalformedFrame, ValueError)


@given(st.binary(max_size=64))
def test_garbage_never_raises_anything_else(data):
    with contextlib.suppress(MalformedFrame):
        parse(data)
