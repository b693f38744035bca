"""Score what a phone heard against what the other phone said: align, then PESQ-WB.

A live call's recording starts when the listener's sound device starts and lags the
talker's clip by the set-up and pipeline delay, so the two are first lined up by the peak
of their cross-correlation (FFT, over the whole recording), then the aligned stretch is
scored with PESQ-WB (ITU-T P.862.2, `pesq` package) at 16 kHz. The lag is reported too:
it is the mouth-to-ear delay of the call minus the difference of the devices' start times.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

PESQ_RATE_HZ = 16000
MIN_SCORED_S = 1.0  # PESQ needs at least this much overlapping speech


@dataclass(frozen=True)
class Score:
    mos: float  # PESQ-WB MOS-LQO, or nan when it could not be scored
    lag_ms: float  # where the reference starts in the recording
    correlation: float  # normalised cross-correlation at that lag, 0..1
    scored_s: float


def load_16k(path: Path) -> np.ndarray:
    """Any WAV as float64 mono samples at 16 kHz (int16 scale)."""
    from drivers.audio.wav_device import load_wav_mono16

    return load_wav_mono16(path, PESQ_RATE_HZ).astype(np.float64)


def find_lag(reference: np.ndarray, recording: np.ndarray) -> tuple[int, float]:
    """The sample offset of `reference` inside `recording`, and the normalised peak. A
    negative offset means the reference began before the recording did (the talker's
    microphone opened before the listener's speaker); at most half the reference."""
    size = 1 << int(np.ceil(np.log2(len(recording) + len(reference))))
    spectrum = np.fft.rfft(recording, size) * np.conj(np.fft.rfft(reference, size))
    corr = np.fft.irfft(spectrum, size)
    ahead = corr[: max(1, len(recording) - len(reference) // 2)]
    before = corr[size - len(reference) // 2 :]  # lags -len(reference)//2 .. -1
    lags = np.concatenate([np.arange(-len(before), 0), np.arange(len(ahead))])
    lag = int(lags[int(np.argmax(np.concatenate([before, ahead])))])
    segment, ref = _overlap(reference, recording, lag)
    denom = float(np.linalg.norm(segment) * np.linalg.norm(ref)) or 1.0
    return lag, float(np.dot(segment, ref)) / denom


def _overlap(
    reference: np.ndarray, recording: np.ndarray, lag: int
) -> tuple[np.ndarray, np.ndarray]:
    """The stretch of `recording` and of `reference` that line up at `lag`."""
    if lag < 0:
        reference = reference[-lag:]
        lag = 0
    segment = recording[lag : lag + len(reference)]
    return segment, reference[: len(segment)]


def score_files(reference_wav: Path, recording_wav: Path) -> Score:
    return score(load_16k(reference_wav), load_16k(recording_wav))


def score_call(talker_wav: Path, recording_wav: Path) -> Score:
    """The whole call: `talker_wav` is everything the talker said (longer than the call),
    `recording_wav` what the listener played from its device's start to the hang-up. The
    talker's speech is cut to the recording's length, found in it, and scored from there
    to the end: from the first frame, start-up, losses and outages included."""
    recording = load_16k(recording_wav)
    return score(load_16k(talker_wav)[: len(recording)], recording)


def score(reference: np.ndarray, recording: np.ndarray) -> Score:
    from pesq import pesq
    from pesq.cypesq import PesqError

    lag, correlation = find_lag(reference, recording)
    segment, ref = _overlap(reference, recording, lag)
    scored_s = len(segment) / PESQ_RATE_HZ
    lag_ms = 1000.0 * lag / PESQ_RATE_HZ
    if scored_s < MIN_SCORED_S:
        return Score(float("nan"), lag_ms, correlation, scored_s)
    try:
        mos = float(pesq(PESQ_RATE_HZ, ref, segment, "wb"))
    except (PesqError, ValueError):
        mos = float("nan")  # e.g. no utterance found: silence was all that arrived
    return Score(mos, lag_ms, correlation, scored_s)
