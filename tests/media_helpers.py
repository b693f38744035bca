"""Shared helpers for the media tests: the speech clip, encoded once, and a trace player."""

from __future__ import annotations

import functools
from pathlib import Path

import numpy as np

from pysnac.media.codec import CodecParams, OpusDecoder, OpusEncoder
from pysnac.media.jitter import JitterBuffer, Recovery

SPEECH = Path(__file__).resolve().parent / "data" / "speech" / "arctic_a0007.wav"
PARAMS = CodecParams()
F = PARAMS.frame_s


@functools.cache
def clip() -> np.ndarray:
    from demo.wavio import read_wav_48k

    return read_wav_48k(SPEECH)


@functools.cache
def speech_packets(loss_hint: int = 0) -> tuple[bytes, ...]:
    """The clip as Opus packets (200 frames of 20 ms), encoded once per hint."""
    encoder = OpusEncoder(PARAMS)
    encoder.set_loss_hint(loss_hint)
    samples = clip()
    n = PARAMS.frame_samples
    return tuple(
        encoder.encode(samples[i * n : (i + 1) * n].tobytes()) for i in range(len(samples) // n)
    )


def new_buffer(recovery: Recovery = Recovery.OURS) -> JitterBuffer:
    return JitterBuffer(PARAMS, OpusDecoder(PARAMS), recovery)


def play(
    jb: JitterBuffer,
    arrivals: list[tuple[float, int]],
    ticks: int,
    *,
    packets: tuple[bytes, ...] | None = None,
    offsets: tuple[int, ...] = (),
    phase_s: float = 0.007,
    period_s: float = F,
) -> list[tuple[str, int | None, bytes]]:
    """Feed (arrival time, frame index) events and tick every `period_s`; return per tick
    (source, index played or None, pcm). Arrivals at a tick's instant come first. Stops
    after the last frame that arrived has been played."""
    packets = packets or speech_packets()
    events = sorted(arrivals)
    last = max(index for _, index in events)
    out = []
    k = 0
    for tick in range(ticks):
        now = phase_s + tick * period_s
        while k < len(events) and events[k][0] <= now:
            t, index = events[k]
            redundant = tuple(
                (b, packets[(index - b) % len(packets)]) for b in offsets if index - b >= 0
            )
            jb.put(index, packets[index % len(packets)], redundant, t)
            k += 1
        pcm = jb.get(now)
        index = jb.produced[-1][0] if jb.produced else None
        out.append((jb.last_source.value, index, pcm))
        if index == last:
            break
    return out


def energy_dbfs(pcm: bytes) -> float:
    x = np.frombuffer(pcm, dtype="<i2").astype(np.float64)
    return 10 * np.log10(np.mean(x * x) / 32768.0**2 + 1e-12)
