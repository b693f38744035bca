"""The offline call simulator: two real media sessions, a seeded network, a simulated clock.

Phone A speaks the clip into its `MediaSession`; each payload crosses a `Network` (loss,
delay, jitter, hence reordering) to phone B, whose playout ticks run on B's own clock (an
unrelated offset, a random tick phase and `drift_ppm` of rate error). B talks back over a
second seeded network (silence that carries its loss reports to A's redundancy policy, or
with `both_ways` the clip too, scored at A as the result's `reverse`); each phone captures
and plays one frame per tick of its own clock. Events run in true-time order from a heap, so
a 10-second call takes well under a second. The clip is played `passes` times back to back
and the call is scored as a user hears it, from its first frame: B's whole output is time-
aligned to the whole talk by cross-correlation and scored with PESQ-WB (ITU-T P.862.2) at 16
kHz; so are its first FIRST_SCORED_S (the start-up) and, labelled "settled", its last pass
alone (after the redundancy and the jitter buffer have settled). B's jitter buffer is
seeded, as a live call's is, with a round trip drawn from the path's delay model (the
handshake's). Mouth-to-ear delay is measured per played frame: from the capture of its first
sample to the tick that plays it, plus the codec lookahead (sound-card buffers excluded).
Wire bitrate counts the media payload plus the secure channel's 29 header bytes per packet
(type 1, session index 4, counter 8, tag 16).
"""

from __future__ import annotations

import heapq
import random
from dataclasses import dataclass, field

import numpy as np

from demo.netsim import MIN_DELAY_S, Network, NetworkParams
from pysnac.media import limits
from pysnac.media.codec import CodecParams
from pysnac.media.jitter import Recovery
from pysnac.media.session import MediaSession, MediaStats

PASSES = 2  # clip passes per call: the last one is the settled part
FIRST_SCORED_S = 6.0  # the start-up is scored on its own over this long
CHANNEL_HEADER_BYTES = 1 + 4 + 8 + 16  # secure-channel bytes around each media payload
TAIL_S = 0.6  # keep ticking after the last capture so the buffer drains
MAX_ALIGN_S = 1.5  # search the output this far for the clip (delay + buffer)
PESQ_RATE_HZ = 16000
CLOCK_OFFSET_MAX_S = 10000.0  # the phones' monotonic clocks start anywhere
_TICK = 2  # event kinds: 0, 1 arrival at phone 0 or 1; 2, 3 tick of phone 0 or 1


@dataclass(frozen=True)
class SimConfig:
    network: NetworkParams = field(default_factory=NetworkParams)
    drift_ppm: float = 0.0  # B's clock rate error against A's
    recovery: Recovery = Recovery.OURS
    codec: CodecParams = field(default_factory=CodecParams)
    passes: int = PASSES
    both_ways: bool = False  # B talks the clip back at the same time (else silence)


@dataclass
class SeedResult:
    seed: int
    mos: float  # the whole call, from its first frame
    mos_first: float  # its first FIRST_SCORED_S (or the whole, if shorter)
    mos_settled: float  # the last pass only
    delays_ms: np.ndarray
    stats: MediaStats
    wire_kbps: float
    output: np.ndarray
    reverse: SeedResult | None = None  # B -> A, when both talk


class _Phone:
    """One simulated phone: its session, its own clock and playout ticks, what it heard."""

    def __init__(
        self, session: MediaSession, clock0: float, rate: float, phase: float, f: float
    ) -> None:
        self.session = session
        self.clock0 = clock0
        self.rate = rate  # its clock's rate against true time
        self.phase = phase  # true time of its first tick
        self.period = f / rate  # its tick period in true seconds
        self.out: list[bytes] = []
        self.delays: list[float] = []
        self.wire_bytes = 0
        self.end_stats: MediaStats | None = None

    def now(self, t: float) -> float:
        return self.clock0 + t * self.rate

    def tick_time(self, k: int) -> float:
        """True time of tick k; frame k is captured from tick k - 1 to tick k."""
        return self.phase + k * self.period


