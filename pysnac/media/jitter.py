"""The adaptive jitter buffer: when to play which frame, and how to fill the gaps.

Theory of operation. Frames are indexed by media timestamp / frame length F. When a frame
first becomes playable (its packet, or a redundant copy of it in a later packet, arrives),
its raw delay `now - index * F` mixes the network delay with the unknown offset between the
two phones' clocks. Over the last DELAY_WINDOW_PACKETS frames, the minimum raw delay is the
earliest path, and the DELAY_QUANTILE of (raw - minimum) is how much later than that a frame
becomes playable: NetEq's relative-delay quantile, but measured on availability, so that
redundant copies that arrive in time shrink the target (they repair jitter as well as loss).
Packets that come too late still enter the window: otherwise late loss would hide itself.
The target is never less than the lookahead loss recovery needs (1 frame for FEC, the
deepest redundant copy the sender adds) plus TARGET_MARGIN_S.

At each playout tick the current delay is how long after its earliest possible arrival the
frame due now plays. Above target + (1 + DROP_HYSTERESIS_FRAMES) frames a quiet frame is
dropped; below target one PLC frame is inserted; both only in a pause (QUIET_RUN_FRAMES
quiet frames in a row), never in speech (NetEq's accelerate and preemptive expand, done
where nobody hears them). The same steering keeps the depth bounded when the two sample
clocks differ (+-500 ppm is one frame every 40 s).

A frame missing when due: its redundant copy (RFC 2198) if one came, else the next packet's
in-band FEC if it carries LBRR (RFC 6716 section 2.1.7), else Opus PLC. If nothing newer has
arrived and the path is not losing packets, the frame is late, not lost: the buffer conceals
without advancing (NetEq's expand). A gap longer than MAX_CONCEAL_FRAMES is skipped rather
than concealed frame by frame. A packet for a frame already played is late and dropped; a
second copy is a duplicate and ignored.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass
from enum import StrEnum
from typing import Protocol

import numpy as np

from pysnac.media import limits, stretch
from pysnac.media.codec import CodecError, CodecParams, has_lbrr

_FULL_SCALE = 32768.0


class Decoder(Protocol):
    def decode(self, packet: bytes) -> bytes: ...
    def decode_fec(self, next_packet: bytes) -> bytes: ...
    def conceal(self) -> bytes: ...


class Recovery(StrEnum):
    """How a missing frame is filled; the comparison modes of the bench."""

    SILENCE = "silence"  # zeros (the old hobby design)
    PLC = "plc"  # Opus packet-loss concealment
    FEC = "fec"  # in-band FEC, then PLC
    OURS = "ours"  # redundant copies, then FEC, then PLC


class Put(StrEnum):
    ACCEPTED = "accepted"
    LATE = "late"
    DUPLICATE = "duplicate"


class Source(StrEnum):
    """Where the frame `get` returned came from (for the simulator's accounting)."""

    PRIMARY = "primary"
    REDUNDANT = "redundant"
    FEC = "fec"
    CONCEALED = "concealed"
    SILENCE = "silence"
    BUFFERED = "buffered"  # no frame decoded this tick: a stretched frame's tail played


@dataclass
class JitterStats:
    accepted: int = 0
    late: int = 0
    duplicates: int = 0
    concealed: int = 0
    fec_recovered: int = 0
    redundancy_recovered: int = 0
    dropped_quiet: int = 0
    stretched_quiet: int = 0
    accelerated: int = 0  # speech frames shortened by a pitch period
    expanded: int = 0  # speech frames lengthened by a pitch period
    skipped_gap: int = 0
    resets: int = 0
    undecodable: int = 0


class _Slot:
    __slots__ = ("copy", "opus")

    def __init__(self) -> None:
        self.opus: bytes | None = None
        self.copy: bytes | None = None


class JitterBuffer:
    """Pure: `put` on arrival, `get` once per playout tick; `now` is the receiver's clock."""

    def __init__(
        self, params: CodecParams, decoder: Decoder, recovery: Recovery = Recovery.OURS
    ) -> None:
        self._f = params.frame_s
        self._n = params.frame_samples
        self._rate = float(params.sample_rate)
        self._frame_bytes = params.frame_bytes
        self._silence = bytes(params.frame_bytes)
        self._dec = decoder
        self._recovery = Recovery(recovery)
        quiet_rms = _FULL_SCALE * 10 ** (limits.QUIET_DBFS / 20)
        self._quiet_energy = quiet_rms * quiet_rms * params.frame_samples
        self._max_ahead = round(limits.MAX_BUFFER_S / self._f)
        self.stats = JitterStats()
        self.lookahead_frames = 0  # set by the session: frames loss recovery looks ahead
        self.expect_loss = False  # set by the session: the path is losing packets now
        self.last_source = Source.SILENCE
        self.last_index: int | None = None  # frame index of the last PCM from a packet
        self.produced: list[tuple[int, float]] = []  # this tick: (index, start after now, s)
        self._seed_s = 0.0
        self._reset()

    def _reset(self) -> None:
        self._slots: dict[int, _Slot] = {}
        self._play: int | None = None  # next frame index to play; None before the first
        self._highest = -(1 << 62)
        self._raw: deque[float] = deque(maxlen=limits.DELAY_WINDOW_PACKETS)
        self._seen: set[int] = set()  # frames whose availability was recorded
        self._offset = 0.0  # minimum raw availability delay in the window
        self._jitter_s = limits.START_TARGET_S
        self._since_quantile = 0
        self._quiet_run = limits.QUIET_RUN_FRAMES
        self._concealed_run = 0
        self._fifo = np.zeros(0, dtype=np.int16)  # decoded, not yet played
        self.current_delay_s = 0.0

    # -- arrivals -------------------------------------------------------------------------
    def put(
        self, index: int, opus: bytes, redundant: tuple[tuple[int, bytes], ...], now: float
    ) -> Put:
        """A frame arrived, with (frames back, Opus packet) copies of earlier frames."""
        if self._play is not None and index < self._play:
            self.stats.late += 1
            self._available(index, now)  # too late, but it tells how late packets come
            return Put.LATE
        if self._play is not None and index - self._play > self._max_ahead:
            self.stats.resets += 1  # far ahead: the sender restarted or the clock jumped
            self._reset()
        slot = self._slots.get(index)
        if slot is not None and slot.opus is not None:
            self.stats.duplicates += 1
            return Put.DUPLICATE
        if slot is None:
            slot = self._slots[index] = _Slot()
        slot.opus = opus
        self.stats.accepted += 1
        self._highest = max(self._highest, index)
        self._available(index, now)
        if self._recovery is Recovery.OURS:
            for back, block in redundant:
                older = index - back
                if self._play is not None and older < self._play:
                    continue
                old = self._slots.get(older)
                if old is None:
                    old = self._slots[older] = _Slot()
                if old.opus is None and old.copy is None:
                    old.copy = block
                    self._available(older, now)
        return Put.ACCEPTED

    def _available(self, index: int, now: float) -> None:
        """Frame `index` can be played from `now` on (its packet or a copy came)."""
        if index in self._seen:
            return
        self._seen.add(index)
        if len(self._seen) > 2 * limits.DELAY_WINDOW_PACKETS:
            floor = index - limits.DELAY_WINDOW_PACKETS
            self._seen = {i for i in self._seen if i >= floor}
        raw = now - index * self._f
        self._raw.append(raw)
        self._offset = min(self._offset, raw) if len(self._raw) > 1 else raw
        self._since_quantile += 1
        if self._since_quantile >= limits.QUANTILE_EVERY_PACKETS or len(self._raw) < 8:
            self._since_quantile = 0
            ordered = sorted(self._raw)
            self._offset = ordered[0]
            q = ordered[int(limits.DELAY_QUANTILE * (len(ordered) - 1))]
            self._jitter_s = q - ordered[0]

    @property
    def next_index(self) -> int | None:
        """The frame index the next tick will play (None before playout started)."""
        return self._play

    def seed(self, jitter_s: float) -> None:
        """What the call set-up measured: a floor for the jitter until the window fills."""
        self._seed_s = max(0.0, min(limits.SEED_JITTER_MAX_S, jitter_s))

    @property
    def target_delay_s(self) -> float:
        """How long after its earliest arrival a frame should play (see module docstring)."""
        jitter = self._jitter_s
        if len(self._raw) < limits.SEED_HOLD_PACKETS:
            jitter = max(jitter, self._seed_s)
        needed = max(jitter, self.lookahead_frames * self._f) + limits.TARGET_MARGIN_S
        return max(needed, limits.MIN_TARGET_S)

    # -- playout --------------------------------------------------------------------------
    def get(self, now: float) -> bytes:
        """Exactly one frame of PCM to play, starting at `now`."""
        self.produced = []
        if self._play is None and not self._start(now):
            self.last_source = Source.SILENCE
            return self._silence
        self.last_source = Source.BUFFERED
        while len(self._fifo) < self._n:
            lead_s = len(self._fifo) / self._rate  # decoded samples still to play first
            pcm, source = self._next(now + lead_s)
            if source in _FROM_PACKET and self.last_index is not None:
                self.produced.append((self.last_index, lead_s))
            self._account(pcm, source)
            self._fifo = np.concatenate([self._fifo, np.frombuffer(pcm, dtype="<i2")])
        out, self._fifo = self._fifo[: self._n], self._fifo[self._n :]
        return out.tobytes()

    def _next(self, starts_at: float) -> tuple[bytes, Source]:
        """Decode the frame due to start at `starts_at`, stretched if the delay is off target."""
        assert self._play is not None
        target = self.target_delay_s
        cur = starts_at - (self._offset + self._play * self._f)
        self.current_delay_s = cur
        slot = self._slots.get(self._play)
        if slot is None or (slot.opus is None and slot.copy is None):
            return self._missing(cur)
        if self._recovery is Recovery.SILENCE:
            return self._take()
        if cur < target and self._in_pause:  # too shallow, in a pause: one PLC frame
            self.stats.stretched_quiet += 1
            return self._dec.conceal(), Source.CONCEALED
        if cur > target + self._f * (1 + limits.DROP_HYSTERESIS_FRAMES) and self._in_pause:
            pcm, source = self._take()  # too deep, in a pause: drop a whole quiet frame
            nxt = self._slots.get(self._play)
            if self._quiet(pcm) and nxt is not None and nxt.opus:
                self.stats.dropped_quiet += 1
                return self._take()
            return pcm, source
        pcm, source = self._take()
        samples = np.frombuffer(pcm, dtype="<i2")
        if cur < target - limits.SPEECH_EXPAND_BELOW_S:  # far too shallow in speech: stretch
            longer = stretch.expand(samples, int(self._rate))
            if longer is None:
                return pcm, source
            self.stats.expanded += 1
            return longer.tobytes(), source
        if cur <= target + limits.SPEECH_ACCELERATE_ABOVE_S:
            return pcm, source  # near the target: wait for a pause
        shorter = stretch.accelerate(samples, int(self._rate))
        if shorter is None:
            return pcm, source
        self.stats.accelerated += 1
        return shorter.tobytes(), source

    def _start(self, now: float) -> bool:
        """Pre-buffer: start once the first frame has waited the target delay."""
        if not self._slots:
            return False
        first = min(self._slots)
        if now - (self._offset + first * self._f) < self.target_delay_s:
            return False
        self._play = first
        return True

    def _missing(self, cur: float) -> tuple[bytes, Source]:
        target = self.target_delay_s
        assert self._play is not None
        ahead = self._next_available()
        if ahead is None:
            # Nothing newer: on a path that drops no packets the frame is late, so wait for
            # it (NetEq's expand); on a lossy one it is most likely lost: move on.
            return self._conceal(advance=self.expect_loss)
        if self._recovery in (Recovery.FEC, Recovery.OURS) and ahead == self._play + 1:
            nxt = self._slots[ahead].opus
            if nxt is not None and has_lbrr(nxt):
                try:
                    pcm = self._dec.decode_fec(nxt)
                except CodecError:
                    return self._conceal(advance=True)
                self._slots.pop(self._play, None)
                self.last_index = self._play
                self._play += 1
                self.stats.fec_recovered += 1
                return pcm, Source.FEC
        gap = ahead - self._play
        if gap > limits.MAX_CONCEAL_FRAMES and cur - gap * self._f >= target:
            self.stats.skipped_gap += gap
            for index in range(self._play, ahead):
                self._slots.pop(index, None)
            self._play = ahead
            return self._take()
        return self._conceal(advance=True)

    def _next_available(self) -> int | None:
        assert self._play is not None
        if self._highest <= self._play:
            return None
        for index in range(self._play + 1, self._highest + 1):
            slot = self._slots.get(index)
            if slot is not None and (slot.opus is not None or slot.copy is not None):
                return index
        return None

    def _take(self) -> tuple[bytes, Source]:
        """Decode the frame due now (primary or redundant copy) and advance."""
        assert self._play is not None
        slot = self._slots.pop(self._play)
        self.last_index = self._play
        self._play += 1
        try:
            if slot.opus is not None:
                return self._dec.decode(slot.opus), Source.PRIMARY
            assert slot.copy is not None
            pcm = self._dec.decode(slot.copy)
        except CodecError:  # authenticated but undecodable: conceal, never raise
            self.stats.undecodable += 1
            self.stats.concealed += 1
            return self._dec.conceal(), Source.CONCEALED
        self.stats.redundancy_recovered += 1
        return pcm, Source.REDUNDANT

    def _conceal(self, *, advance: bool) -> tuple[bytes, Source]:
        assert self._play is not None
        if advance:
            self._slots.pop(self._play, None)
            self._play += 1
        self.stats.concealed += 1
        if self._recovery is Recovery.SILENCE or self._concealed_run >= limits.PLC_FADE_FRAMES:
            return self._silence, Source.CONCEALED
        return self._dec.conceal(), Source.CONCEALED

    def _account(self, pcm: bytes, source: Source) -> None:
        self.last_source = source
        self._concealed_run = self._concealed_run + 1 if source is Source.CONCEALED else 0
        self._quiet_run = self._quiet_run + 1 if self._quiet(pcm) else 0

    @property
    def _in_pause(self) -> bool:
        """The last QUIET_RUN_FRAMES frames were quiet: a pause, not a dip in a word."""
        return self._quiet_run >= limits.QUIET_RUN_FRAMES

    def _quiet(self, pcm: bytes) -> bool:
        samples = np.frombuffer(pcm, dtype="<i2").astype(np.float32)
        return float(np.dot(samples, samples)) < self._quiet_energy


_FROM_PACKET = (Source.PRIMARY, Source.REDUNDANT, Source.FEC)
