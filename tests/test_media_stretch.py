"""The time-stretcher on recorded speech: the length changes by one pitch period, the
waveform has no step at the splice or the frame edges, and the speech is kept."""

from __future__ import annotations

import numpy as np
import pytest

from pysnac.media import limits, stretch
from tests.media_helpers import F, clip, energy_dbfs, new_buffer, speech_packets

N = 960
LOW, HIGH = round(stretch.PITCH_MIN_S * 48000), round(stretch.PITCH_MAX_S * 48000)


def voiced_frames() -> list[np.ndarray]:
    """Loud frames of the clip (vowels and voiced consonants)."""
    samples = clip()
    frames = [samples[k * N : (k + 1) * N] for k in range(len(samples) // N)]
    return [f for f in frames if energy_dbfs(f.tobytes()) > -30]


def max_step(x: np.ndarray) -> int:
    return int(np.abs(np.diff(x.astype(np.int64))).max())


def test_a_pure_tone_is_found_at_its_period():
    t = np.arange(N) / 48000
    tone = (8000 * np.sin(2 * np.pi * 200 * t)).astype(np.int16)  # period 240 samples
    lag, match = stretch.best_lag(tone.astype(np.float64))
    assert lag % 240 in (0, 1, 239) and match > 0.99
    shorter, longer = stretch.accelerate(tone), stretch.expand(tone)
    assert len(shorter) == N - lag and len(longer) == N + lag
    # still the same tone, phase-continuous: no step larger than the tone's own
    assert max_step(shorter) <= max_step(tone) + 2 and max_step(longer) <= max_step(tone) + 2


@pytest.mark.parametrize("operation", [stretch.accelerate, stretch.expand])
def test_speech_changes_length_by_one_pitch_period_without_a_step(operation):
    changed = 0
    for frame in voiced_frames():
        out = operation(frame)
        if out is None:
            continue
        changed += 1
        delta = abs(len(out) - N)
        assert LOW <= delta <= HIGH  # one pitch period, as asked
        assert out[0] == frame[0] and out[-1] == frame[-1]  # the edges join their neighbours
        assert max_step(out) <= 1.5 * max_step(frame) + 50  # no discontinuity inside
    assert changed >= len(voiced_frames()) // 2  # voiced speech mostly allows it


def test_speech_is_kept_correlation_with_the_input():
    for frame in voiced_frames():
        for operation in (stretch.accelerate, stretch.expand):
            out = operation(frame)
            if out is None:
                continue
            lag = abs(len(out) - N)
            # Past the splice the output is the input, shifted by the period removed/added.
            tail_out = out[-(N - 2 * lag) :].astype(np.float64)
            tail_in = frame[-(N - 2 * lag) :].astype(np.float64)
            assert np.array_equal(tail_out, tail_in)
            # Over the splice the output still looks like the input (normalised correlation).
            head_out = out[:lag].astype(np.float64)
            head_in = frame[:lag].astype(np.float64)
            corr = np.dot(head_out, head_in) / (
                np.linalg.norm(head_out) * np.linalg.norm(head_in) + 1e-9
            )
            assert corr > 0.6


def test_noise_like_speech_is_left_alone():
    rng = np.random.default_rng(5)
    hiss = rng.normal(0, 6000, N).astype(np.int16)  # a loud fricative: no period
    assert stretch.accelerate(hiss) is None
    quiet = (rng.normal(0, 20, N)).astype(np.int16)  # a pause: stretched whatever the match
    assert stretch.accelerate(quiet) is not None


def test_buffer_grows_by_stretching_speech_not_by_concealing():
    # The target jumps by 30 ms in mid-speech (the far end started sending deeper copies):
    # the buffer lengthens speech by pitch periods until it is there, concealing nothing.
    jb = new_buffer()
    packets = speech_packets()
    for tick in range(170):
        now = 0.007 + tick * F
        if tick == 60:
            jb.lookahead_frames = 4  # 80 ms of lookahead: target 81 ms, the delay is ~45
        jb.put(tick, packets[tick], (), tick * F + 0.010 - F)
        jb.get(now)
    assert jb.stats.concealed == jb.stats.stretched_quiet  # PLC only as padding in pauses
    assert jb.stats.expanded >= 2
    assert jb.current_delay_s >= jb.target_delay_s - limits.SPEECH_EXPAND_BELOW_S - 0.011