def run_seed(clip: np.ndarray, config: SimConfig, seed: int) -> SeedResult:
    """Simulate one call carrying `clip` (int16 48 kHz mono) and score it.

    A talks the clip to B; with `config.both_ways` B talks it back at the same time (the
    result's `reverse`), else B sends silence that carries its loss reports."""
    params = config.codec
    n, f = params.frame_samples, params.frame_s
    whole = np.tile(clip[: len(clip) // n * n], config.passes)
    frames_total = len(whole) // n
    scored_from = frames_total - len(clip) // n
    rng = random.Random(seed * 7919 + 17)
    net = config.network
    rtt_s = max(2 * MIN_DELAY_S, 2 * net.delay_s + rng.gauss(0.0, net.jitter_s * 2**0.5))
    sessions = [MediaSession(params, config.recovery, rtt_s=rtt_s) for _ in range(2)]
    clocks = [rng.uniform(0, CLOCK_OFFSET_MAX_S) for _ in range(2)]
    rates = [1.0, 1.0 + config.drift_ppm * 1e-6]
    phases = [f, f + rng.uniform(0, f)]
    phones = [_Phone(sessions[i], clocks[i], rates[i], phases[i], f) for i in range(2)]
    networks = [Network(config.network, seed=seed * 2), Network(config.network, seed=seed * 2 + 1)]
    talks = [whole, whole if config.both_ways else None]
    silence = bytes(params.frame_bytes)
    lookahead_s = limits.OPUS_LOOKAHEAD_SAMPLES / params.sample_rate
    end = frames_total * f + TAIL_S
    events: list[tuple[float, int, int, object]] = []
    order = 0

    def push(t: float, kind: int, data: object) -> None:
        nonlocal order
        heapq.heappush(events, (t, kind, order, data))
        order += 1

    for i, phone in enumerate(phones):
        push(phone.tick_time(1), _TICK + i, 1)
    while events:
        t, kind, _, data = heapq.heappop(events)
        if kind < _TICK:  # an arrival at phone `kind`
            phone = phones[kind]
            phone.session.incoming(data, phone.now(t))
            continue
        i, k = kind - _TICK, int(data)
        me, other = phones[i], phones[1 - i]
        now = me.now(t)
        me.out.append(me.session.playout(now))
        for index, start_s in me.session.jitter_buffer.produced:  # capture -> play
            captured = other.tick_time(index)  # the talker's frame `index` began here
            me.delays.append(t + start_s / me.rate - captured + lookahead_s)
            if index == frames_total - 1:  # the talk has been played: count no further
                me.end_stats = me.session.stats()
        talk = talks[i]
        frame = k - 1  # the frame captured since the previous tick
        if talk is not None and frame < frames_total:
            pcm = talk[frame * n : (frame + 1) * n].tobytes()
        else:
            pcm = silence
        payload = me.session.outgoing(pcm, now)
        if payload is not None:
            if frame < frames_total:
                me.wire_bytes += len(payload) + CHANNEL_HEADER_BYTES
            arrival = networks[i].send(t)
            if arrival is not None:
                push(arrival, 1 - i, payload)
        if me.tick_time(k + 1) < end:
            push(me.tick_time(k + 1), kind, k + 1)

    def direction(talker: _Phone, listener: _Phone) -> SeedResult:
        output = np.frombuffer(b"".join(listener.out), dtype="<i2")
        first = whole[: min(len(whole), round(FIRST_SCORED_S * params.sample_rate))]
        settled_at = round(scored_from * n * listener.rate)  # samples before the last pass
        settled = whole[scored_from * n :]
        return SeedResult(
            seed=seed,
            mos=pesq_wb(whole, align(whole, output)),
            mos_first=pesq_wb(first, align(first, output)),
            mos_settled=pesq_wb(settled, align(settled, output[settled_at:])),
            delays_ms=1000.0 * np.asarray(listener.delays),
            stats=listener.end_stats or listener.session.stats(),
            wire_kbps=talker.wire_bytes * 8 / (frames_total * f) / 1000.0,
            output=output,
        )

    result = direction(phones[0], phones[1])
    if config.both_ways:
        result.reverse = direction(phones[1], phones[0])
    return result


def align(reference: np.ndarray, output: np.ndarray) -> np.ndarray:
    """The stretch of `output` that lines up with `reference` (cross-correlation peak)."""
    max_lag = int(MAX_ALIGN_S * limits.SAMPLE_RATE_HZ)
    span = output[: len(reference) + max_lag].astype(np.float64)
    if len(span) < len(reference) + max_lag:
        span = np.pad(span, (0, len(reference) + max_lag - len(span)))
    ref = reference.astype(np.float64)
    size = 1 << int(np.ceil(np.log2(len(span) + len(ref))))
    corr = np.fft.irfft(np.fft.rfft(span, size) * np.conj(np.fft.rfft(ref, size)), size)
    lag = int(np.argmax(corr[: max_lag + 1]))
    return span[lag : lag + len(reference)].astype(np.int16)


def pesq_wb(reference: np.ndarray, degraded: np.ndarray) -> float:
    """PESQ-WB MOS-LQO (ITU-T P.862.2) after resampling 48 kHz -> 16 kHz."""
    from pesq import pesq

    from drivers.audio.wavfile import resample_poly

    ref = resample_poly(reference.astype(np.float64), 1, 3)
    deg = resample_poly(degraded.astype(np.float64), 1, 3)
    return float(pesq(PESQ_RATE_HZ, ref, deg, "wb"))


@dataclass(frozen=True)
class Summary:
    mos_mean: float  # whole calls, from the first frame
    mos_std: float
    mos_first_mean: float  # their first FIRST_SCORED_S
    mos_settled_mean: float  # their last pass
    delay_ms_p50: float
    delay_ms_p95: float
    wire_kbps: float
    seeds: int
    late: int
    concealed: int
    fec_recovered: int
    redundancy_recovered: int
    lost: int
    mos: tuple[float, ...]

    def as_dict(self) -> dict[str, object]:
        return {
            "mos_mean": round(self.mos_mean, 3),
            "mos_std": round(self.mos_std, 3),
            "mos_first_mean": round(self.mos_first_mean, 3),
            "mos_settled_mean": round(self.mos_settled_mean, 3),
            "delay_ms_p50": round(self.delay_ms_p50, 1),
            "delay_ms_p95": round(self.delay_ms_p95, 1),
            "wire_kbps": round(self.wire_kbps, 1),
            "seeds": self.seeds,
            "lost": self.lost,
            "late": self.late,
            "concealed": self.concealed,
            "fec_recovered": self.fec_recovered,
            "redundancy_recovered": self.redundancy_recovered,
        }


def run(clip: np.ndarray, config: SimConfig, seeds: int, first_seed: int = 1) -> Summary:
    results = [run_seed(clip, config, s) for s in range(first_seed, first_seed + seeds)]
    return summarise(results)


def summarise(results: list[SeedResult]) -> Summary:
    mos = np.array([r.mos for r in results])
    delays = np.concatenate([r.delays_ms for r in results]) if results else np.zeros(1)
    if delays.size == 0:
        delays = np.array([float("nan")])
    total = {
        key: sum(getattr(r.stats, key) for r in results)
        for key in ("late", "concealed", "fec_recovered", "redundancy_recovered", "lost")
    }
    return Summary(
        mos_mean=float(mos.mean()),
        mos_std=float(mos.std()),
        mos_first_mean=float(np.mean([r.mos_first for r in results])),
        mos_settled_mean=float(np.mean([r.mos_settled for r in results])),
        delay_ms_p50=float(np.percentile(delays, 50)),
        delay_ms_p95=float(np.percentile(delays, 95)),
        wire_kbps=float(np.mean([r.wire_kbps for r in results])),
        seeds=len(results),
        mos=tuple(float(m) for m in mos),
        **total,
    )
