"""One call's media: capture PCM -> media payloads, and media payloads -> playout PCM.

`MediaSession` joins the encoder, the redundancy policy, the frame format, the receiver's
loss measurement and the jitter buffer. It is pure (no threads, no clock: `now` comes in)
and not thread-safe: the call layer holds one lock around it. Each call is O(1).

Loss measurement: a LOSS_WINDOW_PACKETS-bit mask over the latest sequence numbers (the
RFC 6479 window shape); the fraction of zero bits is the loss we report to the far sender
in every frame. Packets the jitter buffer found late are cleared from the mask, since for
the listener a late packet is a lost one and redundancy repairs both.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, replace

from pysnac.media import frames, limits, link_score
from pysnac.media.codec import CodecParams, OpusDecoder, OpusEncoder
from pysnac.media.frames import MalformedFrame, MediaFrame
from pysnac.media.jitter import JitterBuffer, Put, Recovery
from pysnac.media.redundancy import RedundancyPolicy

__all__ = ["MalformedFrame", "MediaSession", "MediaStats", "Recovery"]

_WINDOW_MASK = (1 << limits.LOSS_WINDOW_PACKETS) - 1
_DTX_MAX_PACKET_BYTES = 2  # libopus DTX: packets of 1-2 bytes need not be sent


@dataclass(frozen=True)
class MediaStats:
    received: int
    lost: int
    late: int
    duplicates: int
    concealed: int
    fec_recovered: int
    redundancy_recovered: int
    current_delay_ms: float
    target_delay_ms: float
    frames_sent: int
    bytes_sent: int
    loss_percent_local: float
    loss_percent_remote: float
    malformed: int = 0
    dropped_quiet: int = 0
    stretched_quiet: int = 0
    redundant_frames_sending: int = 0
    fec_hint_percent: int = 0
    accelerated: int = 0  # speech frames shortened by a pitch period
    expanded: int = 0  # speech frames lengthened by a pitch period
    # The link score (link_score.py): E-model R and MOS of what this phone hears (rx) and
    # of what the far end hears, as it reported (tx; -1 until a report came), the bars
    # (the worse direction), and whether no packet has come for LINK_OUTAGE_S.
    link_r_rx: float = -1.0
    link_r_tx: float = -1.0
    link_mos_rx: float = -1.0
    link_mos_tx: float = -1.0
    link_bars: int = 0
    link_outage: bool = False


def _unwrap(value: int, last: int, modulo: int) -> int:
    """The unwrapped value nearest `last` whose residue is `value` (RFC 3550 A.1 idea)."""
    delta = (value - last) % modulo
    if delta >= modulo // 2:
        delta -= modulo
    return last + delta


def _copy_params(params: CodecParams) -> CodecParams:
    """The redundant copies' encoder: a lower bitrate, no FEC of its own."""
    bitrate = min(params.bitrate, limits.COPY_BITRATE_BPS)
    return replace(params, bitrate=bitrate, fec=False, dtx=False)


