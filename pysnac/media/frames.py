"""The media frame: what travels inside one encrypted voice packet.

Layout (big-endian), 9 bytes of header plus 2 per redundant frame:

    0      flags: bits 7-6 version (1), bits 5-2 link score report (0: none yet, 1-15: the
           E-model rating R of what this sender receives, R = (value - 1) x 100 / 14; an
           RTCP receiver report in four bits), bits 1-0 redundant frame count R (0-2)
    1-2    sequence number, +1 per packet sent, mod 2^16 (loss, duplicate and late detection)
    3-6    media timestamp of the primary frame, 48 kHz samples, mod 2^32 (RFC 3550 5.1 style)
    7      loss report: the fraction of packets this sender measured missing, x 255
           (like RTCP's fraction lost, RFC 3550 6.4.1), so the far sender adapts FEC/redundancy
    8      burst report: the mean length of those losses in frames, x 16 (0: no loss seen)
    9..    R block headers (uint16 each): bits 15-12 how many frames back (1-15), bits 11-0
           the block's length; the RFC 2198 header shrunk to a frame offset and a length,
           since the frame length N is agreed per call
    ..     R redundant blocks: Opus packets of the frames at timestamp - back * N
    ..     the primary Opus packet: the rest of the payload, at least 1 byte

The packet is authenticated before this parser sees it (AEAD), but the parser still checks
every length exactly: a malformed frame raises `MalformedFrame` and changes nothing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pysnac.errors import PysnacError
from pysnac.media import limits

HEADER = struct.Struct(">BHIBB")
HEADER_BYTES = HEADER.size  # 9
REDUNDANT_LENGTH = struct.Struct(">H")
REDUNDANT_HEADER_BYTES = REDUNDANT_LENGTH.size  # 2 per redundant frame
_VERSION_SHIFT = 6
_COUNT_MASK = 0x03
_SCORE_SHIFT = 2
_SCORE_MASK = 0x0F
_BACK_SHIFT = 12
_LENGTH_MASK = 0x0FFF
MAX_BACK_FRAMES = 15


class MalformedFrame(PysnacError, ValueError):
    """A media payload that does not parse; the receiver counts and drops it."""


@dataclass(frozen=True, slots=True)
class MediaFrame:
    """One parsed media payload; `redundant` holds (frames back, Opus packet) pairs."""

    seq: int
    timestamp: int
    loss_report: int  # 0..255 = fraction lost x 255, as measured by the sender of this frame
    opus: bytes
    redundant: tuple[tuple[int, bytes], ...] = ()
    burst_report: int = 0  # mean loss burst x 16 frames, as measured by the sender
    score_report: int = 0  # 0..15: link score of what the sender receives (link_score.py)

    def encode(self) -> bytes:
        count = len(self.redundant)
        if count > limits.MAX_REDUNDANT_FRAMES:
            raise ValueError(f"at most {limits.MAX_REDUNDANT_FRAMES} redundant frames")
        if not 0 <= self.score_report <= _SCORE_MASK:
            raise ValueError("score report out of range")
        flags = (limits.FRAME_VERSION << _VERSION_SHIFT) | self.score_report << _SCORE_SHIFT
        flags |= count
        parts = [
            HEADER.pack(
                flags,
                self.seq % limits.SEQ_MODULO,
                self.timestamp % limits.TIMESTAMP_MODULO,
                self.loss_report,
                self.burst_report,
            )
        ]
        for back, block in self.redundant:
            if not 1 <= back <= MAX_BACK_FRAMES or not 1 <= len(block) <= _LENGTH_MASK:
                raise ValueError("redundant block offset or length out of range")
            parts.append(REDUNDANT_LENGTH.pack(back << _BACK_SHIFT | len(block)))
        parts.extend(block for _, block in self.redundant)
        parts.append(self.opus)
        return b"".join(parts)


def overhead_bytes(redundant_count: int) -> int:
    """Media header bytes per packet (not counting the Opus data itself)."""
    return HEADER_BYTES + REDUNDANT_HEADER_BYTES * redundant_count


def parse(payload: bytes) -> MediaFrame:
    """Parse one media payload, checking every length; raise `MalformedFrame` if bad."""
    if len(payload) < HEADER_BYTES + 1:
        raise MalformedFrame(f"media frame too short: {len(payload)} bytes")
    flags, seq, timestamp, loss_report, burst_report = HEADER.unpack_from(payload)
    if flags >> _VERSION_SHIFT != limits.FRAME_VERSION:
        raise MalformedFrame(f"unknown media frame version {flags >> _VERSION_SHIFT}")
    count = flags & _COUNT_MASK
    if count > limits.MAX_REDUNDANT_FRAMES:
        raise MalformedFrame(f"too many redundant frames: {count}")
    offset = HEADER_BYTES
    if len(payload) < offset + REDUNDANT_HEADER_BYTES * count + 1:
        raise MalformedFrame("media frame truncated in redundancy header")
    heads = []
    for _ in range(count):
        (word,) = REDUNDANT_LENGTH.unpack_from(payload, offset)
        offset += REDUNDANT_HEADER_BYTES
        back, length = word >> _BACK_SHIFT, word & _LENGTH_MASK
        if back == 0 or any(back == b for b, _ in heads):
            raise MalformedFrame(f"bad redundant frame offset {back}")
        if not 1 <= length <= limits.OPUS_MAX_PACKET_BYTES:
            raise MalformedFrame(f"bad redundant frame length {length}")
        heads.append((back, length))
    blocks = []
    for back, length in heads:
        if offset + length >= len(payload):  # the primary needs at least one byte after
            raise MalformedFrame("redundant frame runs past the payload")
        blocks.append((back, payload[offset : offset + length]))
        offset += length
    opus = payload[offset:]
    if len(opus) > limits.OPUS_MAX_PACKET_BYTES:
        raise MalformedFrame(f"Opus packet too long: {len(opus)} bytes")
    score = flags >> _SCORE_SHIFT & _SCORE_MASK
    return MediaFrame(seq, timestamp, loss_report, opus, tuple(blocks), burst_report, score)
