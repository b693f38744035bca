"""The media frame: what travels inside one encrypted voice packet.

Layout (big-endian), 8 bytes of header plus 2 per redundant frame:

    0      flags: bits 7-6 version (1), bits 5-2 zero, bits 1-0 redundant frame count R (0-2)
    1-2    sequence number, +1 per packet sent, mod 2^16 (loss, duplicate and late detection)
    3-6    media timestamp of the primary frame, 48 kHz samples, mod 2^32 (RFC 3550 5.1 style)
    7      loss report: the fraction of packets this sender measured missing, x 255
           (like RTCP's fraction lost, RFC 3550 6.4.1), so the far sender adapts FEC/redundancy
    8..    R lengths (uint16), oldest-first order matching the blocks below
    ..     R redundant blocks: Opus packets of the frames at timestamp - R*N .. timestamp - N
           (RFC 2198 style, with implicit consecutive timestamps since N is agreed per call)
    ..     the primary Opus packet: the rest of the payload, at least 1 byte

The packet is authenticated before this parser sees it (AEAD), but the parser still checks
every length exactly: a malformed frame raises `MalformedFrame` and changes nothing.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

from pysnac_fsm.errors import PysnacError
from pysnac_fsm.media import limits

HEADER = struct.Struct(">BHIB")
HEADER_BYTES = HEADER.size  # 8
REDUNDANT_LENGTH = struct.Struct(">H")
REDUNDANT_HEADER_BYTES = REDUNDANT_LENGTH.size  # 2 per redundant frame
_VERSION_SHIFT = 6
_COUNT_MASK = 0x03
_RESERVED_MASK = 0x3C


class MalformedFrame(PysnacError, ValueError):
    """A media payload that does not parse; the receiver counts and drops it."""


@dataclass(frozen=True, slots=True)
class MediaFrame:
    """One parsed media payload. `redundant[0]` is the frame just before the primary."""

    seq: int
    timestamp: int
    loss_report: int  # 0..255 = fraction lost x 255, as measured by the sender of this frame
    opus: bytes
    redundant: tuple[bytes, ...] = ()

    def encode(self) -> bytes:
        count = len(self.redundant)
        if count > limits.MAX_REDUNDANT_FRAMES:
            raise ValueError(f"at most {limits.MAX_REDUNDANT_FRAMES} redundant frames")
        flags = (limits.FRAME_VERSION << _VERSION_SHIFT) | count
        parts = [
            HEADER.pack(
                flags,
                self.seq % limits.SEQ_MODULO,
                self.timestamp % limits.TIMESTAMP_MODULO,
                self.loss_report,
            )
        ]
        oldest_first = self.redundant[::-1]
        parts.extend(REDUNDANT_LENGTH.pack(len(block)) for block in oldest_first)
        parts.extend(oldest_first)
        parts.append(self.opus)
        return b"".join(parts)


def overhead_bytes(redundant_count: int) -> int:
    """Media header bytes per packet (not counting the Opus data itself)."""
    return HEADER_BYTES + REDUNDANT_HEADER_BYTES * redundant_count


def parse(payload: bytes) -> MediaFrame:
    """Parse one media payload, checking every length; raise `MalformedFrame` if bad."""
    if len(payload) < HEADER_BYTES + 1:
        raise MalformedFrame(f"media frame too short: {len(payload)} bytes")
    flags, seq, timestamp, loss_report = HEADER.unpack_from(payload)
    if flags >> _VERSION_SHIFT != limits.FRAME_VERSION:
        raise MalformedFrame(f"unknown media frame version {flags >> _VERSION_SHIFT}")
    if flags & _RESERVED_MASK:
        raise MalformedFrame("reserved media frame flags set")
    count = flags & _COUNT_MASK
    if count > limits.MAX_REDUNDANT_FRAMES:
        raise MalformedFrame(f"too many redundant frames: {count}")
    offset = HEADER_BYTES
    if len(payload) < offset + REDUNDANT_HEADER_BYTES * count + 1:
        raise MalformedFrame("media frame truncated in redundancy header")
    lengths = []
    for _ in range(count):
        (length,) = REDUNDANT_LENGTH.unpack_from(payload, offset)
        offset += REDUNDANT_HEADER_BYTES
        if not 1 <= length <= limits.OPUS_MAX_PACKET_BYTES:
            raise MalformedFrame(f"bad redundant frame length {length}")
        lengths.append(length)
    blocks = []
    for length in lengths:
        if offset + length >= len(payload):  # the primary needs at least one byte after
            raise MalformedFrame("redundant frame runs past the payload")
        blocks.append(payload[offset : offset + length])
        offset += length
    opus = payload[offset:]
    if len(opus) > limits.OPUS_MAX_PACKET_BYTES:
        raise MalformedFrame(f"Opus packet too long: {len(opus)} bytes")
    return MediaFrame(seq, timestamp, loss_report, opus, tuple(reversed(blocks)))