class MediaSession:
    def __init__(
        self,
        params: CodecParams | None = None,
        recovery: Recovery = Recovery.OURS,
        rtt_s: float | None = None,
    ):
        """`rtt_s`: the round trip the call set-up measured, which seeds the jitter buffer."""
        self.params = params = params or CodecParams()
        self.recovery = Recovery(recovery)
        fec = params.fec and self.recovery in (Recovery.FEC, Recovery.OURS)
        self._encoder = OpusEncoder(params)
        self._policy = RedundancyPolicy(redundancy=self.recovery is Recovery.OURS, fec=fec)
        self._jb = JitterBuffer(params, OpusDecoder(params), self.recovery)
        if rtt_s is not None:
            self._jb.seed(limits.SEED_JITTER_PER_RTT * rtt_s)
        self._n = params.frame_samples
        # sending
        self._index = 0
        self._seq = 0
        self._history: deque[tuple[int, bytes]] = deque(maxlen=limits.MAX_REDUNDANT_BACK_FRAMES)
        self._frames_sent = 0
        self._bytes_sent = 0
        self._protection_level = 0
        self._copy_encoder: OpusEncoder | None = None  # the copies' own, lower-rate encoder
        # receiving
        self._top_seq: int | None = None
        self._first_seq = 0
        self._mask = 0  # seqs received (in time or not)
        self._late_mask = 0  # seqs that came after their frame was played
        self._unique = 0
        self._last_ts = 0
        self._remote_loss = 0.0
        self._remote_burst = 0.0
        self._malformed = 0
        self._duplicates = 0
        self._late_outside_window = 0
        # link score
        self._rtt_s = rtt_s
        self._last_arrival: float | None = None
        self._first_tick: float | None = None
        self._last_tick: float | None = None
        self._concealed_ema = 0.0  # fraction of played frames concealed
        self._recovered_ema = 0.0  # fraction rebuilt from copies or FEC
        self._counted = (0, 0)  # jitter-buffer counters at the previous tick
        self._remote_r: float | None = None

    # -- sending --------------------------------------------------------------------------
    def outgoing(self, pcm: bytes, now: float) -> bytes | None:
        """Encode one captured frame; the payload to encrypt and send, or None (DTX)."""
        protection = self._policy.update(self._remote_loss, now, self._remote_burst)
        self._protection_level = len(protection.offsets)
        self._encoder.set_loss_hint(protection.fec_hint_percent)
        copy = None
        if protection.offsets:
            self._encoder.set_bitrate(min(self.params.bitrate, limits.PROTECTED_BITRATE_BPS))
            if self._copy_encoder is None:
                self._copy_encoder = OpusEncoder(_copy_params(self.params))
            copy = self._copy_encoder.encode(pcm)
        else:
            self._encoder.set_bitrate(self.params.bitrate)
            self._copy_encoder = None
        opus = self._encoder.encode(pcm)
        index = self._index
        self._index += 1
        if self.params.dtx and len(opus) <= _DTX_MAX_PACKET_BYTES:
            self._history.clear()  # no redundancy across a gap
            return None
        redundant = tuple(
            (index - old_index, old_opus)
            for old_index, old_opus in self._history
            if index - old_index in protection.offsets
        )
        self._history.append((index, copy or opus))
        frame = MediaFrame(
            seq=self._seq,
            timestamp=index * self._n,
            loss_report=round(self.loss_fraction_local * limits.LOSS_REPORT_SCALE),
            opus=opus,
            redundant=redundant,
            burst_report=min(255, round(self.mean_burst_local * limits.BURST_REPORT_SCALE)),
            score_report=link_score.encode_report(self._rx_r()),
        )
        self._seq += 1
        payload = frame.encode()
        self._frames_sent += 1
        self._bytes_sent += len(payload)
        return payload

    # -- receiving ------------------------------------------------------------------------
    def incoming(self, payload: bytes, now: float) -> None:
        """A decrypted media payload arrived. Malformed: raise MalformedFrame, change nothing."""
        try:
            frame = frames.parse(payload)
            if frame.timestamp % self._n:
                raise MalformedFrame(f"timestamp {frame.timestamp} is not on a frame boundary")
        except MalformedFrame:
            self._malformed += 1
            raise
        bit = self._mark_seq(frame.seq)
        if bit is None:
            return
        if self._top_seq is not None and self._unique == 1:
            self._last_ts = frame.timestamp
        ts = _unwrap(frame.timestamp, self._last_ts, limits.TIMESTAMP_MODULO)
        self._last_ts = max(self._last_ts, ts)
        self._remote_loss = frame.loss_report / limits.LOSS_REPORT_SCALE
        self._remote_r = link_score.decode_report(frame.score_report)
        self._last_arrival = now
        self._remote_burst = frame.burst_report / limits.BURST_REPORT_SCALE
        result = self._jb.put(ts // self._n, frame.opus, frame.redundant, now)
        if result is Put.LATE:
            self._late_mask |= bit  # late is lost for the listener: report it
        elif result is Put.DUPLICATE:
            self._duplicates += 1
        if self.recovery is Recovery.OURS or self.recovery is Recovery.FEC:
            expected = self._expected_mask()
            lossy = (self._mask & ~self._late_mask) != expected
            deepest = max((back for back, _ in frame.redundant), default=1)
            self._jb.lookahead_frames = deepest if lossy else 0
            self._jb.expect_loss = self._mask != expected  # the network drops packets

    def _mark_seq(self, seq: int) -> int | None:
        """Record a sequence number; its bit in the mask, or None for a duplicate/too old."""
        if self._top_seq is None:
            self._top_seq = self._first_seq = seq
            self._mask = 1
            self._late_mask = 0
            self._unique = 1
            return 1
        top = _unwrap(seq, self._top_seq, limits.SEQ_MODULO)
        shift = top - self._top_seq
        if shift > 0:
            self._mask = ((self._mask << shift) | 1) & _WINDOW_MASK
            self._late_mask = (self._late_mask << shift) & _WINDOW_MASK
            self._top_seq = top
            self._unique += 1
            return 1
        if -shift >= limits.LOSS_WINDOW_PACKETS:
            self._late_outside_window += 1
            return None
        bit = 1 << -shift
        if self._mask & bit:
            self._duplicates += 1
            return None
        self._mask |= bit
        self._unique += 1
        return bit

    def _expected_mask(self) -> int:
        if self._top_seq is None:
            return 0
        span = min(limits.LOSS_WINDOW_PACKETS, self._top_seq - self._first_seq + 1)
        return (1 << span) - 1

    @property
    def loss_fraction_local(self) -> float:
        """Fraction of the last LOSS_WINDOW_PACKETS sequence numbers not received in time."""
        expected = self._expected_mask()
        if not expected:
            return 0.0
        span = expected.bit_length()
        return 1.0 - (self._mask & ~self._late_mask & expected).bit_count() / span

    @property
    def mean_burst_local(self) -> float:
        """Mean length of the runs of packets the network lost in the window (0 when none).

        Late packets, and the newest BURST_GUARD_PACKETS (perhaps still on their way), are
        left out: a cluster of them is jitter, which the buffer's target covers, and must
        not switch the sender to the deep copies meant for loss bursts."""
        expected = self._expected_mask() & ~((1 << limits.BURST_GUARD_PACKETS) - 1)
        missing = ~self._mask & expected
        if not missing:
            return 0.0
        runs = (missing & ~(missing << 1)).bit_count()
        return missing.bit_count() / runs

    def playout(self, now: float) -> bytes:
        """The next frame to play: decoded, recovered, concealed, or silence."""
        pcm = self._jb.get(now)
        if self._first_tick is None:
            self._first_tick = now
        self._last_tick = now
        silent_s = 0.0 if self._last_arrival is None else now - self._last_arrival
        gap = silent_s > limits.MAX_CONCEAL_FRAMES * self.params.frame_s
        jb = self._jb.stats
        if gap:  # a gap is an outage (shown as one), not loss: keep it out of the score
            self._counted = (jb.concealed, jb.redundancy_recovered + jb.fec_recovered)
        elif self._jb.next_index is not None:
            concealed, recovered = jb.concealed, jb.redundancy_recovered + jb.fec_recovered
            new_c, new_r = concealed - self._counted[0], recovered - self._counted[1]
            self._counted = (concealed, recovered)
            frames = max(1, len(self._jb.produced) + new_c)
            alpha = 1.0 / limits.LINK_WINDOW_FRAMES
            self._concealed_ema += alpha * (min(1.0, new_c / frames) - self._concealed_ema)
            self._recovered_ema += alpha * (min(1.0, new_r / frames) - self._recovered_ema)
        return pcm

    @property
    def link_outage(self) -> bool:
        """No packet for LINK_OUTAGE_S of playout (or since playout began)."""
        if self._last_tick is None:
            return False
        since = self._last_arrival if self._last_arrival is not None else self._first_tick
        assert since is not None
        return self._last_tick - since > limits.LINK_OUTAGE_S

    def _rx_r(self) -> float | None:
        """The E-model rating of what this phone hears (None before it has played any)."""
        if self._jb.next_index is None:
            return None
        one_way_ms = 0.0 if self._rtt_s is None else 500.0 * self._rtt_s
        mouth_to_ear = self.mouth_to_ear_hint_ms + one_way_ms + self.params.frame_ms
        return link_score.r_factor(
            self._concealed_ema,
            self._recovered_ema,
            self.mean_burst_local,
            self.loss_fraction_local,
            mouth_to_ear,
        )

    def link(self) -> tuple[link_score.LinkScore | None, link_score.LinkScore | None]:
        """(what this phone hears, what the far end hears), None where not known yet."""
        outage = self.link_outage
        rx_r = self._rx_r()
        rx = None if rx_r is None and not outage else link_score.score(rx_r or 0.0, outage=outage)
        tx = None
        if outage or self._remote_r is not None:
            tx = link_score.score(self._remote_r or 0.0, outage=outage)
        return rx, tx

    @property
    def jitter_buffer(self) -> JitterBuffer:
        return self._jb

    @property
    def mouth_to_ear_hint_ms(self) -> float:
        """Jitter-buffer delay plus codec lookahead (network and sound card not included)."""
        return 1000.0 * self._jb.current_delay_s + 1000.0 * limits.OPUS_LOOKAHEAD_SAMPLES / (
            self.params.sample_rate
        )

    def stats(self) -> MediaStats:
        jb = self._jb.stats
        expected = 0 if self._top_seq is None else self._top_seq - self._first_seq + 1
        return MediaStats(
            received=self._unique,
            lost=max(0, expected - self._unique),
            late=jb.late + self._late_outside_window,
            duplicates=self._duplicates + jb.duplicates,
            concealed=jb.concealed,
            fec_recovered=jb.fec_recovered,
            redundancy_recovered=jb.redundancy_recovered,
            current_delay_ms=1000.0 * self._jb.current_delay_s,
            target_delay_ms=1000.0 * self._jb.target_delay_s,
            frames_sent=self._frames_sent,
            bytes_sent=self._bytes_sent,
            loss_percent_local=100.0 * self.loss_fraction_local,
            loss_percent_remote=100.0 * self._remote_loss,
            malformed=self._malformed,
            dropped_quiet=jb.dropped_quiet,
            stretched_quiet=jb.stretched_quiet,
            redundant_frames_sending=self._protection_level,
            fec_hint_percent=self._encoder.loss_hint_percent,
            accelerated=jb.accelerated,
            expanded=jb.expanded,
            **self._link_fields(),
        )

    def _link_fields(self) -> dict[str, float | int | bool]:
        rx, tx = self.link()
        known = [s for s in (rx, tx) if s is not None]
        return {
            "link_r_rx": -1.0 if rx is None else round(rx.r, 1),
            "link_r_tx": -1.0 if tx is None else round(tx.r, 1),
            "link_mos_rx": -1.0 if rx is None else round(rx.mos, 2),
            "link_mos_tx": -1.0 if tx is None else round(tx.mos, 2),
            "link_bars": min((s.bars for s in known), default=0),
            "link_outage": self.link_outage,
        }
